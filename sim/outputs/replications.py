"""Replications' statistics: every KPI over N consecutive seeds, with 95% intervals.

``run.py run SCENARIO --replications N`` runs seeds ``seed, seed+1, ..., seed+N-1``
(:func:`sim.runner.replicate` runs them, in parallel processes); this module turns their summaries
into figures: flattened KPIs, t intervals, the ``replications`` block and its tables.

The results folder then holds the first seed's files as for a single run, plus
``summary.json["replications"]`` (``n``, ``seeds``, and for every numeric KPI its mean, sample
standard deviation, t-based 95% interval of the mean and per-seed values), ``replications.parquet``
(one row per seed) and ``daily_replications.parquet`` (every seed's daily table, with a ``seed``
column).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from sim.outputs.kpis import DESCRIPTORS
from sim.outputs.results import write_parquet
from sim.scenario.schema import Scenario


def flatten_kpis(summary: dict) -> dict[str, float]:
    """Every numeric KPI of a summary, nested sections flattened with dots (``modal_split.car``).

    Run descriptors (seed, days, scale, sample size), the calibration report, the counterfactual's
    figures and the replications block are left out; ``None`` values (e.g. a weekday never
    simulated) are skipped.
    """
    out: dict[str, float] = {}

    def walk(name: str, value) -> None:
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, (int, float, np.integer, np.floating)):
            out[name] = float(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(f"{name}.{key}", item)

    for key, value in summary.items():
        if key not in DESCRIPTORS:
            walk(key, value)
    return out


def t_interval(values) -> dict[str, float]:
    """Mean, sample standard deviation and the 95% t interval of the mean of ``values``.

    ``mean ± t(0.975, n-1) · sd / sqrt(n)``; with one value the interval collapses to it.
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    mean = float(x.mean())
    if n < 2:
        return {"mean": mean, "sd": 0.0, "ci95_low": mean, "ci95_high": mean}
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return {"mean": mean, "sd": sd, "ci95_low": mean - half, "ci95_high": mean + half}


def seeds_for(scenario: Scenario, n: int) -> list[int]:
    return [scenario.seed + i for i in range(n)]


def with_seed(scenario: Scenario, seed: int) -> Scenario:
    return scenario.model_copy(update={"seed": seed})


def replication_block(seeds: list[int], summaries: list[dict]) -> dict:
    """The ``summary.json["replications"]`` entry for per-seed summaries (same order as ``seeds``)."""
    flat = [flatten_kpis(s) for s in summaries]
    names = [k for k in flat[0] if all(k in f for f in flat[1:])]
    kpis = {}
    for k in names:
        values = [f[k] for f in flat]
        kpis[k] = {**t_interval(values), "values": values}
    return {"n": len(seeds), "seeds": list(seeds), "kpis": kpis}


@dataclass
class Replications:
    """N replications: the first seed's model and summary (with the replications block) and every seed's figures."""

    model: object                # CommuteModel of the first seed
    summary: dict                # first seed's summary + "replications"
    seeds: list[int]
    summaries: list[dict]        # per seed, without the replications block
    dailies: list[dict]          # per seed daily tables

    def tables(self) -> dict[str, dict[str, list]]:
        """``replications.parquet`` and ``daily_replications.parquet`` columns."""
        kpis = self.summary["replications"]["kpis"]
        per_seed = {"seed": list(self.seeds), **{k: list(v["values"]) for k, v in kpis.items()}}
        daily: dict[str, list] = {"seed": []}
        for seed, d in zip(self.seeds, self.dailies):
            n = len(next(iter(d.values()))) if d else 0
            daily["seed"].extend([seed] * n)
            for col, values in d.items():
                daily.setdefault(col, []).extend(values)
        return {"replications": per_seed, "daily_replications": daily}

    def write_tables(self, folder: Path) -> None:
        """Write the replication tables into ``folder`` (the results folder being assembled)."""
        for name, columns in self.tables().items():
            write_parquet(Path(folder) / f"{name}.parquet", columns)
