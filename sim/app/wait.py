"""How long the Run button will take: an estimate fitted on the earlier runs on this machine.

Machines differ by 3x and more (see ``benchmarks/speed.py``), so no figure is typed in: each results
folder's manifest records its simulation seconds (``wall_seconds``: set-up, every seed's year and its
counterfactual) and, from its start and finish times, the seconds spent writing it (tables, plots,
report). From those the estimate fits, by non-negative least squares,

    seconds per simulated day  = a + b x workers sampled   (a: the per-day work by OD pair and road)
    seconds to write a folder  = c + d x workers sampled

and adds them up for what the button will run: the scenario and, unless one is already in
``results/``, its baseline; each with its counterfactual year; seeds in rounds of the cores; and the
calibration's warm-up weeks when no calibration of this size is cached yet. With earlier runs of one
size only, the per-day cost is taken as proportional to the workers (``a = 0``), which overstates the
wait of a larger sample and understates that of a smaller one.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass
from typing import Iterable

import numpy as np
from scipy.optimize import nnls

from sim.runner import progress_days
from sim.scenario.schema import Scenario

HISTORY_RUNS = 30  # the newest runs fitted on: older ones may come from older, slower code


@dataclass(frozen=True)
class RunCost:
    """What one earlier results folder cost: its workers, simulated days per process and seconds."""

    workers: int
    days_per_process: float  # simulated days the slowest process ran (seeds in rounds of the cores)
    simulate_s: float
    write_s: float


@dataclass(frozen=True)
class WaitEstimate:
    """The expected seconds of a press of Run, and what they rest on."""

    seconds: float
    runs_fitted: int         # earlier runs the costs were fitted on
    runs: int                # results folders Run will write: the scenario and, with none to reuse, its baseline
    calibrates: bool         # no calibration of this size cached yet: its warm-up is included


def rounds(replications: int, cores: int) -> int:
    """How many times in a row a process simulates when ``replications`` seeds share ``cores`` cores."""
    return math.ceil(replications / max(1, min(replications, cores)))


def run_cost(manifest: dict, scenario: dict, replications: int, cores: int) -> RunCost | None:
    """The cost of one earlier run from its manifest and resolved scenario; None when they lack a figure."""
    try:
        started = dt.datetime.fromisoformat(manifest["started"])
        finished = dt.datetime.fromisoformat(manifest["finished"])
        simulate_s, workers, days = float(manifest["wall_seconds"]), int(manifest["workers_sampled"]), int(manifest["days"])
    except (KeyError, TypeError, ValueError):
        return None
    if workers <= 0 or days <= 0 or simulate_s <= 0:
        return None
    runs = 1 if (scenario.get("policy") or {}).get("smart_working") == "off" else 2
    return RunCost(workers=workers, days_per_process=days * runs * rounds(replications, cores), simulate_s=simulate_s,
                   write_s=max((finished - started).total_seconds() - simulate_s, 0.0))


def _line(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """(intercept, slope), both >= 0, of ``y`` on ``x`` weighted by ``w``; through 0 with one distinct x."""
    if np.unique(x).size < 2:
        return 0.0, float(np.sum(w * y * x) / np.sum(w * x * x))
    sw = np.sqrt(w)
    (a, b), _ = nnls(np.column_stack([sw, sw * x]), sw * y)
    return float(a), float(b)


@dataclass(frozen=True)
class CostModel:
    """Seconds per simulated day and per folder written, as lines in the workers sampled."""

    day_s: tuple[float, float]
    write_s: tuple[float, float]
    runs_fitted: int

    @classmethod
    def fit(cls, costs: Iterable[RunCost]) -> "CostModel | None":
        costs = list(costs)[:HISTORY_RUNS]
        if not costs:
            return None
        x = np.array([c.workers for c in costs], float)
        per_day = np.array([c.simulate_s / c.days_per_process for c in costs])
        write = np.array([c.write_s for c in costs])
        weight = np.array([c.days_per_process for c in costs])  # a long run's per-day figure is the surer
        return cls(day_s=_line(x, per_day, weight), write_s=_line(x, write, np.ones_like(x)), runs_fitted=len(costs))

    def seconds_per_day(self, workers: float) -> float:
        return self.day_s[0] + self.day_s[1] * workers

    def seconds_to_write(self, workers: float) -> float:
        return self.write_s[0] + self.write_s[1] * workers


def expected_wait(model: CostModel, scenario: Scenario, *, workers: float, replications: int, runs: int,
                  calibrated: bool, cores: int | None = None) -> WaitEstimate:
    """The expected seconds of running ``scenario`` (``workers`` sampled) from the app.

    Args:
        model: the costs fitted on earlier runs (:meth:`CostModel.fit`).
        scenario: the validated scenario the page holds.
        workers: workers the scenario's sample will hold.
        replications: seeds per run.
        runs: results folders to write: 1, 2 when the baseline runs too (no folder of it to reuse), 0 when
            the very run is in ``results/`` already.
        calibrated: a calibration of this scenario's size is in the cache.
        cores: cores to share the seeds (default: this machine's).
    """
    cores = cores or os.cpu_count() or 1
    day_s = model.seconds_per_day(workers)
    one_run = progress_days(scenario) * rounds(replications, cores) * day_s + model.seconds_to_write(workers)
    calibrates = runs > 0 and not calibrated  # nothing to run (the folder is there): nothing to calibrate
    warm_up = scenario.calibration.warm_up_weeks * 5 * day_s if calibrates else 0.0  # 5 workdays a week
    return WaitEstimate(seconds=one_run * runs + warm_up, runs_fitted=model.runs_fitted, runs=runs,
                        calibrates=calibrates)
