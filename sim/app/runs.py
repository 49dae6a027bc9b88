"""What the app's buttons do, without the page: run a scenario against its baseline, list and read runs.

Every run the app starts is an ordinary results folder in ``results/`` (the same as ``run.py run``
writes, report included), so the earlier runs are simply the folders found there. The baseline of a
run is ``scenarios/milan_baseline.yaml`` at the same seed, days, scale and replications (or, for a
scenario on another city, the same scenario with every lever at its default); an earlier folder of
exactly that baseline, written by the same code, is reused instead of run again.
"""

from __future__ import annotations

import os
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow.parquet as pq
from matplotlib.figure import Figure

from sim import __version__
from sim.app.wait import CostModel, WaitEstimate, expected_wait, run_cost
from sim.calibration_cache import is_cached
from sim.orchestrate import run_scenarios
from sim.outputs.compare import build_rows, noise_verdict, read_sources
from sim.outputs.difference import ZoneMismatch, zone_difference
from sim.outputs.kpis import HEADLINE, better_sign, label, unit
from sim.i18n import DEFAULT_LANGUAGE, t
from sim.outputs.maps import MIN_SAMPLED_WORKERS, ZONE_METRICS, MapMetric, milan_zones, zone_map
from sim.outputs.results import RunFolderError
from sim.outputs.results import read_run as read_folder
from sim.outputs.zones import read_geometry
from sim.runner import default_out_dir, git_commit, progress_days
from sim.scenario.load import load_scenario, resolved_dict
from sim.scenario.schema import PolicyConfig, Scenario
from sim.world.build import workers_represented

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
BASELINE_FILE = SCENARIOS / "milan_baseline.yaml"


# ------------------------------------------------------------------------------------- baseline
def _without(d: dict, *keys: str) -> dict:
    return {k: v for k, v in d.items() if k not in keys}


def baseline_for(scenario: Scenario) -> Scenario:
    """The run's baseline: Milan's baseline at the same size and seed, or this city with default levers."""
    milan = load_scenario(BASELINE_FILE, seed=scenario.seed, days=scenario.days, scale=scenario.scale)
    ours, theirs = resolved_dict(scenario), resolved_dict(milan)
    if _without(ours, "name", "description", "policy") == _without(theirs, "name", "description", "policy"):
        return milan
    return scenario.model_copy(update={"policy": PolicyConfig(), "name": scenario.name + "_default_levers"})


def _same_code(info: RunInfo) -> bool:
    return info.manifest.get("package_version") == __version__ and info.manifest.get("git_commit") == git_commit()


def find_run(results: Path, scenario: Scenario, replications: int) -> Path | None:
    """An earlier complete folder in ``results`` of exactly this scenario and replications, by this code."""
    want = resolved_dict(scenario)
    for info in list_runs(results):
        if info.replications == replications and _same_code(info) and info.scenario == want:
            return info.folder
    return None


# ------------------------------------------------------------------------------------------ runs
@dataclass
class RunInfo:
    """One results folder, as the list of earlier runs shows it."""

    folder: Path
    name: str
    finished: str
    seed: int
    scale: float
    days: int
    workers: int
    replications: int
    summary: dict
    manifest: dict
    scenario: dict           # scenario.resolved.yaml

    @property
    def label(self) -> str:
        reps = f", {self.replications} seeds" if self.replications > 1 else ""
        return (f"{self.folder.name}  ({self.workers:,} workers sampled, {self.days} days, seed {self.seed}{reps})")


def read_run(folder: Path) -> RunInfo | None:
    """The folder's summary and manifest, or None if it is not a complete run folder."""
    try:
        run = read_folder(folder)
    except RunFolderError:
        return None
    summary, manifest = run.summary, run.manifest
    if not manifest:  # the list shows seed, days and sample from it: no manifest, not listed (as before)
        return None
    return RunInfo(folder=folder, name=summary.get("scenario", folder.name), finished=manifest.get("finished", ""),
                   seed=int(manifest.get("seed", 0)), scale=float(manifest.get("scale", 1.0)),
                   days=int(manifest.get("days", 0)), workers=int(manifest.get("workers_sampled", 0)),
                   replications=int((summary.get("replications") or {}).get("n", 1)), summary=summary,
                   manifest=manifest, scenario=run.scenario)


def list_runs(results: Path) -> list[RunInfo]:
    """Run folders in ``results`` (and the runs inside comparison folders), newest first."""
    if not results.is_dir():
        return []
    folders = [p for p in results.iterdir() if p.is_dir() and not p.name.startswith(".")]
    folders += [p for c in folders if (c / "runs").is_dir() for p in (c / "runs").iterdir() if p.is_dir()]
    runs = [r for r in (read_run(p) for p in folders) if r is not None]
    return sorted(runs, key=lambda r: r.finished, reverse=True)


@dataclass
class AppResult:
    """A finished app run: its folder, its baseline's folder and the KPI comparison."""

    folder: Path
    baseline_folder: Path
    cards: list[dict]
    seconds: float
    baseline_reused: bool


