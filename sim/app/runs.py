"""What the app's buttons do, without the page: run a scenario against its baseline, list and read runs.

Every run the app starts is an ordinary results folder in ``results/`` (the same as ``run.py run``
writes, report included), so the earlier runs are simply the folders found there. The baseline of a
run is ``scenarios/milan_baseline.yaml`` at the same seed, days, scale and replications (or, for a
scenario on another city, the same scenario with every lever at its default); an earlier folder of
exactly that baseline, written by the same code, is reused instead of run again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow.parquet as pq
import yaml
from matplotlib.figure import Figure

from sim import __version__
from sim.outputs.compare import HEADLINE, build_rows, resolve_sources, unit
from sim.outputs.difference import ZoneMismatch, zone_difference
from sim.outputs.maps import MIN_SAMPLED_WORKERS, TOO_FEW, ZONE_METRICS, MapMetric, milan_zones, zone_map
from sim.outputs.report import HEADLINE_WORDS
from sim.outputs.zones import read_geometry
from sim.runner import default_out_dir, git_commit, run_and_write
from sim.scenario.load import load_scenario, resolved_dict
from sim.scenario.schema import PolicyConfig, Scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
BASELINE_FILE = SCENARIOS / "milan_baseline.yaml"

# which way is better for a planner (+1 higher is better, -1 lower is better, 0 neither)
BETTER = {"remote_share": 0, "car_vkm": -1, "co2_commute_t": -1, "co2_home_t": -1, "co2_net_t": -1,
          "commute_hours_per_worker": -1, "hours_saved_per_worker": 1, "delay_hours": -1, "peak_extra_time": -1,
          "mean_stress": -1, "high_stress_share": -1, "quits_women_per_1000": -1, "quits_men_per_1000": -1}


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


def _same_code(folder: Path) -> bool:
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return manifest.get("package_version") == __version__ and manifest.get("git_commit") == git_commit()


def find_run(results: Path, scenario: Scenario, replications: int) -> Path | None:
    """An earlier complete folder in ``results`` of exactly this scenario and replications, by this code."""
    want = resolved_dict(scenario)
    for info in list_runs(results):
        if info.replications != replications or not _same_code(info.folder):
            continue
        try:
            got = yaml.safe_load((info.folder / "scenario.resolved.yaml").read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if got == want:
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

    @property
    def label(self) -> str:
        reps = f", {self.replications} seeds" if self.replications > 1 else ""
        return (f"{self.folder.name}  ({self.workers:,} workers sampled, {self.days} days, seed {self.seed}{reps})")


def read_run(folder: Path) -> RunInfo | None:
    """The folder's summary and manifest, or None if it is not a complete run folder."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if "remote_share" not in summary:
        return None
    return RunInfo(folder=folder, name=summary.get("scenario", folder.name), finished=manifest.get("finished", ""),
                   seed=int(manifest.get("seed", 0)), scale=float(manifest.get("scale", 1.0)),
                   days=int(manifest.get("days", 0)), workers=int(manifest.get("workers_sampled", 0)),
                   replications=int((summary.get("replications") or {}).get("n", 1)), summary=summary)


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
    """The headline KPIs of ``run`` against ``baseline``: value, difference, percent, 95% interval."""
    sources = resolve_sources([str(baseline), str(run)])
    rows = {r["kpi"]: r for r in build_rows(sources)}
    cards = []
    for k in HEADLINE:
        r = rows.get(k)
        if r is None or r["value"] is None:
            continue
        diff = r["diff"] or 0.0
        scale = max(abs(r["baseline"] or 0.0), abs(r["value"]), 1e-12)
        direction = 0 if abs(diff) <= 1e-9 * scale else (1 if diff > 0 else -1)
        cards.append({**r, "label": HEADLINE_WORDS.get(k, (k,))[0], "unit": unit(k), "direction": direction,
                      "verdict": direction * BETTER.get(k, 0)})
    return cards


def _fresh_dir(scenario: Scenario, results: Path) -> Path:
    out = default_out_dir(scenario, results)
    i = 2
    while out.exists():  # two runs in the same second
        out = out.with_name(f"{default_out_dir(scenario, results).name}-{i}")
        i += 1
    return out


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
    base = baseline_for(scenario)
    base_folder = find_run(results, base, replications)
    reused = base_folder is not None
    jobs = [("baseline", base)] if base_folder is None else []
    same = _without(resolved_dict(scenario), "name", "description") == _without(resolved_dict(base), "name", "description")
    if not same:  # a scenario that is the baseline is not run twice
        jobs.append(("your scenario", scenario))
    # progress in simulated days: each run and (unless smart working is off) its counterfactual, per seed
    total = max(sum(s.days * (1 + (s.policy.smart_working != "off")) * replications for _, s in jobs), 1)
    done = 0.0
    folders = {}
    for what, sc in jobs:
        def tick(days: int, what=what) -> None:
            nonlocal done
            done += days
            if progress is not None:
                progress(min(done / total, 1.0), f"simulating {what}")
        if progress is not None:
            progress(done / total, f"setting up {what} (city, population, calibration)")
        folders[what], _ = run_and_write(sc, _fresh_dir(sc, results), argv=["run.py", "app"], progress=tick,
                                         replications=replications)
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


def map_figure(data: MapData, figsize=(5.6, 4.6)) -> Figure:
    """The app's map of :func:`zone_map_data` (polygons, colour bar with the unit, "no data" hatched)."""
    fig = Figure(figsize=figsize, layout="constrained")
    m = data.metric
    if data.baseline is None:
        zone_map(fig, geoms=data.geoms, values=data.values, unit=m.unit, label=m.label, cmap=m.cmap,
                 milan=data.milan, hatched_label=m.no_data_label if m.key != "peak_vc" else "no data: no road link")
        fig.suptitle(m.title, fontsize=9)
    else:
        zone_map(fig, geoms=data.geoms, values=data.values, unit=m.diff_unit, label=f"change in {m.label}",
                 cmap="PuOr_r", diverging=True, milan=data.milan, hatched=data.too_few,
                 hatched_label=TOO_FEW.format(n=MIN_SAMPLED_WORKERS))
        fig.suptitle(f"{m.title}: change from the baseline", fontsize=9)
    return fig


__all__ = ["AppResult", "RunInfo", "baseline_for", "find_run", "kpi_cards", "list_runs",
           "read_run", "run_against_baseline", "zone_map_data", "map_figure", "MapData"]
