"""A real SLURM job array runs a sharded sweep (single-node cluster started by the test)."""

from __future__ import annotations

import subprocess
import time

import pyarrow.parquet as pq
import pytest

from sim.sweep.executors import run_sweep
from sim.sweep.spec import load_sweep

from .slurm_cluster import slurm_or_skip
from .sweep_helpers import rows_without_time, run_cli, write_sweep


@pytest.mark.slow
def test_slurm_job_array_runs_the_sharded_sweep(tmp_path):
    sweep_file = write_sweep(tmp_path, slurm={"shards": 4, "cpus_per_task": 1, "time": "00:10:00"})
    local = tmp_path / "local"
    run_sweep(load_sweep(sweep_file), local, workers=2, progress=False)
    out = tmp_path / "slurm_out"
    res = run_cli("sweep", str(sweep_file), "--slurm-script", "--out", str(out))
    assert res.returncode == 0, res.stderr
    script = tmp_path / "array.sbatch"
    script.write_text(res.stdout)
    with slurm_or_skip(tmp_path / "slurm") as env:
        t0 = time.time()
        sub = subprocess.run(["sbatch", "--wait", str(script)], capture_output=True, text=True, env=env, timeout=600)
        elapsed = time.time() - t0
        logs = "\n".join(p.read_text() for p in sorted((out / "logs").glob("*.out")))
        assert sub.returncode == 0, f"{sub.stdout}{sub.stderr}\n{logs}"
        print(f"SLURM array of 4 shards finished in {elapsed:.1f} s")
    assert len(list((out / "logs").glob("slurm-*_*.out"))) == 4
    assert len(list((out / "parts").glob("shard*of4-*.parquet"))) == 4
    res = run_cli("sweep", "collect", str(out))
    assert res.returncode == 0 and "collected 12 of 12 runs (12 ok, 0 failed)" in res.stdout, res.stdout + res.stderr
    assert rows_without_time(pq.read_table(out / "results.parquet")) == \
        rows_without_time(pq.read_table(local / "results.parquet"))


@pytest.mark.slow
def test_dask_jobqueue_slurm_cluster_from_the_sweep_file(tmp_path, monkeypatch):
    """--executor dask with a cluster: block starts dask workers as SLURM jobs (dask-jobqueue)."""
    pytest.importorskip("dask_jobqueue")
    cluster_block = {"kind": "slurm", "jobs": 2, "cores": 1, "processes": 1, "memory": "400MB",
                     "walltime": "00:10:00", "interface": "lo",
                     "job_extra_directives": [f"--output={tmp_path}/dask-worker-%j.out"]}
    sweep_file = write_sweep(tmp_path, cluster=cluster_block)
    local = tmp_path / "local"
    run_sweep(load_sweep(sweep_file), local, workers=2, progress=False)
    with slurm_or_skip(tmp_path / "slurm") as env:
        monkeypatch.setenv("SLURM_CONF", env["SLURM_CONF"])
        rep = run_sweep(load_sweep(sweep_file), tmp_path / "dask", executor="dask", progress=False)
    assert rep.ok == 12
    assert len(list(tmp_path.glob("dask-worker-*.out"))) >= 1
    assert rows_without_time(pq.read_table(tmp_path / "dask" / "results.parquet")) == \
        rows_without_time(pq.read_table(local / "results.parquet"))
