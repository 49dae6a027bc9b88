"""Run a scenario end to end: the model, its no-smart-working counterfactual, and the results folder.

With replications (:func:`replicate`), seeds ``seed .. seed+N-1`` run in parallel processes; their
statistics are :mod:`sim.outputs.replications`'.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import mesa
import numpy as np

from sim import __version__
from sim.model import CommuteModel
from sim.outputs.decomposition import HELD_FILE, HELD_RUNS, held_block
from sim.outputs.kpis import COUNTERFACTUAL
from sim.outputs.replications import Replications, flatten_kpis, replication_block, seeds_for, with_seed
from sim.outputs.report import write_report
from sim.outputs.results import atomic_dir, claim_output_dir, write_csv, write_json, write_parquet, write_yaml
from sim.prepare import Inputs, build_model
from sim.scenario.load import resolved_dict
from sim.scenario.schema import Scenario
from sim.world.istat_od import istat_time_bands

log = logging.getLogger(__name__)


def counterfactual_scenario(scenario: Scenario) -> Scenario:
    """The same scenario with smart working off (same seed, so the same random numbers)."""
    policy = scenario.policy.model_copy(update={"smart_working": "off"})
    return scenario.model_copy(update={"policy": policy, "name": scenario.name + "_no_smart_working"})


def progress_days(scenario: Scenario, replications: int = 1, held: int = 0) -> int:
    """Days that :func:`simulate` (or :func:`run_and_write`) reports to its progress callback in all:
    each seed's run and, unless smart working is off, its counterfactual; then ``held`` runs with choices held."""
    return scenario.days * ((1 if scenario.policy.smart_working == "off" else 2) * replications + held)


def simulate_held(scenario: Scenario, inputs: Inputs, holds=HELD_RUNS, progress=None) -> dict:
    """The scenario run with travel choices held (each of ``holds``, a run option of the model, not a lever) on
    the free run's ``inputs`` (same seed: the same draws), without counterfactual; returns the content of
    ``held_choices.json`` (:func:`sim.outputs.decomposition.held_block`)."""
    runs = {}
    for hold in holds:
        model = CommuteModel(scenario, inputs.calibration, city=inputs.city, population=inputs.population,
                             hold_choices=hold)
        model.run(progress=progress)
        runs[hold] = flatten_kpis(model.metrics.summary())
    return held_block(scenario.seed, runs)


def simulate(scenario: Scenario, trace_worker: int | None = None, progress=None,
             counterfactual: bool = True) -> tuple[CommuteModel, dict]:
    """Run the scenario (and its counterfactual) and return the model and the summary.

    Args:
        scenario: validated scenario.
        trace_worker: worker id to trace, or None.
        progress: callable receiving the number of days just done (for a progress bar).
        counterfactual: also run the no-smart-working counterfactual for ``hours_saved_per_worker``.
    """
    model = build_model(scenario, trace_worker=trace_worker)
    model.run(progress=progress)
    summary = model.metrics.summary()
    summary["by_year"] = model.metrics.by_year()
    if scenario.policy.smart_working == "off":
        cf_summary = summary  # the run is its own counterfactual
    elif counterfactual:
        cf = build_model(counterfactual_scenario(scenario),
                         Inputs(city=model.city, population=model.population, calibration=model.calibration))
        cf.run(progress=progress)
        cf_summary = cf.metrics.summary()
        cf_summary["by_year"] = cf.metrics.by_year()
    else:
        cf_summary = None
    if cf_summary is not None:
        add_time_saved(summary, cf_summary)
        summary["counterfactual"] = {k: cf_summary[k] for k in COUNTERFACTUAL}
        for year, cf_year in zip(summary["by_year"], cf_summary["by_year"]):
            add_time_saved(year, cf_year)
    summary["calibration"] = {
        **model.calibration.report,
        # validation against Istat 2011 (not fitted by the mode calibration): one-way door-to-door times
        "commute_time_bands_milan": model.metrics.commute_time_bands_milan(),
        "commute_time_bands_milan_istat_2011": istat_time_bands(),
    }
    if model.city.od_source:  # how the real city's OD was made (gravity fit or the Istat file)
        summary["calibration"]["od"] = model.city.od_source
    return model, summary


