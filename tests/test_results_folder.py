"""The results folder of ``run.py run``: its contents, determinism, and atomicity (SIGKILL included)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sim.outputs.results import atomic_dir
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "scenarios/examples/grid_city.yaml"  # the small grid city
SMALL_RUN = ["--days", "5", "--scale", "0.002", "--quiet", "--trace-worker", "3"]
BIG_RUN = ["--days", "40", "--scale", "0.01", "--quiet"]

SUMMARY_KEYS = ("workers", "days", "seed", "scale", "remote_share", "car_vkm", "co2_commute_t", "co2_home_t",
                "co2_net_t", "commute_hours_per_worker", "hours_saved_per_worker", "delay_hours", "mean_stress",
                "high_stress_share", "quits_women_per_1000", "quits_men_per_1000", "modal_split", "adoption_by_size")
MANIFEST_KEYS = ("package_version", "git_commit", "python", "numpy", "mesa", "seed", "scale", "days", "command_line",
                 "started", "finished", "wall_seconds", "peak_rss_mb")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("results") / "baseline"
    proc = run_cli("run", BASELINE, "--out", str(folder), *SMALL_RUN)
    assert proc.returncode == 0, proc.stderr
    # the tests' grid city reports in English (the Comune's real-city scenarios in Italian: tests/test_i18n.py)
    assert f"results: {folder}" in proc.stdout
    assert f"report: {folder / 'report.html'}" in proc.stdout
    return folder


@pytest.fixture(scope="module")
def summary(out) -> dict:
    return json.loads((out / "summary.json").read_text())


# --------------------------------------------------------------------------------------- contents
def test_folder_has_every_file(out):
    names = {p.name for p in out.iterdir()}
    for name in ("scenario.resolved.yaml", "manifest.json", "summary.json", "daily.parquet", "by_size_class.parquet",
                 "by_zone.parquet", "by_gender_caregiver.parquet", "links.parquet", "trace_worker_3.csv",
                 "report.html"):
        assert name in names, name
    assert not any(n.startswith(".") for n in names)
    assert not any(p.name.startswith(".baseline.tmp-") for p in out.parent.iterdir())


def test_resolved_scenario_reloads_to_the_same_values(out):
    resolved = load_scenario(out / "scenario.resolved.yaml")
    original = load_scenario(ROOT / BASELINE, days=5, scale=0.002)
    assert resolved.extends is None
    assert resolved.model_dump() == original.model_dump()


def test_manifest(out):
    manifest = json.loads((out / "manifest.json").read_text())
    missing = [k for k in MANIFEST_KEYS if k not in manifest]
    assert not missing, missing
    assert (manifest["seed"], manifest["scale"], manifest["days"]) == (42, 0.002, 5)
    assert isinstance(manifest["command_line"], list) and "--trace-worker" in manifest["command_line"]
    started = dt.datetime.fromisoformat(manifest["started"])
    finished = dt.datetime.fromisoformat(manifest["finished"])
    assert started <= finished
    assert manifest["wall_seconds"] > 0
    assert manifest["peak_rss_mb"] > 0
    assert manifest["git_commit"]


def test_summary_contract(summary):
    missing = [k for k in SUMMARY_KEYS if k not in summary]
    assert not missing, missing
    assert (summary["days"], summary["seed"], summary["scale"]) == (5, 42, 0.002)
    assert summary["workers"] > 0
    assert set(summary["modal_split"]) == {"car", "transit", "bike", "walk", "moto"}
    assert abs(sum(summary["modal_split"].values()) - 1.0) <= 1e-9
    assert set(summary["adoption_by_size"]) == {"micro", "small", "medium", "large", "public"}
    assert all(0 <= v <= 1 for v in summary["adoption_by_size"].values())
    assert summary["co2_net_t"] == pytest.approx(summary["co2_commute_t"] + summary["co2_home_t"], rel=1e-12, abs=1e-9)


def test_daily_parquet(out):
    table = pq.read_table(out / "daily.parquet")
    assert table.num_rows == 5
    for col in ("day", "remote_share", "car_vkm", "co2_commute_t"):
        assert col in table.column_names, col
    assert table.column("day").to_pylist() == list(range(5))


def test_group_tables(out):
    sizes = pq.read_table(out / "by_size_class.parquet")
    assert sorted(sizes.column("size_class").to_pylist()) == sorted(["micro", "small", "medium", "large", "public"])
    for name in ("by_zone", "by_gender_caregiver", "links"):
        assert pq.read_table(out / f"{name}.parquet").num_rows > 0, name


def test_trace_worker_csv(out):
    with open(out / "trace_worker_3.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5
    assert [int(r["day"]) for r in rows] == list(range(5))


# --------------------------------------------------------------------------------------- determinism
def test_same_seed_gives_byte_identical_summary(out, tmp_path):
    again = tmp_path / "again"
    proc = run_cli("run", BASELINE, "--out", str(again), *SMALL_RUN)
    assert proc.returncode == 0, proc.stderr
    assert (again / "summary.json").read_bytes() == (out / "summary.json").read_bytes()


# --------------------------------------------------------------------------------------- existing --out
def test_existing_out_folder_is_refused(tmp_path):
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    proc = run_cli("run", BASELINE, "--out", str(existing), "--days", "2", "--scale", "0.001", "--quiet")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {existing}: output folder already exists")
    assert "Traceback" not in proc.stderr
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing"]


# --------------------------------------------------------------------------------------- atomicity
def test_atomic_dir_success(tmp_path):
    final = tmp_path / "sub" / "res"
    with atomic_dir(final) as tmp:
        assert tmp.parent == final.parent and tmp.name.startswith(".res.tmp-")
        assert not final.exists()
        (tmp / "a.txt").write_text("x")
    assert (final / "a.txt").read_text() == "x"
    assert [p.name for p in final.parent.iterdir()] == ["res"]


def test_atomic_dir_exception_leaves_nothing(tmp_path):
    final = tmp_path / "res"
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_dir(final) as tmp:
            (tmp / "a.txt").write_text("x")
            raise RuntimeError("boom")
    assert not final.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_replaces_a_stale_temp_folder(tmp_path):
    stale = tmp_path / f".res.tmp-{os.getpid()}"
    stale.mkdir()
    (stale / "old.txt").write_text("old")
    with atomic_dir(tmp_path / "res") as tmp:
        (tmp / "new.txt").write_text("new")
    assert [p.name for p in (tmp_path / "res").iterdir()] == ["new.txt"]


def _start(out: Path, args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "run.py", "run", BASELINE, "--out", str(out), *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill(proc: subprocess.Popen) -> int | None:
    """SIGKILL the run; return its exit code if it had already ended on its own, else None."""
    ended = proc.poll()
    if ended is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    return ended


def _temp_folders(out: Path) -> list[Path]:
    return [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.tmp-")]


def _assert_nothing_at_final_path(out: Path, proc: subprocess.Popen) -> None:
    assert not out.exists(), f"a results folder exists at {out} after SIGKILL: {sorted(os.listdir(out))}"
    leftovers = {p.name for p in out.parent.iterdir()}
    # hidden only: the temporary folder and the claim on the path (the next run removes both)
    assert leftovers <= {f".{out.name}.tmp-{proc.pid}", f".{out.name}.claim"}, leftovers


@pytest.mark.parametrize("after_s", [0.5, 2.0, 4.0])
def test_sigkill_after_a_delay_leaves_no_results_folder(tmp_path, after_s):
    out = tmp_path / "killed"
    proc = _start(out, BIG_RUN)
    try:
        time.sleep(after_s)
        ended = _kill(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert ended is None, f"the run ended on its own (exit {ended}) before {after_s} s"
    _assert_nothing_at_final_path(out, proc)


@pytest.mark.parametrize("wait_for", [None, "links.parquet"], ids=["temp-folder-appears", "mid-write"])
def test_sigkill_while_writing_leaves_no_results_folder(tmp_path, wait_for):
    """Kill as soon as the hidden temporary folder (or a file written late into it) appears."""
    out = tmp_path / "killed"
    proc = _start(out, SMALL_RUN)
    ended = None
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            temps = _temp_folders(out)
            if temps and (wait_for is None or (temps[0] / wait_for).exists()):
                break
            time.sleep(0.001)
        else:
            pytest.fail(f"no temporary folder appeared (exit code {proc.poll()})")
        ended = _kill(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if ended is not None or out.exists():
        # the run won the race and renamed its folder before the kill landed: that folder must be complete
        assert (out / "manifest.json").is_file() and (out / "summary.json").is_file()
        pytest.skip("the run finished before SIGKILL landed; nothing to check")
    _assert_nothing_at_final_path(out, proc)
    assert _temp_folders(out), "the temporary folder should still be there (SIGKILL runs no cleanup)"
