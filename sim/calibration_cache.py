"""The calibration, computed once: a content-addressed cache of :func:`sim.calibration.calibrate`.

A calibration is a pure function of its inputs: the scenario with every lever at its default (the
policy the calibration sees, :func:`sim.calibration.baseline_policy`) less the words that only name
it (``name``, ``description``, ``extends``), and the code. The key is the SHA-256 of those inputs and
of every source and data file of the package, so a code change never reuses an old entry. A
scenario, its counterfactual, a policy run on the same baseline, the app and a sweep point on the
same calibration inputs all read the same entry.

Entries are pickles in ``$SMARTCOMMUTE_CACHE`` (default ``~/.cache/smartcommute``), written to a
temporary file and renamed into place (two processes writing one entry leave one valid entry: the
rename is atomic and both wrote the same bytes); reading a damaged entry recalibrates. The cache is
kept under ``$SMARTCOMMUTE_CACHE_MB`` (default 2,000 MB) by removing the least recently used
entries. ``SMARTCOMMUTE_NO_CACHE=1`` (``--no-cache`` on the command line) bypasses it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path

from sim.calibration import Calibration, baseline_policy, calibrate
from sim.scenario.load import resolved_dict
from sim.scenario.schema import Scenario
from sim.world.city import City
from sim.world.population import Population

log = logging.getLogger(__name__)
PACKAGE = Path(__file__).resolve().parent
DEFAULT_LIMIT_MB = 2000
NAMING_KEYS = ("name", "description", "extends")  # name the scenario, change no number
# the run's horizon: the warm-up runs its own weeks from ``start`` whatever the run's length (tested:
# tests/test_calibration_cache.py calibrates 20 and 250 days to the same bytes), so a 60-day app run, a
# sweep's short points and a 5-year run share the default year's calibration
HORIZON_KEYS = ("days", "years")


def cache_dir() -> Path:
    return Path(os.environ.get("SMARTCOMMUTE_CACHE") or Path.home() / ".cache" / "smartcommute")


def enabled() -> bool:
    return os.environ.get("SMARTCOMMUTE_NO_CACHE", "") not in ("1", "true", "yes")


@lru_cache(maxsize=1)
def code_version() -> str:
    """SHA-256 of every ``.py`` and data file of the package (paths and contents)."""
    h = hashlib.sha256()
    for f in sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(str(f.relative_to(PACKAGE)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def key(scenario: Scenario) -> str:
    """The cache key of the scenario's calibration."""
    inputs = resolved_dict(baseline_policy(scenario))
    for k in NAMING_KEYS + HORIZON_KEYS:
        inputs.pop(k, None)
    inputs.get("calibration", {}).pop("elasticities", None)  # the ranges run.py elasticities checks: no input of it
    files = {}  # the contents of the input files a scenario names (the Istat OD file, a CSV city)
    if scenario.city.od_matrix:
        files["od_matrix"] = hashlib.sha256(Path(scenario.city.od_matrix).read_bytes()).hexdigest()
    if scenario.city.source == "csv" and scenario.city.csv_dir:
        for f in sorted(Path(scenario.city.csv_dir).glob("*.csv")):
            files[f.name] = hashlib.sha256(f.read_bytes()).hexdigest()
    text = json.dumps({"inputs": inputs, "files": files, "code": code_version()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def entry_path(scenario: Scenario) -> Path:
    """Where the scenario's calibration is (or would be) cached."""
    return cache_dir() / f"calibration-{key(scenario)}.pkl"


def is_cached(scenario: Scenario) -> bool:
    """A run of ``scenario`` will read its calibration from the cache (not calibrate afresh)."""
    return enabled() and entry_path(scenario).is_file()


def cached_calibrate(scenario: Scenario, city: City, population: Population) -> Calibration:
    """:func:`~sim.calibration.calibrate`, read from the cache when the same inputs were calibrated before."""
    if not enabled():
        return calibrate(scenario, city, population)
    path = entry_path(scenario)
    try:
        with open(path, "rb") as fh:
            cal = pickle.load(fh)
        os.utime(path)  # recently used
        log.debug("calibration read from %s", path)
        return cal
    except FileNotFoundError:
        pass
    except Exception:  # a damaged or foreign entry: calibrate again and replace it
        log.warning("calibration cache entry %s unreadable; recalibrating", path)
    cal = calibrate(scenario, city, population)
    _store(path, cal)
    return cal


def _store(path: Path, cal: Calibration) -> None:
    """Write the entry atomically; a cache that cannot be written is skipped (the run goes on)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(cal, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        _trim(path.parent)
    except OSError as exc:
        log.warning("calibration cache not written (%s)", exc)


def _trim(folder: Path) -> None:
    """Remove the least recently used entries until the cache is under its size limit."""
    limit = float(os.environ.get("SMARTCOMMUTE_CACHE_MB") or DEFAULT_LIMIT_MB) * 1e6
    entries = sorted(folder.glob("calibration-*.pkl"), key=lambda p: p.stat().st_mtime)
    total = sum(p.stat().st_size for p in entries)
    for p in entries[:-1]:  # never the newest (just written)
        if total <= limit:
            break
        total -= p.stat().st_size
        p.unlink(missing_ok=True)
