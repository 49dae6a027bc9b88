"""The calibration is computed once per set of calibration inputs and read back exactly."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from sim import calibration_cache
from sim.calibration import baseline_policy
from sim.outputs.results import write_json
from sim.runner import simulate

from .conftest import ROOT, small


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SMARTCOMMUTE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SMARTCOMMUTE_NO_CACHE", raising=False)
    return tmp_path / "cache"


def test_a_cached_calibration_gives_the_identical_summary(cache, monkeypatch, tmp_path):
    sc = small(days=10)
    calls = []
    real = calibration_cache.calibrate
    monkeypatch.setattr(calibration_cache, "calibrate", lambda *a: calls.append(1) or real(*a))
    _, fresh = simulate(sc)
    assert len(calls) == 1 and len(list(cache.glob("calibration-*.pkl"))) == 1
    _, cached = simulate(sc)
    assert len(calls) == 1, "the second run read the cache"
    assert json.dumps(cached, sort_keys=True) == json.dumps(fresh, sort_keys=True)
    write_json(tmp_path / "fresh.json", fresh)  # summary.json as run.py writes it
    write_json(tmp_path / "cached.json", cached)
    assert (tmp_path / "cached.json").read_bytes() == (tmp_path / "fresh.json").read_bytes()
    monkeypatch.setenv("SMARTCOMMUTE_NO_CACHE", "1")
    _, bypassed = simulate(sc)
    assert len(calls) == 2 and json.dumps(bypassed, sort_keys=True) == json.dumps(fresh, sort_keys=True)


def test_the_key_follows_the_calibration_inputs_only():
    sc = small()
    policy = sc.model_copy(update={"policy": sc.policy.model_copy(update={"area_c_charge_eur": 10.0}),
                                   "name": "other_name", "description": "words"})
    assert calibration_cache.key(policy) == calibration_cache.key(sc), "levers and names do not change the baseline"
    assert calibration_cache.key(baseline_policy(sc)) == calibration_cache.key(sc)
    assert calibration_cache.key(sc.model_copy(update={"seed": sc.seed + 1})) != calibration_cache.key(sc)
    assert calibration_cache.key(small(days=60)) == calibration_cache.key(small(days=250)), "the horizon is no input"
    other_mode = sc.model_copy(update={"mode": sc.mode.model_copy(update={"beta_time_per_min": sc.mode.beta_time_per_min * 1.1})})
    assert calibration_cache.key(other_mode) != calibration_cache.key(sc)


def test_the_calibration_does_not_depend_on_the_runs_horizon(monkeypatch):
    """Why the key leaves out ``days`` and ``years``: the same bytes for a 20-day and a 250-day run."""
    from sim.prepare import prepare

    monkeypatch.setenv("SMARTCOMMUTE_NO_CACHE", "1")  # calibrate afresh each time

    def calibrated(days: int) -> bytes:
        return pickle.dumps(prepare(small(days=days)).calibration)

    assert calibrated(20) == calibrated(250)


WRITER = """
import sys
from sim.calibration_cache import cached_calibrate
from sim.prepare import prepare
from sim.scenario.load import load_scenario
sc = load_scenario(sys.argv[1], sys.argv[2:])
inputs = prepare(sc, calibration=None)
print(float(inputs.calibration.road_capacity_factor))
"""


def test_two_processes_writing_one_entry_leave_one_valid_entry(cache, tmp_path):
    env = {**os.environ, "SMARTCOMMUTE_CACHE": str(cache)}
    args = [str(ROOT / "scenarios" / "examples" / "grid_city.yaml"), "city.grid_size=7",
            "population.workers_internal=3000", "population.workers_inbound=600"]
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-500:] for o in outs]
    assert outs[0][0] == outs[1][0]
    entries = list(cache.glob("calibration-*.pkl"))
    assert len(entries) == 1 and not list(cache.glob(".*.tmp")), sorted(p.name for p in cache.iterdir())
    with open(entries[0], "rb") as fh:
        cal = pickle.load(fh)
    assert float(cal.road_capacity_factor) == float(outs[0][0])


HAMMER = """
import pickle, sys, time
from pathlib import Path
import numpy as np
from sim.calibration_cache import _store
path, start = Path(sys.argv[1]), float(sys.argv[2])
entry = {"state": np.arange(1_000_000, dtype=np.float64), "tag": "same"}  # 8 MB: a write takes a while
while time.time() < start:  # both writers begin together
    time.sleep(0.001)
for _ in range(15):
    _store(path, entry)
    with open(path, "rb") as fh:  # a reader never sees a half-written entry
        got = pickle.load(fh)
    assert got["tag"] == "same" and np.array_equal(got["state"], entry["state"])
print("ok")
"""


def test_two_writers_storing_one_entry_at_once_never_expose_a_partial_entry(cache):
    """Two processes write the same entry 15 times each, at the same moments: every read in between and the
    entry left are whole, and no temporary file remains."""
    import time
    path = cache / "calibration-concurrent.pkl"
    start = time.time() + 3.0  # after both interpreters have started
    env = {**os.environ, "SMARTCOMMUTE_CACHE": str(cache)}
    procs = [subprocess.Popen([sys.executable, "-c", HAMMER, str(path), str(start)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-500:] for o in outs]
    assert sorted(p.name for p in cache.iterdir()) == ["calibration-concurrent.pkl"]
    with open(path, "rb") as fh:
        assert np.array_equal(pickle.load(fh)["state"], np.arange(1_000_000, dtype=np.float64))


def test_a_damaged_entry_is_recalibrated_and_replaced(cache):
    sc = small(days=5)
    path = cache / f"calibration-{calibration_cache.key(sc)}.pkl"
    cache.mkdir(parents=True)
    path.write_bytes(b"not a pickle")
    _, s = simulate(sc)
    with open(path, "rb") as fh:
        assert np.isfinite(pickle.load(fh).road_capacity_factor)


def test_the_cache_stays_under_its_size_limit(cache, monkeypatch):
    cache.mkdir(parents=True)
    for i in range(5):
        (cache / f"calibration-{i}.pkl").write_bytes(b"x" * 400_000)
        os.utime(cache / f"calibration-{i}.pkl", (1000 + i, 1000 + i))
    monkeypatch.setenv("SMARTCOMMUTE_CACHE_MB", "1")
    calibration_cache._trim(cache)
    assert sorted(p.name for p in cache.glob("calibration-*.pkl")) == ["calibration-3.pkl", "calibration-4.pkl"]