def add_time_saved(summary: dict, cf_summary: dict) -> None:
    """Add to ``summary`` the commute hours saved per worker against the counterfactual's (same period),
    split: congestion relief enjoyed on the days still commuted, the rest avoided by remote days."""
    saved = cf_summary["commute_hours_per_worker"] - summary["commute_hours_per_worker"]
    summary["hours_saved_per_worker"] = saved
    days_here, days_cf = summary["office_days_per_worker"], cf_summary["office_days_per_worker"]
    per_day_here = summary["commute_hours_per_worker"] / days_here if days_here else 0.0
    per_day_cf = cf_summary["commute_hours_per_worker"] / days_cf if days_cf else 0.0
    relief = (per_day_cf - per_day_here) * days_here
    summary["hours_saved_congestion_relief_per_worker"] = relief
    summary["hours_saved_remote_days_per_worker"] = saved - relief


def yearly_table(summary: dict) -> dict[str, list]:
    """``yearly.parquet``: one row per year of the run, ``year`` (1 = the first), its first date and
    workdays, and every KPI of the year flattened as :func:`sim.outputs.replications.flatten_kpis` names them."""
    rows = [{"year": y["year"], "first_date": y["first_date"], "days": y["days"],
             **{k: v for k, v in flatten_kpis(y).items() if k != "year"}} for y in summary["by_year"]]
    keys = list(dict.fromkeys(k for r in rows for k in r))
    return {k: [r.get(k) for r in rows] for k in keys}


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def peak_rss_mb() -> float:
    """Peak resident memory of this process (MB)."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0


def write_run(out: Path, scenario: Scenario, model: CommuteModel, summary: dict, started: dt.datetime,
              wall_s: float, argv: list[str], extra=None) -> Path:
    """Write the results folder atomically and return its final path.

    The folder gets its tables, ``plots/*.png``, ``manifest.json`` and, last, ``report.html`` (the
    self-contained report of :mod:`sim.outputs.report`). ``extra``, if given, is called with the temporary
    folder to add more files (replication tables) before it is renamed into place.
    """
    if "by_year" not in summary:  # a summary made by hand (model.metrics.summary()): the years from the model
        summary = {**summary, "by_year": model.metrics.by_year()}
    with atomic_dir(out) as tmp:
        write_yaml(tmp / "scenario.resolved.yaml", resolved_dict(scenario))
        write_json(tmp / "summary.json", summary)
        write_parquet(tmp / "daily.parquet", model.metrics.daily())
        write_parquet(tmp / "yearly.parquet", yearly_table(summary))
        for name, table in model.metrics.groups().items():
            write_parquet(tmp / f"{name}.parquet", table)
        write_parquet(tmp / "links.parquet", model.metrics.links())
        from sim.outputs.plots import make_plots  # matplotlib only when a folder is written

        make_plots(tmp, summary, scenario.name, lang=scenario.report.lang)  # the report's language
        if model.trace_worker is not None:
            write_csv(tmp / f"trace_worker_{model.trace_worker}.csv", model.trace_rows())
        if extra is not None:
            extra(tmp)
        manifest = {
            "package": "smartcommute", "package_version": __version__, "git_commit": git_commit(),
            "python": platform.python_version(), "numpy": np.__version__, "mesa": mesa.__version__,
            "platform": platform.platform(), "seed": scenario.seed, "scale": scenario.scale, "days": scenario.days,
            "workers_sampled": int(model.population.n_workers), "command_line": argv,
            "started": started.isoformat(timespec="seconds"),
            "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "wall_seconds": round(wall_s, 3), "peak_rss_mb": round(peak_rss_mb(), 1),
        }
        write_json(tmp / "manifest.json", manifest)
        _write_own_report(tmp, out)
    return out


def _write_own_report(tmp: Path, out: Path) -> None:
    """``report.html`` of the folder being written (after its plots and manifest); a failure is logged, never fatal."""
    try:
        # the folder is named, not its path: `out` itself may be inside another temporary folder (compare's)
        write_report([tmp], tmp / "report.html", labels=[Path(out).name],
                     shown_paths=[f"{Path(out).name} (the folder of this report)"])
    except Exception:  # a report must never cost the results folder
        log.warning("report.html failed", exc_info=True)


def default_out_dir(scenario: Scenario, root: Path = Path("results")) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return root / f"{scenario.name}-{stamp}"


def run_and_write(scenario: Scenario, out: Path, argv: list[str] | None = None, trace_worker: int | None = None,
                  progress=None, replications: int = 1, held: bool = False) -> tuple[Path, dict]:
    """Simulate and write the results folder; returns (folder, summary).

    With ``replications`` > 1, seeds ``seed .. seed+replications-1`` run in parallel processes
    (:func:`replicate`): the folder holds the first seed's run plus the replications block in
    ``summary.json``, ``replications.parquet`` and ``daily_replications.parquet``. With ``held``, the
    first seed also runs with travel choices held (:func:`simulate_held`) into ``held_choices.json``.
    """
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    extra = None
    with claim_output_dir(out):  # a second run with the same out stops now, not after its work
        if replications > 1:
            reps = replicate(scenario, replications, trace_worker=trace_worker, progress=progress)
            model, summary, extra = reps.model, reps.summary, reps.write_tables
        else:
            model, summary = simulate(scenario, trace_worker=trace_worker, progress=progress)
        if held:
            block = simulate_held(scenario, Inputs(city=model.city, population=model.population,
                                                   calibration=model.calibration), progress=progress)
            extra = _also_write(extra, HELD_FILE, block)
        path = write_run(out, scenario, model, summary, started, time.perf_counter() - t0, argv or sys.argv,
                         extra=extra)
    return path, summary


def _also_write(extra, name: str, data: dict):
    """``extra`` (a callable given the temporary folder, or None) that also writes ``name`` as JSON."""
    def write(tmp: Path) -> None:
        if extra is not None:
            extra(tmp)
        write_json(tmp / name, data)
    return write


# ------------------------------------------------------------------------------------------ replications
def _simulate_seed(scenario: Scenario) -> tuple[dict, dict]:
    """Worker-process job: one full replication; returns its summary and daily table."""
    model, summary = simulate(scenario)
    return summary, model.metrics.daily()


def replicate(scenario: Scenario, n: int, trace_worker: int | None = None,
              progress: Callable[[int], None] | None = None, max_workers: int | None = None) -> Replications:
    """Run ``scenario`` with seeds ``seed .. seed+n-1`` (the first here, the rest in worker processes).

    Each replication is the full :func:`simulate` (with its counterfactual). The worker processes
    use the 'spawn' context, so nothing of this process's state is inherited; random numbers are
    keyed by seed, day and stream, so each replication is identical to running its seed alone. At
    most ``min(n, cpu_count)`` processes simulate at once, this one included. (Being 'spawn', a
    script calling this must keep its top-level work under ``if __name__ == "__main__":``;
    ``run.py`` does.)

    Args:
        scenario: validated scenario; its ``seed`` is the first seed.
        n: number of replications (>= 1).
        trace_worker: worker id traced in the first seed's run.
        progress: callable receiving a number of simulated days (called from this process only:
            per day for the first seed, ``days x runs`` when another replication finishes).
        max_workers: worker processes (default ``min(n, cpu_count) - 1``, at least 1, so that with
            this process at most ``min(n, cpu_count)`` simulate at once).
    """
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
            per_run = progress_days(scenario)
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
