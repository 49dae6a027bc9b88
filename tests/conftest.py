"""Shared fixtures: small scenarios that run in seconds."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# the tests' own calibration cache (sim.calibration_cache): shared by the session and its subprocesses,
# never the user's, removed at the end. Under pytest-xdist the controller imports this file first and makes
# the folder; the workers inherit the variable, so they share it (the cache is safe for concurrent writers)
# and only the controller, which outlives them, removes it.
if "SMARTCOMMUTE_CACHE" not in os.environ:
    os.environ["SMARTCOMMUTE_CACHE"] = _CACHE = tempfile.mkdtemp(prefix="smartcommute-test-cache-")
    atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

from sim.runner import simulate
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "examples" / "grid_city.yaml"  # the small grid city (the real Milan: tests/test_milan_city.py)
# a small Milan: 7x7 cells of 3 km, ~6,000 workers, enough firms per class for stable shares
SMALL = ["city.source=synthetic", "city.grid_size=9", "population.workers_internal=8000", "population.workers_inbound=2000"]


def small(*overrides: str, days: int = 20, scale: float = 1.0, path: Path = BASELINE, seed: int | None = None):
    """The baseline (or ``path``) on a small city, with extra ``--set`` overrides."""
    return load_scenario(path, [*SMALL, *overrides], days=days, scale=scale, seed=seed)


_cache: dict = {}


def run_small(*overrides: str, days: int = 20, path: Path = BASELINE, seed: int | None = None, counterfactual: bool = True):
    """Simulate a small scenario once per session (cached by its arguments)."""
    key = (overrides, days, str(path), seed, counterfactual)
    if key not in _cache:
        _cache[key] = simulate(small(*overrides, days=days, path=path, seed=seed), counterfactual=counterfactual)
    return _cache[key]


@pytest.fixture(scope="session")
def baseline_run():
    return run_small()


# tiny runs written as results folders (with plots and report.html), shared by the report tests
TINY = ["city.source=synthetic", "city.grid_size=7", "population.workers_internal=3000", "population.workers_inbound=600"]


@pytest.fixture(scope="session")
def report_runs(tmp_path_factory) -> tuple[Path, Path]:
    """Two 10-day results folders: the baseline and the same with ``policy.sme_support.enabled=true``.

    Their reports are in English (``report.lang=en``; the Comune's scenarios ask for Italian), the
    language the report tests read; tests/test_i18n.py writes them again in Italian."""
    from sim.runner import run_and_write
    root = tmp_path_factory.mktemp("report_runs")
    tiny = [*TINY, "report.lang=en"]
    base, _ = run_and_write(load_scenario(BASELINE, tiny, days=10), root / "baseline", argv=["test"])
    sme, _ = run_and_write(load_scenario(BASELINE, [*tiny, "policy.sme_support.enabled=true"], days=10),
                           root / "sme_on", argv=["test"])
    return base, sme
