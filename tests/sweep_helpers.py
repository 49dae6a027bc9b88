"""Helpers for the sweep tests: tiny sweep files and table comparison."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "examples" / "grid_city.yaml"
TINY = {"city.source": "synthetic", "city.grid_size": 5, "population.workers_internal": 1000, "population.workers_inbound": 200}


def write_sweep(folder: Path, name: str = "tiny", **fields) -> Path:
    """A sweep file in ``folder`` on a tiny city (5x5 cells, 1,200 workers, 8 days), fields overridable."""
    spec = {
        "name": name,
        "base": str(BASELINE),
        "base_overrides": dict(TINY),
        "days": 8,
        "seeds": 2,
        "counterfactual": False,
        "parameters": [
            {"path": "policy.area_c_charge_eur", "levels": [0, 10]},
            {"path": "remote_days.preferred_days", "levels": [1.0, 2.0, 3.0]},
        ],
        "design": {"type": "grid"},
        "outputs": ["car_vkm", "co2_net_t"],
    }
    spec.update(fields)
    path = Path(folder) / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def run_cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout, env={**os.environ, **(env or {})})


def rows_without_time(table) -> list[dict]:
    """Rows of a results table without wall time, NaN made comparable."""
    from sim.sweep.store import comparable
    out = []
    for row in comparable(table).to_pylist():
        out.append({k: ("nan" if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()})
    return out