def kpi_cards(baseline: Path, run: Path) -> list[dict]:
    """The headline KPIs of ``run`` against ``baseline``: value, difference, percent, 95% interval, and
    ``noise``: ``beyond`` / ``within`` the random noise by the paired interval, None without one."""
    rows = {r["kpi"]: r for r in build_rows(read_sources([baseline, run]))}
    cards = []
    for k in HEADLINE:
        r = rows.get(k)
        if r is None or r["value"] is None:
            continue
        diff = r["diff"] or 0.0
        scale = max(abs(r["baseline"] or 0.0), abs(r["value"]), 1e-12)
        direction = 0 if abs(diff) <= 1e-9 * scale else (1 if diff > 0 else -1)
        cards.append({**r, "label": label(k), "unit": unit(k), "direction": direction,
                      "verdict": direction * better_sign(k), "noise": noise_verdict(r["ci95_low"], r["ci95_high"])})
    return cards


def _fresh_dirs(scenarios: list[Scenario], results: Path) -> list[Path]:
    """A new results folder for each scenario (two runs of one name in the same second get ``-2``, ...)."""
    outs: list[Path] = []
    for scenario in scenarios:
        first = default_out_dir(scenario, results)
        out, i = first, 2
        while out.exists() or out in outs:
            out, i = first.with_name(f"{first.name}-{i}"), i + 1
        outs.append(out)
    return outs


def _jobs(scenario: Scenario, results: Path, replications: int) -> tuple[list[tuple[str, Scenario]], Path | None]:
    """What Run will simulate, as (what, scenario) pairs, and the earlier baseline folder it reuses (or None)."""
    base = baseline_for(scenario)
    base_folder = find_run(results, base, replications)
    jobs = [("baseline", base)] if base_folder is None else []
    same = _without(resolved_dict(scenario), "name", "description") == _without(resolved_dict(base), "name", "description")
    if not same:  # a scenario that is the baseline is not run twice
        jobs.append(("your scenario", scenario))
    return jobs, base_folder


def cost_model(results: Path) -> CostModel | None:
    """The costs of a run on this machine, fitted on the earlier runs in ``results`` (None without any)."""
    cores = os.cpu_count() or 1
    costs = (run_cost(r.manifest, r.scenario, r.replications, cores) for r in list_runs(results))
    return CostModel.fit(c for c in costs if c is not None)


def expected_wait_of(scenario: Scenario, results: Path, replications: int, model: CostModel | None) -> WaitEstimate | None:
    """How long Run will take for ``scenario`` (None before any run on this machine to fit on)."""
    if model is None:
        return None
    jobs, _ = _jobs(scenario, results, replications)
    return expected_wait(model, scenario, workers=sampled_workers(scenario), replications=replications, runs=len(jobs),
                         calibrated=is_cached(scenario))


def sampled_workers(scenario: Scenario) -> int:
    """About how many workers the scenario's sample holds (its share of the workers it represents)."""
    return round(scenario.scale * workers_represented(scenario.city, scenario.population))


# the app's default sample: the largest of these whose run and baseline (calibration cached) are expected
# to answer within ANSWER_WITHIN_S on this machine, else the smallest
SAMPLE_CHOICES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
ANSWER_WITHIN_S = 15.0


def default_sample(scenario: Scenario, replications: int, model: CostModel | None) -> float:
    """The app's default sample share for ``scenario`` (its file's levers) with ``replications`` seeds."""
    if model is None:
        return SAMPLE_CHOICES[0]
    sized = [scenario.model_copy(update={"scale": share}) for share in SAMPLE_CHOICES]
    fits = [sc.scale for sc in sized if expected_wait(model, sc, workers=sampled_workers(sc), replications=replications,
                                                      runs=2, calibrated=True).seconds <= ANSWER_WITHIN_S]
    return max(fits, default=SAMPLE_CHOICES[0])


def run_against_baseline(scenario: Scenario, results: Path, replications: int = 1,
                         progress: Callable[[float, str], None] | None = None) -> AppResult:
    """Run ``scenario`` (writing its folder in ``results``) and its baseline unless one is already there.

    Args:
        scenario: validated scenario with the page's levers.
        results: the results folder root.
        replications: seeds per run (1 = no intervals).
        progress: called with (fraction done 0-1, what is running).
    """
    t0 = time.perf_counter()
    jobs, base_folder = _jobs(scenario, results, replications)
    reused = base_folder is not None
    # progress in simulated days: each run and (unless smart working is off) its counterfactual, per seed
    total = max(sum(progress_days(s, replications) for _, s in jobs), 1)
    done = 0.0

    def tick(job: int, days: int) -> None:
        nonlocal done
        done += days
        if progress is not None:
            what = jobs[job][0]
            progress(min(done / total, 1.0),
                     f"setting up {what} (city, population, calibration)" if days == 0 else f"simulating {what}")

    scenarios = [sc for _, sc in jobs]
    ran = run_scenarios(list(zip(scenarios, _fresh_dirs(scenarios, results))), replications=replications,
                        argv=["run.py", "app"], progress=tick)
    folders = {what: folder for (what, _), (folder, _) in zip(jobs, ran)}
    base_folder = base_folder or folders["baseline"]
    run_folder = folders.get("your scenario", base_folder)
    if progress is not None:
        progress(1.0, "done")
    return AppResult(folder=run_folder, baseline_folder=base_folder, cards=kpi_cards(base_folder, run_folder),
                     seconds=time.perf_counter() - t0, baseline_reused=reused)


