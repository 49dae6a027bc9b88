"""Run a scenario end to end: the model, its no-smart-working counterfactual, and the results folder."""

from __future__ import annotations

import datetime as dt
import logging
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import mesa
import numpy as np

from sim import __version__
from sim.model import CommuteModel
from sim.outputs.results import atomic_dir, write_csv, write_json, write_parquet, write_yaml
from sim.scenario.load import resolved_dict
from sim.scenario.schema import Scenario
from sim.world.istat_od import istat_time_bands

log = logging.getLogger(__name__)
COUNTERFACTUAL_KEYS = ("remote_share", "car_vkm", "co2_commute_t", "co2_net_t", "commute_hours_per_worker",
                       "delay_hours", "mean_stress", "high_stress_share", "quits_women_per_1000", "quits_men_per_1000",
                       "peak_extra_time")


def counterfactual_scenario(scenario: Scenario) -> Scenario:
    """The same scenario with smart working off (same seed, so the same random numbers)."""
    policy = scenario.policy.model_copy(update={"smart_working": "off"})
    return scenario.model_copy(update={"policy": policy, "name": scenario.name + "_no_smart_working"})


def simulate(scenario: Scenario, trace_worker: int | None = None, progress=None,
             counterfactual: bool = True) -> tuple[CommuteModel, dict]:
    """Run the scenario (and its counterfactual) and return the model and the summary.

    Args:
        scenario: validated scenario.
        trace_worker: worker id to trace, or None.
        progress: callable receiving the number of days just done (for a progress bar).
        counterfactual: also run the no-smart-working counterfactual for ``hours_saved_per_worker``.
    """
    model = CommuteModel(scenario, trace_worker=trace_worker)
    model.run(progress=progress)
    summary = model.metrics.summary()
    if scenario.policy.smart_working == "off":
        cf_summary = summary  # the run is its own counterfactual
    elif counterfactual:
        cf = CommuteModel(counterfactual_scenario(scenario), city=model.city, population=model.population,
                          calibration=model.calibration, firm_agents=False)
        cf.run(progress=progress)
        cf_summary = cf.metrics.summary()
    else:
        cf_summary = None
    if cf_summary is not None:
        saved = cf_summary["commute_hours_per_worker"] - summary["commute_hours_per_worker"]
        summary["hours_saved_per_worker"] = saved
        # split: congestion relief enjoyed on the days still commuted, the rest avoided by remote days
        days_here, days_cf = summary["office_days_per_worker"], cf_summary["office_days_per_worker"]
        per_day_here = summary["commute_hours_per_worker"] / days_here if days_here else 0.0
        per_day_cf = cf_summary["commute_hours_per_worker"] / days_cf if days_cf else 0.0
        relief = (per_day_cf - per_day_here) * days_here
        summary["hours_saved_congestion_relief_per_worker"] = relief
        summary["hours_saved_remote_days_per_worker"] = saved - relief
        summary["counterfactual"] = {k: cf_summary[k] for k in COUNTERFACTUAL_KEYS}
    summary["calibration"] = {
        **model.calibration.report,
        # validation against Istat 2011 (not fitted by the mode calibration): one-way door-to-door times
        "commute_time_bands_milan": model.metrics.commute_time_bands_milan(),
        "commute_time_bands_milan_istat_2011": istat_time_bands(),
    }
    if model.city.od_source:  # how the real city's OD was made (gravity fit or the Istat file)
        summary["calibration"]["od"] = model.city.od_source
    return model, summary


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
    self-contained report of :mod:`sim.report`). ``extra``, if given, is called with the temporary
    folder to add more files (replication tables) before it is renamed into place.
    """
    with atomic_dir(out) as tmp:
        write_yaml(tmp / "scenario.resolved.yaml", resolved_dict(scenario))
        write_json(tmp / "summary.json", summary)
        write_parquet(tmp / "daily.parquet", model.metrics.daily())
        for name, table in model.metrics.groups().items():
            write_parquet(tmp / f"{name}.parquet", table)
        write_parquet(tmp / "links.parquet", model.metrics.links())
        from sim.outputs.plots import make_plots  # matplotlib only when a folder is written

        make_plots(tmp, summary, scenario.name)
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
        from sim.outputs.report import write_report
        # the folder is named, not its path: `out` itself may be inside another temporary folder (compare's)
        write_report([tmp], tmp / "report.html", labels=[Path(out).name],
                     shown_paths=[f"{Path(out).name} (the folder of this report)"])
    except Exception:  # a report must never cost the results folder
        log.warning("report.html failed", exc_info=True)


def default_out_dir(scenario: Scenario, root: Path = Path("results")) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return root / f"{scenario.name}-{stamp}"


def run_and_write(scenario: Scenario, out: Path, argv: list[str] | None = None, trace_worker: int | None = None,
                  progress=None, replications: int = 1) -> tuple[Path, dict]:
    """Simulate and write the results folder; returns (folder, summary).

    With ``replications`` > 1, seeds ``seed .. seed+replications-1`` run in parallel processes
    (:mod:`sim.replications`): the folder holds the first seed's run plus the replications block in
    ``summary.json``, ``replications.parquet`` and ``daily_replications.parquet``.
    """
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    extra = None
    if replications > 1:
        from sim.outputs.replications import replicate
        reps = replicate(scenario, replications, trace_worker=trace_worker, progress=progress)
        model, summary, extra = reps.model, reps.summary, reps.write_tables
    else:
        model, summary = simulate(scenario, trace_worker=trace_worker, progress=progress)
    path = write_run(out, scenario, model, summary, started, time.perf_counter() - t0, argv or sys.argv, extra=extra)
    return path, summary
