"""Running sweeps: the store, kill -9 and resume, failed points, local == dask == shards, analysis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest

from sim.sweep.executors import FAULT_ENV, run_sweep
from sim.sweep.spec import load_sweep
from sim.sweep.store import Store

from .sweep_helpers import ROOT, rows_without_time, run_cli, write_sweep


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory):
    return write_sweep(tmp_path_factory.mktemp("sweepfile"))


@pytest.fixture(scope="module")
def reference(sweep_file, tmp_path_factory):
    """The tiny grid sweep (6 points x 2 seeds) run once, uninterrupted, with the local pool."""
    out = tmp_path_factory.mktemp("ref") / "sweep"
    rep = run_sweep(load_sweep(sweep_file), out, executor="local", workers=2, progress=False)
    assert rep.ran == 12 and rep.ok == 12 and rep.failed == 0
    return out, pq.read_table(out / "results.parquet")


def test_results_table(reference, sweep_file):
    out, table = reference
    sw = load_sweep(sweep_file)
    assert table.num_rows == 12
    assert table.column("point_id").to_pylist() == sorted(r.point_id for r in sw.runs())
    for col in ("index", "design_index", "seed", "status", "error", "policy.area_c_charge_eur",
                "remote_days.preferred_days", "car_vkm", "co2_net_t", "mean_stress", "modal_split.car", "wall_s"):
        assert col in table.column_names
    assert set(table.column("status").to_pylist()) == {"ok"}
    assert all(w > 0 for w in table.column("wall_s").to_pylist())
    # the store holds one Parquet file for the whole session, no journal left
    parts = sorted(p.name for p in (out / "parts").iterdir())
    assert len(parts) == 1 and parts[0].endswith(".parquet")
    assert (out / "results.csv").is_file()


def test_point_result_depends_only_on_parameters_and_seed(reference):
    """Each row equals a direct simulation of its scenario (base + parameters, seed)."""
    from sim.outputs.replications import flatten_kpis
    from sim.runner import simulate
    from sim.sweep.spec import build_scenario
    out, table = reference
    sw = load_sweep(Store(out).meta()["file"])
    row = table.to_pylist()[5]
    params = {p.path: row[p.path] for p in sw.spec.parameters}
    _, summary = simulate(build_scenario(sw.base, params, seed=row["seed"]), counterfactual=False)
    kpis = flatten_kpis(summary)
    assert row["car_vkm"] == kpis["car_vkm"] and row["mean_stress"] == kpis["mean_stress"]


def test_rerun_runs_nothing(reference, sweep_file):
    out, table = reference
    proc = run_cli("sweep", str(sweep_file), "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "12 already done, 0 run now" in proc.stdout
    assert rows_without_time(pq.read_table(out / "results.parquet")) == rows_without_time(table)


@pytest.mark.slow  # ~40-70 s on 2 loaded cores; `make test-slow`
def test_local_dask_and_shards_give_the_same_table(reference, sweep_file, tmp_path):
    _, table = reference
    sw = load_sweep(sweep_file)
    # dask: a LocalCluster on 127.0.0.1 with two worker processes
    distributed = pytest.importorskip("distributed", reason="dask.distributed not installed: pip install -e '.[cluster]'")
    LocalCluster = distributed.LocalCluster
    cluster = LocalCluster(host="127.0.0.1", n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    try:
        rep = run_sweep(sw, tmp_path / "dask", executor="dask", scheduler=cluster.scheduler_address, progress=False)
    finally:
        cluster.close()
    assert rep.ok == 12
    assert rows_without_time(pq.read_table(tmp_path / "dask" / "results.parquet")) == rows_without_time(table)
    # shards: three processes, each its share, then collect
    shard_out = tmp_path / "shards"
    procs = [subprocess.Popen([sys.executable, str(ROOT / "run.py"), "sweep", str(sweep_file), "--shard", f"{i}/3",
                               "--out", str(shard_out), "--workers", "1", "--quiet"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(3)]
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
        assert "4 runs in this shard" in stdout
    assert not (shard_out / "results.parquet").exists()
    assert len(list((shard_out / "parts").glob("shard*.parquet"))) == 3
    proc = run_cli("sweep", "collect", str(shard_out))
    assert proc.returncode == 0 and "collected 12 of 12 runs (12 ok, 0 failed)" in proc.stdout
    assert rows_without_time(pq.read_table(shard_out / "results.parquet")) == rows_without_time(table)


@pytest.mark.slow  # ~40-70 s on 2 loaded cores; `make test-slow`
def test_kill_9_and_resume_gives_the_identical_table(reference, sweep_file, tmp_path):
    _, table = reference
    out = tmp_path / "killed"
    cmd = [sys.executable, str(ROOT / "run.py"), "sweep", str(sweep_file), "--out", str(out), "--workers", "1",
           "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    done = 0
    try:
        while time.time() < deadline and proc.poll() is None:
            done = len(Store(out).status()) if (out / "parts").is_dir() else 0
            if done >= 3:
                break
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its worker processes, mid-sweep
        proc.wait()
    assert 3 <= done < 12, f"expected to kill mid-sweep, {done} runs done"
    assert not (out / "results.parquet").exists()
    journals = list((out / "parts").glob("*.arrows"))
    assert journals, "the killed session's journal is left behind"
    # a torn tail (a batch half-written when killed) must not hide the complete ones
    with open(journals[0], "ab") as fh:
        fh.write(b"\xff\xff\xff\xff\x10\x01\x00\x00garbage")
    # a torn Parquet file (e.g. copied in half) is detected and ignored
    (out / "parts" / "torn-0.parquet").write_bytes(b"PAR1\x00\x00\x00")
    before = len(Store(out).status())
    assert before >= done
    res = run_cli("sweep", str(sweep_file), "--out", str(out), "--workers", "2", "--quiet")
    assert res.returncode == 0, res.stderr
    assert f"{before} already done, {12 - before} run now" in res.stdout
    assert not list((out / "parts").glob("*.arrows")), "the dead journal is converted to Parquet"
    assert rows_without_time(pq.read_table(out / "results.parquet")) == rows_without_time(table)


@pytest.mark.slow  # ~40-70 s on 2 loaded cores; `make test-slow`
def test_failed_points_are_recorded_and_retried(reference, sweep_file, tmp_path):
    _, table = reference
    out = tmp_path / "fail"
    res = run_cli("sweep", str(sweep_file), "--out", str(out), "--workers", "2", env={FAULT_ENV: "1,7"})
    assert res.returncode == 3, res.stderr  # finished, with failed runs
    assert "2 of 12 runs failed" in res.stderr and "Traceback" not in res.stderr
    assert "12 run now (10 ok, 2 failed)" in res.stdout and "injected failure" in res.stdout
    # the progress bar: runs done, failed, and the time left
    assert "12/12" in res.stderr and "done=10" in res.stderr and "failed=2" in res.stderr and "<00:00" in res.stderr
    t = pq.read_table(out / "results.parquet")
    failed = [r for r in t.to_pylist() if r["status"] == "failed"]
    assert sorted(r["index"] for r in failed) == [1, 7]
    assert all("RuntimeError: injected failure" in r["error"] and r["car_vkm"] is None for r in failed)
    # a plain rerun does not run them again; --retry-failed does
    res = run_cli("sweep", str(sweep_file), "--out", str(out), "--quiet")
    assert "12 already done, 0 run now" in res.stdout and res.returncode == 3
    res = run_cli("sweep", str(sweep_file), "--out", str(out), "--quiet", "--retry-failed")
    assert res.returncode == 0, res.stderr
    assert "10 already done, 2 run now (2 ok, 0 failed)" in res.stdout
    assert rows_without_time(pq.read_table(out / "results.parquet")) == rows_without_time(table)


def test_invalid_combination_is_a_failed_point(tmp_path):
    path = write_sweep(tmp_path, seeds=1, parameters=[{"path": "policy.remote_days.floor", "levels": [0, 3]},
                                                      {"path": "policy.remote_days.cap", "levels": [2, 5]}])
    rep = run_sweep(load_sweep(path), tmp_path / "o", workers=1, progress=False)
    assert rep.ok == 3 and rep.failed == 1
    assert "must not exceed policy.remote_days.cap" in rep.errors[0]


def test_analyze_sobol_indices(tmp_path):
    path = write_sweep(tmp_path, name="tinysobol", seeds=1, days=3,
                       parameters=[{"path": "remote_days.preferred_days", "range": [0.5, 3.5]},
                                   {"path": "emissions.home_heating_kwh", "range": [10, 30]}],
                       design={"type": "sobol", "base_samples": 4, "second_order": False, "seed": 1},
                       outputs=["co2_home_t", "remote_share"])
    out = tmp_path / "o"
    rep = run_sweep(load_sweep(path), out, workers=2, progress=False)
    assert rep.ok == 4 * (2 + 2)
    res = run_cli("analyze", str(out))
    assert res.returncode == 0, res.stderr
    import csv
    with open(out / "analysis" / "sobol_indices.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["output"], r["parameter"]) for r in rows} == {
        (o, p) for o in ("co2_home_t", "remote_share") for p in ("remote_days.preferred_days",
                                                                 "emissions.home_heating_kwh")}
    for r in rows:
        s1, st, s1c, stc = (float(r[k]) for k in ("S1", "S1_conf", "ST", "ST_conf"))
        assert s1c >= 0 and stc >= 0
        assert s1 <= st + 0.3  # few samples: S1 <= ST up to sampling error
    # heating energy cannot move the remote share: its total index is far below preferred days'
    rs = {r["parameter"]: float(r["ST"]) for r in rows if r["output"] == "remote_share"}
    assert rs["remote_days.preferred_days"] > rs["emissions.home_heating_kwh"]
    for name in ("response_co2_home_t.png", "response_remote_share.png", "sobol_co2_home_t.png", "point_means.csv"):
        assert (out / "analysis" / name).is_file()
    from sim.sweep.analyze import html_section
    section = html_section(out)
    assert section.startswith("<section") and section.count("data:image/png;base64,") == 4
    assert "remote_days.preferred_days" in section


def test_analyze_grid_plots(reference, tmp_path):
    out, _ = reference
    from sim.sweep.analyze import analyze
    res = analyze(out)
    assert res["design"] == "grid" and res["sobol"] == [] and len(res["plots"]) == 2
    assert all(os.path.getsize(p) > 1000 for p in res["plots"])
    page = open(res["report"], encoding="utf-8").read()  # the section as a self-contained page
    assert page.count('src="data:image/png;base64,') == 2
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_analyze_not_a_sweep_folder(tmp_path, capsys):
    from sim.cli import main
    assert main(["analyze", str(tmp_path)]) == 2
    assert "not a sweep folder" in capsys.readouterr().err


def test_second_session_on_the_same_folder_is_refused(reference, sweep_file):
    import fcntl

    from sim.sweep.store import StoreError
    out, _ = reference
    with open(out / ".lock-driver", "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(StoreError, match="another session"):
            run_sweep(load_sweep(sweep_file), out, progress=False)


@pytest.mark.slow  # ~40-50 s a case on 2 loaded cores
@pytest.mark.parametrize("crash", [4, 2])  # 2: the worker dies just after taking it, while the driver submits
def test_a_dying_worker_process_fails_only_its_run(reference, sweep_file, tmp_path, crash):
    from sim.sweep.executors import CRASH_ENV
    _, table = reference
    out = tmp_path / "crash"
    res = run_cli("sweep", str(sweep_file), "--out", str(out), "--workers", "2", "--quiet", env={CRASH_ENV: str(crash)})
    assert res.returncode == 3, res.stderr
    assert "12 run now (11 ok, 1 failed)" in res.stdout, res.stdout
    rows = pq.read_table(out / "results.parquet").to_pylist()
    failed = [r for r in rows if r["status"] == "failed"]
    assert [r["index"] for r in failed] == [crash] and "worker process died" in failed[0]["error"]
    res = run_cli("sweep", str(sweep_file), "--out", str(out), "--quiet", "--retry-failed")
    assert "1 run now (1 ok, 0 failed)" in res.stdout
    assert rows_without_time(pq.read_table(out / "results.parquet")) == rows_without_time(table)


def test_cli_dask_executor_starts_a_local_cluster(reference, sweep_file, tmp_path):
    pytest.importorskip("distributed", reason="dask.distributed not installed: pip install -e '.[cluster]'")
    _, table = reference
    out = tmp_path / "dask_cli"
    res = run_cli("sweep", str(sweep_file), "--executor", "dask", "--workers", "2", "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    assert "12 run now (12 ok, 0 failed)" in res.stdout
    assert len(list((out / "parts").glob("dask-*.parquet"))) == 1
    assert rows_without_time(pq.read_table(out / "results.parquet")) == rows_without_time(table)