# ------------------------------------------------------------------------------------------ map
PEAK_VC = MapMetric("peak_vc", "Peak congestion of the roads touching each zone", "peak volume/capacity",
                    "mean over the zone's links; 1 = capacity", 1.0, "magma_r", "peak congestion")
MAP_METRICS = {**ZONE_METRICS, PEAK_VC.key: PEAK_VC}  # the map's buttons, in this order


@dataclass
class MapData:
    """A map of one figure by zone from a run folder: polygons, values (NaN: no data), Milan's zones;
    for a change from the baseline, the zones with too few sampled workers to tell."""

    metric: MapMetric
    geoms: list
    values: np.ndarray
    milan: np.ndarray
    too_few: np.ndarray | None = None  # set for a difference map
    baseline: str | None = None        # the baseline's folder name, for a difference map


def _zone_values(folder: Path, metric: str) -> tuple[dict, np.ndarray]:
    zones = pq.read_table(folder / "by_zone.parquet").to_pydict()
    if metric != "peak_vc":
        return zones, MAP_METRICS[metric].values(zones)
    links = pq.read_table(folder / "links.parquet").to_pydict()
    n = len(zones["zone"])
    ends = np.r_[links["from_zone"], links["to_zone"]].astype(np.int64)
    vc = np.r_[links["peak_vc_mean"], links["peak_vc_mean"]].astype(float)
    total, count = np.bincount(ends, weights=vc, minlength=n), np.bincount(ends, minlength=n)
    return zones, np.divide(total, count, out=np.full(n, np.nan), where=count > 0)


def zone_map_data(folder: Path, metric: str, baseline: Path | None = None) -> MapData:
    """``metric`` by zone from a run folder (``by_zone.parquet``; ``links.parquet`` for ``peak_vc``),
    or with ``baseline`` its change from that run (:func:`sim.outputs.difference.zone_difference`).

    ``peak_vc`` is the mean, over the links that start or end in the zone, of each link's average
    daily peak volume/capacity (NaN for a zone without links).

    Raises:
        ValueError: an unknown metric; runs on different zones (:class:`~sim.outputs.difference.ZoneMismatch`).
    """
    if metric not in MAP_METRICS:
        raise ValueError(f"map metric must be one of {sorted(MAP_METRICS)}, got {metric!r}")
    zones, values = _zone_values(folder, metric)
    data = MapData(metric=MAP_METRICS[metric], geoms=read_geometry(zones.get("geometry_wkb")), values=values,
                   milan=milan_zones(zones))
    if baseline is None:
        return data
    base, base_values = _zone_values(baseline, metric)
    if metric == "peak_vc":  # roads are not sampled: every zone's change is shown
        if base["zone_id"] != zones["zone_id"]:
            raise ZoneMismatch("the two runs are not on the same zones (zone_id differs): no difference map")
        data.values, data.too_few = values - base_values, np.zeros(len(values), bool)
    else:
        data.values, data.too_few = zone_difference(base, zones, metric)
    data.baseline = Path(baseline).name
    return data


def map_figure(data: MapData, figsize=(5.6, 4.6), lang: str = DEFAULT_LANGUAGE) -> Figure:
    """The app's map of :func:`zone_map_data` (polygons, colour bar with the unit, "no data" hatched), in ``lang``."""
    fig = Figure(figsize=figsize, layout="constrained")
    m = data.metric
    if data.baseline is None:
        zone_map(fig, geoms=data.geoms, values=data.values, unit=m.word("unit", lang), label=m.word("label", lang),
                 cmap=m.cmap, milan=data.milan, lang=lang,
                 hatched_label=m.no_data_label_in(lang) if m.key != "peak_vc" else t("map.no_link", lang))
        fig.suptitle(textwrap.fill(m.word("title", lang), 70), fontsize=9)
    else:
        zone_map(fig, geoms=data.geoms, values=data.values, unit=m.diff_unit_in(lang),
                 label=t("map.change_in", lang, label=m.word("label", lang)), cmap="PuOr_r", diverging=True,
                 milan=data.milan, hatched=data.too_few, lang=lang,
                 hatched_label=t("map.too_few", lang, n=MIN_SAMPLED_WORKERS))
        fig.suptitle(textwrap.fill(t("map.change_title", lang, title=m.word("title", lang)), 70), fontsize=9)
    return fig


__all__ = ["AppResult", "RunInfo", "baseline_for", "find_run", "kpi_cards", "list_runs",
           "read_run", "run_against_baseline", "zone_map_data", "map_figure", "MapData"]
