"""Replications: the same scenario run with N consecutive seeds, and 95% intervals of every KPI.

``run.py run SCENARIO --replications N`` runs seeds ``seed, seed+1, ..., seed+N-1``, each the full
:func:`~sim.runner.simulate` (with its counterfactual). The first seed runs in this process (its
model writes the usual tables); the others run in parallel worker processes ('spawn' context, so
nothing of this process's state is inherited; random numbers are keyed by seed, day and stream, so
each replication is identical to running its seed alone). At most ``min(N, cpu_count)`` processes
simulate at once, this one included. (Being 'spawn', a script calling this must keep its top-level
work under ``if __name__ == "__main__":``; ``run.py`` does.)

The results folder then holds the first seed's files as for a single run, plus
``summary.json["replications"]`` (``n``, ``seeds``, and for every numeric KPI its mean, sample
standard deviation, t-based 95% interval of the mean and per-seed values), ``replications.parquet``
(one row per seed) and ``daily_replications.parquet`` (every seed's daily table, with a ``seed``
column).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from sim.outputs.results import write_parquet
from sim.scenario.schema import Scenario

# summary.json keys that describe the run rather than measure it (or are not per-scenario KPIs)
NON_KPI_KEYS = frozenset({"scenario", "seed", "days", "scale", "workers_sampled", "calibration", "counterfactual",
                          "replications"})


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
        if key not in NON_KPI_KEYS:
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


def _simulate_seed(scenario: Scenario) -> tuple[dict, dict]:
    """Worker-process job: one full replication; returns its summary and daily table."""
    from sim.runner import simulate
    model, summary = simulate(scenario)
    return summary, model.metrics.daily()


def _runs_per_replication(scenario: Scenario) -> int:
    return 1 if scenario.policy.smart_working == "off" else 2


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


def replicate(scenario: Scenario, n: int, trace_worker: int | None = None,
              progress: Callable[[int], None] | None = None, max_workers: int | None = None) -> Replications:
    """Run ``scenario`` with seeds ``seed .. seed+n-1`` (the first here, the rest in worker processes).

    Args:
        scenario: validated scenario; its ``seed`` is the first seed.
        n: number of replications (>= 1).
        trace_worker: worker id traced in the first seed's run.
        progress: callable receiving a number of simulated days (called from this process only:
            per day for the first seed, ``days x runs`` when another replication finishes).
        max_workers: worker processes (default ``min(n, cpu_count) - 1``, at least 1, so that with
            this process at most ``min(n, cpu_count)`` simulate at once).
    """
    from sim.runner import simulate
    if n < 1:
        raise ValueError(f"replications must be >= 1, got {n}")
    seeds = seeds_for(scenario, n)
    lock = threading.Lock()

    def report(days: int) -> None:
        if progress is not None:
            with lock:
                progress(days)

    others: list = []
    pool = None
    if n > 1:
        workers = max_workers or max(1, min(n, os.cpu_count() or 1) - 1)
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        if pool is not None:
            per_run = scenario.days * _runs_per_replication(scenario)
            for s in seeds[1:]:
                fut = pool.submit(_simulate_seed, with_seed(scenario, s))
                fut.add_done_callback(lambda f: None if f.cancelled() or f.exception() else report(per_run))
                others.append(fut)
        model, first = simulate(scenario, trace_worker=trace_worker, progress=report)
        results = [fut.result() for fut in others]
    except BaseException:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        raise
    if pool is not None:
        pool.shutdown(wait=True)
    summaries = [first] + [r[0] for r in results]
    dailies = [model.metrics.daily()] + [r[1] for r in results]
    summary = dict(first)
    if n > 1:
        summary["replications"] = replication_block(seeds, summaries)
    return Replications(model=model, summary=summary, seeds=seeds, summaries=summaries, dailies=dailies)
