"""Plots of a results folder: one PNG per planner question, written to ``<run>/plots/``.

Inputs: the folder's parquet tables (``daily``, ``by_*``, ``links``), its ``summary.json`` content
and, when present, ``scenario.resolved.yaml`` (adoption targets, high-stress threshold).
Output: ``plots/*.png`` (Agg backend, no display) and the list of written paths.

Degenerate runs (nobody commuting, nobody remote, one or two days) give plots that say so instead
of failing. A plot that still fails is logged and skipped (``strict=False``), so that a long
simulation never loses its results folder over a figure.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a display

import matplotlib.pyplot as plt
import numpy as np
import pyarrow.parquet as pq
import yaml
from matplotlib import colors as mcolors
from matplotlib import dates as mdates
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch, PathPatch
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim.outputs.kpis import format_value, word
from sim.scenario.schema import MODES, SEGMENTS, SIZE_CLASSES, WEEKDAYS
from sim.outputs.maps import (ZONE_METRICS, draw_zones, drawn, milan_is_small, milan_zones, outline, panel_bounds,
                              polygon_path, zone_map)
from sim.outputs.zones import read_geometry

log = logging.getLogger(__name__)

DPI = 110
SIZE = (8.0, 4.5)
MODE_COLOR = {"car": "#c0392b", "transit": "#2471a3", "bike": "#27ae60", "walk": "#f1c40f", "moto": "#8e44ad"}
SIZE_COLOR = {"micro": "#e67e22", "small": "#16a085", "medium": "#8e44ad", "large": "#2c3e50", "public": "#c0392b"}
GREY = "#555555"
LIGHT = "#999999"

plt.rcParams.update({
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "xtick.labelsize": 8, "ytick.labelsize": 8,
    "legend.fontsize": 8, "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
    "grid.color": "#dddddd", "grid.linewidth": 0.6, "axes.axisbelow": True, "legend.frameon": False,
})


# ------------------------------------------------------------------------------------------ helpers
class _Run:
    """The tables of one results folder, read once (missing tables become empty dicts)."""

    def __init__(self, run_dir: Path, summary: dict, scenario_name: str):
        self.dir = Path(run_dir)
        self.summary = summary or {}
        self.name = scenario_name
        self.daily = self._table("daily")
        self.by_gc = self._table("by_gender_caregiver")
        self.by_zone = self._table("by_zone")
        self.by_segment = self._table("by_segment")
        self.by_size = self._table("by_size_class")
        self.links = self._table("links")
        self.yearly = self._table("yearly")
        try:
            self.scenario = yaml.safe_load((self.dir / "scenario.resolved.yaml").read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            self.scenario = {}
        self.n_days = len(self.daily.get("day", []))
        self.dates = (np.array(self.daily["date"], dtype="datetime64[D]") if "date" in self.daily
                      else np.arange(self.n_days))

    def _table(self, name: str) -> dict:
        path = self.dir / f"{name}.parquet"
        if not path.exists():
            return {}
        return pq.read_table(path).to_pydict()

    def col(self, name: str) -> np.ndarray:
        return np.asarray(self.daily.get(name, [0.0] * self.n_days), dtype=float)

    def caption(self) -> str:
        s = self.summary
        parts = [f"Scenario: {self.name}"]
        if self.n_days:
            start = str(self.dates[0]) if "date" in self.daily else "day 0"
            parts.append(f"{self.n_days} workday{'s' if self.n_days != 1 else ''} from {start}")
        if s.get("workers"):
            scale = s.get("scale")
            parts.append(f"{s['workers']:,.0f} workers" + (f" (sample scale {scale:g})" if scale is not None else ""))
        if s.get("seed") is not None:
            parts.append(f"seed {s['seed']}")
        return "   |   ".join(parts)

    def counterfactual(self, key: str):
        cf = self.summary.get("counterfactual") or {}
        return cf.get(key)


def _figure(run: _Run, title: str, ncols: int = 1, nrows: int = 1, size: tuple[float, float] = SIZE, **kw):
    """A figure with a bold title, the scenario caption under it, and constrained layout below."""
    fig = plt.figure(figsize=size, dpi=DPI)
    fig.set_layout_engine("constrained", rect=(0, 0, 1, 0.885), h_pad=0.04, w_pad=0.04)
    fig.text(0.012, 0.975, title, fontsize=12, fontweight="bold", va="top", ha="left")
    fig.text(0.012, 0.915, run.caption(), fontsize=8, color=GREY, va="top", ha="left")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _save(fig, path: Path) -> Path:
    with open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=DPI)
        fh.flush()
        os.fsync(fh.fileno())
    plt.close(fig)
    return path


def _date_axis(ax, run: _Run) -> None:
    if "date" in run.daily:
        locator = mdates.AutoDateLocator(minticks=5, maxticks=10)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=True))
        if run.n_days <= 2:  # a single day would give a degenerate axis
            pad = np.timedelta64(1, "D")
            ax.set_xlim(run.dates[0] - pad, run.dates[-1] + pad)
            ax.set_xticks(run.dates, [str(d) for d in run.dates])
        ax.set_xlabel("workday (calendar date)")
    else:
        ax.set_xlabel("workday")


def _marker(run: _Run) -> str | None:
    return "o" if run.n_days <= 30 else None


def _note(ax, text: str, **kw) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=10, color=GREY,
            bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": "#cccccc"}, **kw)


def _shade_heating(ax, run: _Run) -> bool:
    """Shade the days of the heating season; True if any."""
    if "heating_season" not in run.daily or not run.n_days:
        return False
    h = np.asarray(run.daily["heating_season"], dtype=bool)
    if not h.any():
        return False
    half = np.timedelta64(12, "h") if "date" in run.daily else 0.5
    x = run.dates.astype("datetime64[h]") if "date" in run.daily else run.dates.astype(float)
    edges = np.flatnonzero(np.diff(np.r_[0, h.astype(int), 0]))
    for a, b in zip(edges[::2], edges[1::2]):
        ax.axvspan(x[a] - half, x[b - 1] + half, color="#d6eaf8", alpha=0.7, lw=0, zorder=0)
    return True


def _text_color(color) -> str:
    r, g, b = mcolors.to_rgb(color)
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.6 else "white"


def _pct(x: float, digits: int = 0) -> str:
    return f"{100 * x:.{digits}f}%"


def _day(d: str) -> str:
    return word("weekday", d)[:3]  # Mon, Tue, ...


def _attendance(d: str, share: float) -> str:
    return format_value(f"office_attendance_by_weekday.{d}", share)


def _nice_max(values, floor: float) -> float:
    v = [float(x) for x in values if x is not None and np.isfinite(x)]
    return max(max(v) if v else 0.0, floor)


# ------------------------------------------------------------------------------------------ 1 remote share
def plot_remote_share(run: _Run, path: Path) -> Path:
    share = run.col("remote_share")
    mean = float(run.summary.get("remote_share", share.mean() if len(share) else 0.0))
    fig, axes = _figure(run, f"How much smart working? {format_value('remote_share', mean)} of worker-days are remote")
    ax = axes[0, 0]
    if run.n_days:
        ax.plot(run.dates, 100 * share, color="#2471a3", lw=1.0, marker=_marker(run), ms=3,
                label="remote workers, by day", alpha=0.85 if run.n_days > 30 else 1.0)
        if run.n_days >= 10:  # weekly mean smooths the weekday pattern
            k = 5
            roll = np.convolve(share, np.ones(k) / k, mode="valid")
            ax.plot(run.dates[k - 1:], 100 * roll, color="#1b4f72", lw=2.2, label="5-workday mean")
        allowed = _allowed_total(run)
        if allowed is not None:
            ax.plot(run.dates, 100 * allowed, color="#7f8c8d", lw=1.4, ls="--", label="allowed to work remotely")
        ax.axhline(100 * mean, color="#e67e22", lw=1.2, ls=":", label=f"run mean {format_value('remote_share', mean)}")
        top = _nice_max(list(100 * share) + ([] if allowed is None else list(100 * allowed)), 5.0)
        ax.set_ylim(0, min(105, top * 1.2))
        if share.max() <= 0:
            _note(ax, "Nobody works remotely in this scenario")
        ax.legend(loc="best", ncols=2, frameon=True, framealpha=0.9, edgecolor="none")
    else:
        _note(ax, "No simulated days")
    _date_axis(ax, run)
    ax.set_ylabel("share of all workers remote (%)")
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    return _save(fig, path)


def _allowed_total(run: _Run) -> np.ndarray | None:
    """Share of all workers allowed to work remotely, by day (weighted by the size classes' workers)."""
    if not run.by_size or not all(f"allowed_{k}" in run.daily for k in SIZE_CLASSES):
        return None
    w = dict(zip(run.by_size["size_class"], run.by_size["workers"]))
    tot = sum(w.get(k, 0.0) for k in SIZE_CLASSES)
    if tot <= 0:
        return None
    return sum(run.col(f"allowed_{k}") * w.get(k, 0.0) for k in SIZE_CLASSES) / tot


# ------------------------------------------------------------------------------------------ 2 attendance
def plot_attendance(run: _Run, path: Path) -> Path:
    att = run.summary.get("office_attendance_by_weekday") or {}
    vals = {d: att.get(d) for d in WEEKDAYS}
    known = {d: v for d, v in vals.items() if v is not None}
    if known:
        hi, lo = max(known, key=known.get), min(known, key=known.get)
        title = (f"Which days are offices busiest? {_day(hi)} {_attendance(hi, known[hi])}, "
                 f"{_day(lo)} {_attendance(lo, known[lo])}") if hi != lo else "Which days are offices busiest?"
    else:
        hi = lo = None
        title = "Which days are offices busiest?"
    fig, axes = _figure(run, title)
    ax = axes[0, 0]
    x = np.arange(len(WEEKDAYS))
    heights = [100 * (vals[d] or 0.0) for d in WEEKDAYS]
    cols = ["#1b4f72" if d == hi else "#85c1e9" if d == lo else "#2e86c1" for d in WEEKDAYS]
    bars = ax.bar(x, heights, color=cols, width=0.62)
    for b, d in zip(bars, WEEKDAYS):
        v = vals[d]
        xc, h = b.get_x() + b.get_width() / 2, b.get_height()
        if v is None:
            ax.text(xc, 2, "not simulated", ha="center", va="bottom", fontsize=8, color=GREY)
        elif h >= 12:  # inside the top of the bar
            ax.text(xc, h - 2, _attendance(d, v), ha="center", va="top", fontsize=10, fontweight="bold",
                    color=_text_color(b.get_facecolor()))
        else:
            ax.text(xc, h + 1, _attendance(d, v), ha="center", va="bottom", fontsize=10, fontweight="bold")
    xlabel = "weekday (mean over the run)"
    if known:
        xlabel = f"weekday (mean over the run; all weekdays: {_pct(float(np.mean(list(known.values()))), 1)})"
        if max(known.values()) <= 0:
            _note(ax, "Nobody goes to the office in this scenario")
    else:
        _note(ax, "No weekday simulated")
    ax.set_xticks(x, [_day(d) for d in WEEKDAYS])
    ax.set_ylim(0, 100)
    ax.set_yticks(range(0, 101, 20))
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_ylabel("workers at the office (% of all workers)")
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", visible=False)
    return _save(fig, path)


# ------------------------------------------------------------------------------------------ 3 modal split
def plot_modal_split(run: _Run, path: Path) -> Path:
    overall = run.summary.get("modal_split") or {}
    by_seg = run.summary.get("modal_split_by_segment") or {}
    seg_workers = dict(zip(run.by_segment.get("segment", []), run.by_segment.get("workers", [])))
    rows = [("All office-day trips", overall)]
    for s in SEGMENTS:
        if s in by_seg:
            n = seg_workers.get(s)
            label = word("segment", s) + (f"\n({_workers(n)} workers)" if n is not None else "")
            rows.append((label, by_seg[s]))
    car = float(overall.get("car", 0.0))
    total = sum(float(overall.get(m, 0.0)) for m in MODES)
    title = (f"How do commuters travel on office days? {format_value('modal_split.car', car)} by car" if total > 0
             else "How do commuters travel on office days?")
    fig, axes = _figure(run, title)
    ax = axes[0, 0]
    y = np.arange(len(rows))[::-1].astype(float)
    y[0] += 0.35  # a gap between the overall bar and the segments
    for yi, (label, split) in zip(y, rows):
        left = 0.0
        s = sum(float(split.get(m, 0.0)) for m in MODES)
        for m in MODES:
            v = float(split.get(m, 0.0)) * 100
            if v <= 0:
                continue
            ax.barh(yi, v, left=left, color=MODE_COLOR[m], height=0.7 if yi == y[0] else 0.6,
                    edgecolor="white", lw=0.6)
            if v >= 4.5:
                ax.text(left + v / 2, yi, f"{v:.0f}%", ha="center", va="center", fontsize=8,
                        color=_text_color(MODE_COLOR[m]), fontweight="bold" if yi == y[0] else None)
            left += v
        if s <= 0:
            ax.text(1, yi, "no office-day trips", va="center", ha="left", fontsize=8, color=GREY)
    ax.set_yticks(y, [r[0] for r in rows])
    ax.get_yticklabels()[0].set_fontweight("bold")
    ax.set_xlim(0, 100)
    ax.set_ylim(y.min() - 0.6, y.max() + 0.6)
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_xlabel("share of office-day commuting trips (%)")
    ax.grid(axis="y", visible=False)
    handles = [Patch(color=MODE_COLOR[m], label=word("mode", m)) for m in MODES]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(MODES))
    if total <= 0:
        _note(ax, "No office-day trips in this scenario (nobody commutes)")
    return _save(fig, path)


def _workers(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.2f}M"
    if n >= 1e3:
        return f"{n / 1e3:.0f}k"
    return f"{n:.0f}"


# ------------------------------------------------------------------------------------------ 4 car traffic
def plot_car_traffic(run: _Run, path: Path) -> Path:
    vkm = run.col("car_vkm") / 1e6
    delay = run.col("delay_hours") / 1e3
    title = "How much car commuting and congestion?"
    if run.n_days and vkm.max() > 0:
        title += f" {_num(vkm.mean())} million veh-km a day"
    fig, axes = _figure(run, title, nrows=2, sharex=True)
    a1, a2 = axes[0, 0], axes[1, 0]
    if run.n_days:
        a1.plot(run.dates, vkm, color="#c0392b", lw=1.3, marker=_marker(run), ms=3)
        a2.plot(run.dates, delay, color="#7d3c98", lw=1.3, marker=_marker(run), ms=3)
        for a, series, cf_key, unit in ((a1, vkm, "car_vkm", 1e6), (a2, delay, "delay_hours", 1e3)):
            a.set_ylim(0, _nice_max(series, 1e-9) * 1.25 if series.max() > 0 else 1.0)
            cf = run.counterfactual(cf_key)
            if cf is not None and run.summary.get("remote_share", 0) > 0 and run.summary.get("days"):
                level = cf / run.summary["days"] / unit
                a.axhline(level, color=LIGHT, ls="--", lw=1.2, label=f"without smart working ({_num(level)})")
                a.set_ylim(0, max(a.get_ylim()[1], level * 1.2))
            a.axhline(series.mean(), color="#e67e22", ls=":", lw=1.2, label=f"run mean ({_num(series.mean())})")
            a.legend(loc="lower right", ncols=2, frameon=True, framealpha=0.9)
        if vkm.max() <= 0:
            _note(a1, "No car commuting in this scenario")
        if delay.max() <= 0:
            _note(a2, "No congestion delay in this scenario")
    else:
        _note(a1, "No simulated days")
    a1.set_ylabel("car travel\n(million veh-km/day)")
    a2.set_ylabel("delay\n(thousand hours/day)")
    a1.set_title("Commuter car vehicle-km per workday", loc="left", fontsize=9, color=GREY)
    a2.set_title("Hours lost in congestion by all commuters per workday", loc="left", fontsize=9, color=GREY)
    _date_axis(a2, run)
    return _save(fig, path)


def _num(v: float) -> str:
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


# ------------------------------------------------------------------------------------------ 5 congestion map
_COMPASS = ("E", "ENE", "NE", "NNE", "N", "NNW", "NW", "WNW", "W", "WSW", "SW", "SSW", "S", "SSE", "SE", "ESE")
# green (free flow) -> gold -> red at capacity -> dark red: no pale colours that vanish on white
_VC_CMAP = mcolors.LinearSegmentedColormap.from_list(
    "vc", [(0.0, "#1a9850"), (0.33, "#91cf60"), (0.5, "#e6b422"), (0.667, "#e8541e"), (1.0, "#5c0016")])
_VC_MAX = 1.5  # top of the v/c colour scale
_LINK_WIDTH = {"local": 1.0, "radial": 2.4, "ring": 2.4, "motorway": 3.2, "connector": 2.4}


def _zones_and_roads(ax, Z: dict, geoms: list, roads, *, width_scale: float = 1.0) -> list:
    """Draw the zones lightly (the Comune di Milano outlined, Area C shaded) and the roads coloured by
    their peak v/c (``roads``: segments, v/c, kinds, or None); returns the zones' legend handles."""
    handles = []
    kinds = np.asarray(Z.get("kind", []), dtype=object)
    if geoms and drawn(geoms).any():
        draw_zones(ax, geoms, np.zeros(len(geoms)), cmap=mcolors.ListedColormap(["#f4f6f7"]),
                   norm=mcolors.Normalize(0, 1), edgecolor="#d5d8dc", lw=0.5)
        handles.append(Patch(fc="#f4f6f7", ec="#d5d8dc", label="zone"))
        for mask, style, label in ((milan_zones(Z), {"fill": False, "ec": "#34495e", "lw": 1.0, "ls": "--"},
                                    "Comune di Milano"),
                                   (kinds == "core", {"fc": (0.36, 0.68, 0.89, 0.35), "ec": "#154360", "lw": 1.3},
                                    "Area C core")):
            shape = outline(geoms, mask)
            if shape is not None:
                ax.add_patch(PathPatch(polygon_path(shape), zorder=3, **style))
                handles.append(Patch(**{"fc": "none", **style}, label=label))
    if roads is not None:
        seg, vc_road, kind = roads
        draw = np.argsort(vc_road, kind="stable")  # congested roads on top
        widths = width_scale * np.array([_LINK_WIDTH.get(k, 1.0) for k in kind])
        norm = mcolors.Normalize(0.0, _VC_MAX, clip=True)
        ax.add_collection(LineCollection(seg[draw], colors=_VC_CMAP(norm(vc_road[draw])), linewidths=widths[draw],
                                         capstyle="round", zorder=2))
    return handles


def plot_congestion_map(run: _Run, path: Path) -> Path:
    vmax = _VC_MAX
    L, Z = run.links, run.by_zone
    has_links = bool(L) and len(L.get("link", [])) > 0
    worst = roads = None
    if has_links:
        f, t = np.asarray(L["from_zone"]), np.asarray(L["to_zone"])
        vc = np.asarray(L["peak_vc_mean"], dtype=float)
        # one line per road, coloured by its worse direction
        a, b = np.minimum(f, t), np.maximum(f, t)
        order = np.lexsort((b, a))
        a, b = a[order], b[order]
        starts = np.flatnonzero(np.r_[True, (np.diff(a) != 0) | (np.diff(b) != 0)])
        vc_road = np.maximum.reduceat(vc[order], starts)
        idx = order[starts]
        worst = float(vc_road.max()) if len(vc_road) else None
        seg = np.stack([np.c_[np.asarray(L["from_x_km"])[idx], np.asarray(L["from_y_km"])[idx]],
                        np.c_[np.asarray(L["to_x_km"])[idx], np.asarray(L["to_y_km"])[idx]]], axis=1)
        roads = (seg, vc_road, np.asarray(L["kind"], dtype=object)[idx])
    kinds = np.asarray(Z.get("kind", []), dtype=object)
    zx, zy = np.asarray(Z.get("x_km", []), float), np.asarray(Z.get("y_km", []), float)
    geoms = read_geometry(Z.get("geometry_wkb"))
    has_polygon = drawn(geoms) if len(geoms) == len(kinds) else np.zeros(len(kinds), bool)
    milan = milan_zones(Z)
    # the NIL are small beside the metropolitan area: a second panel on the Comune di Milano
    zoom = bool(has_polygon.any()) and milan_is_small(geoms, milan)
    fig = plt.figure(figsize=(11.8, SIZE[1]) if zoom else SIZE, dpi=DPI)
    title = "Where are roads congested at the morning peak?"
    if worst is not None:
        title += f" Most congested road: v/c {worst:.2f} (workday mean)"
    fig.text(0.012, 0.975, title, fontsize=12, fontweight="bold", va="top", ha="left")
    fig.text(0.012, 0.915, run.caption(), fontsize=8, color=GREY, va="top", ha="left")
    if zoom:
        ax = fig.add_axes((0.05, 0.1, 0.30, 0.76))
        cax = fig.add_axes((0.745, 0.14, 0.012, 0.70))
        legend_x = 0.845
    else:
        ax = fig.add_axes((0.075, 0.1, 0.44, 0.78))
        cax = fig.add_axes((0.585, 0.14, 0.018, 0.70))
        legend_x = 0.715
    ax.set_anchor("W")
    grid = (kinds != "gateway") | has_polygon  # the zones in view: gateways with a polygon are drawn
    if grid.any():
        xs, ys = zx[grid], zy[grid]
    elif has_links:
        xs = np.r_[L["from_x_km"], L["to_x_km"]]
        ys = np.r_[L["from_y_km"], L["to_y_km"]]
    else:
        xs = ys = np.array([0.0])
    spacing = _spacing(L, kinds) if has_links else 1.0
    margin = max(1.6 * spacing, 0.08 * max(np.ptp(xs), np.ptp(ys), 1.0))
    x0, x1, y0, y1 = xs.min() - margin, xs.max() + margin, ys.min() - margin, ys.max() + margin
    # square view around the grid
    half = max(x1 - x0, y1 - y0) / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    x0, x1, y0, y1 = cx - half, cx + half, cy - half, cy + half
    cmap = _VC_CMAP
    norm = mcolors.Normalize(0.0, vmax, clip=True)
    handles = _zones_and_roads(ax, Z, geoms if has_polygon.any() else [], roads, width_scale=0.7 if zoom else 1.0)
    if not has_links:
        _note(ax, "No road links in this run")
    if zoom:
        ax2 = fig.add_axes((0.37, 0.1, 0.30, 0.76))
        _zones_and_roads(ax2, Z, geoms, roads, width_scale=0.8)
        bx0, by0, bx1, by1 = panel_bounds(geoms, milan)
        pad = 0.03 * max(bx1 - bx0, by1 - by0)
        ax2.set_xlim(bx0 - pad, bx1 + pad)
        ax2.set_ylim(by0 - pad, by1 + pad)
        ax2.set_aspect("equal", adjustable="box")
        ax2.grid(False)
        ax2.set_title("Comune di Milano", fontsize=8, loc="left")
        ax.set_title("Whole area", fontsize=8, loc="left")
        ax2.tick_params(labelsize=7)
        ax.tick_params(labelsize=7)
        for sp in ("top", "right"):
            ax2.spines[sp].set_visible(True)
    # without polygons: the municipality and the Area C core as approximate circles
    dist = np.hypot(zx, zy)
    muni = ((kinds == "municipality") | (kinds == "core")) & ~has_polygon.any()
    core = (kinds == "core") & ~has_polygon.any()
    if muni.any():
        r = float(dist[muni].max())
        if r > 0:
            ax.add_patch(Circle((0, 0), r, fill=False, ec="#34495e", lw=1.0, ls="--", zorder=3, alpha=0.8))
            handles.append(Line2D([], [], color="#34495e", lw=1.0, ls="--", label="Milan municipality (approx.)"))
    if core.any():
        r = max(1.1 * float(dist[core].max()), spacing / 2)  # one central cell: half a cell around it
        ax.add_patch(Circle((0, 0), r, fc=(0.36, 0.68, 0.89, 0.35), ec="#154360", lw=1.3, zorder=3))
        handles.append(Patch(fc=(0.36, 0.68, 0.89, 0.35), ec="#154360", lw=1.3, label="Area C core"))
    if grid.any() and not zoom:  # hundreds of centroids on a metropolitan map would hide the roads
        ax.scatter(zx[grid], zy[grid], s=5, color="#2c3e50", zorder=4, lw=0)
        handles.append(Line2D([], [], color="#2c3e50", marker="o", ms=2.5, lw=0, label="zone centroid"))
    # gateways lie far outside the grid: mark where their highways leave the view
    gates = np.flatnonzero((kinds == "gateway") & ~has_polygon)
    gdist = np.hypot(zx[gates], zy[gates])
    same_dist = len(gates) > 0 and np.ptp(gdist) < 1.0
    for g in gates:
        gx, gy = zx[g], zy[g]
        if x0 <= gx <= x1 and y0 <= gy <= y1:
            px, py, far = gx, gy, False
        else:
            dx, dy = gx - cx, gy - cy
            s = min((half * 0.9) / abs(dx) if dx else np.inf, (half * 0.9) / abs(dy) if dy else np.inf)
            px, py, far = cx + s * dx, cy + s * dy, True
        ang = np.degrees(np.arctan2(gy, gx))
        label = _COMPASS[round(ang / 22.5) % 16]
        if far and not same_dist:
            label += f" {np.hypot(gx, gy):.0f} km"
        ax.annotate(label, xy=(px, py), xytext=(-14 * np.cos(np.radians(ang)), -10 * np.sin(np.radians(ang))),
                    textcoords="offset points", fontsize=7, ha="center", va="center", color="#1c2833", zorder=6,
                    fontweight="bold", bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "#1c2833", "lw": 0.5, "alpha": 0.9})
    if len(gates):
        where = (f"\n({gdist[0]:.0f} km from the centre)" if same_dist else "")
        handles.append(Patch(fc="white", ec="#1c2833", lw=0.5,
                             label=f"NNE  gateway road from outside\nthe metropolitan city{where}"))
    handles.append(Line2D([], [], color=LIGHT, lw=3.2, label="motorway / gateway highway"))
    handles.append(Line2D([], [], color=LIGHT, lw=2.4, label="radial, ring road"))
    handles.append(Line2D([], [], color=LIGHT, lw=1.0, label="local streets"))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("km east of the centre")
    ax.set_ylabel("km north of the centre")
    ax.grid(False)
    for s in ("top", "right"):
        ax.spines[s].set_visible(True)
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    cb = fig.colorbar(sm, cax=cax, extend="max" if worst is not None and worst > vmax else "neither")
    cb.set_label("peak-hour volume / capacity\n(mean over workdays, worse direction)", fontsize=8)
    cb.ax.yaxis.set_label_position("left")
    cb.ax.axhline(1.0, color="black", lw=1.2)
    cb.set_ticks([0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5])
    cb.ax.set_yticklabels(["0", "0.25", "0.5", "0.75", "1.0 = capacity", "1.25", "1.5"], fontsize=7.5)
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(legend_x, 0.5), fontsize=7.5, frameon=False,
               alignment="left", labelspacing=1.0)
    return _save(fig, path)


def _spacing(L: dict, kinds: np.ndarray) -> float:
    """Typical distance between neighbouring zones (km), from the non-gateway links."""
    km = np.asarray(L.get("km", []), float)
    k = np.asarray(L.get("kind", []), dtype=object)
    inner = km[(k != "connector") & (km > 0)]
    return float(np.median(inner)) if len(inner) else (float(np.median(km)) if len(km) else 1.0)


# ------------------------------------------------------------------------------------------ 6 CO2
def plot_co2(run: _Run, path: Path) -> Path:
    commute = run.col("co2_commute_t")
    home = run.col("co2_home_t") if "co2_home_t" in run.daily else run.col("co2_home_energy_t") + run.col("co2_extra_trips_t")
    net = run.col("co2_net_t") if "co2_net_t" in run.daily else commute + home
    title = "How much CO2 does commuting emit?"
    if run.n_days:
        title += f" {_num(net.mean())} t/day net"
        if home.mean() > 0:
            title += f", {_pct(home.sum() / max(net.sum(), 1e-12))} from remote days"
    fig, axes = _figure(run, title)
    ax = axes[0, 0]
    heated = _shade_heating(ax, run)
    if run.n_days:
        mk = _marker(run)
        if run.n_days <= 40:  # few days: stacked bars (an area would be invisible for one day)
            ax.bar(run.dates, commute, width=0.8, color="#c0392b", alpha=0.7, lw=0, label="commuting trips")
            ax.bar(run.dates, home, bottom=commute, width=0.8, color="#f39c12", alpha=0.85, lw=0,
                   label="remote days: home energy + extra trips")
        else:
            ax.fill_between(run.dates, 0, commute, color="#c0392b", alpha=0.55, lw=0, label="commuting trips")
            ax.fill_between(run.dates, commute, commute + home, color="#f39c12", alpha=0.75, lw=0,
                            label="remote days: home energy + extra trips")
        ax.plot(run.dates, net, color="black", lw=1.2, marker=mk, ms=2.5, label="net (sum)")
        cf = run.counterfactual("co2_net_t")
        if cf is not None and run.summary.get("remote_share", 0) > 0 and run.summary.get("days"):
            level = cf / run.summary["days"]
            ax.axhline(level, color="#2c3e50", ls="--", lw=1.1, label=f"without smart working (mean {_num(level)})")
        top = _nice_max(list(net) + ([cf / run.summary["days"]] if cf is not None and run.summary.get("days") else []), 1e-9)
        ax.set_ylim(0, top * 1.3 if top > 1e-9 else 1.0)
        if net.max() <= 0:
            _note(ax, "No CO2 from commuting or remote days in this run")
    else:
        _note(ax, "No simulated days")
    handles, _ = ax.get_legend_handles_labels()
    order = ("commuting", "remote days", "net", "without")
    handles = sorted(handles, key=lambda h: next((i for i, o in enumerate(order) if h.get_label().startswith(o)), 9))
    if heated:
        handles.append(Patch(color="#d6eaf8", label="heating season"))
    ax.legend(handles=handles, loc="upper center", ncols=3, fontsize=7.5)
    _date_axis(ax, run)
    ax.set_ylabel("CO2 (tonnes per workday)")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 else f"{v:g}"))
    return _save(fig, path)


# ------------------------------------------------------------------------------------------ 7 stress
def plot_stress(run: _Run, path: Path) -> Path:
    thr = (run.summary.get("calibration") or {}).get("high_stress_threshold")  # calibrated on the baseline (EWCS share)
    share = float(run.summary.get("high_stress_share", 0.0))
    fig, axes = _figure(run, f"Who is stressed? {format_value('high_stress_share', share)} of workers above the "
                             "high-stress level",
                        ncols=2, width_ratios=[1, 1.25])
    a1, a2 = axes[0, 0], axes[0, 1]
    G = run.by_gc
    if G:
        groups = [("man", "Men"), ("woman", "Women")]
        width = 0.36
        top = 0.0
        for j, (care, lab, col) in enumerate(((False, "no care duties", "#85c1e9"), (True, "caregiver", "#1b4f72"))):
            for i, (g, _) in enumerate(groups):
                rows = [r for r in range(len(G["gender"])) if G["gender"][r] == g and bool(G["caregiver"][r]) == care]
                if not rows:
                    continue
                r = rows[0]
                v = 100 * float(G["high_stress_share"][r])
                x = i + (j - 0.5) * width
                a1.bar(x, v, width=width * 0.92, color=col, label=lab if i == 0 else None)
                a1.text(x, v, f"{v:.0f}%\nmean {float(G['mean_stress'][r]):.1f}", ha="center", va="bottom",
                        fontsize=7.5, linespacing=1.1)
                top = max(top, v)
        a1.set_xticks(range(len(groups)), [g[1] for g in groups])
        a1.set_ylim(0, max(top * 1.35, 5))
        a1.legend(loc="upper left", ncols=2, fontsize=7.5)
    else:
        _note(a1, "No group table")
    a1.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    a1.set_ylabel("workers with high stress (%)" + (f"\n(stress > {thr:g} on 0-10)" if thr is not None else ""))
    a1.set_title("High-stress share by gender and care duties", loc="left", fontsize=9, color=GREY)
    a1.grid(axis="x", visible=False)
    ms = run.col("mean_stress")
    if run.n_days:
        a2.plot(run.dates, ms, color="#7d3c98", lw=1.4, marker=_marker(run), ms=3, label="all workers")
        lo, hi = float(ms.min()), float(ms.max())
        cf = run.counterfactual("mean_stress")
        if cf is not None and run.summary.get("remote_share", 0) > 0:
            a2.axhline(cf, color=LIGHT, ls="--", lw=1.2, label=f"without smart working ({cf:.2f})")
            lo, hi = min(lo, cf), max(hi, cf)
        pad = max(0.25, (hi - lo) * 0.5)
        a2.set_ylim(max(0.0, lo - pad), min(10.0, hi + pad))
        a2.legend(loc="upper right", fontsize=7.5)
    else:
        _note(a2, "No simulated days")
    a2.set_ylabel("mean stress (0-10 scale)")
    a2.set_title("Mean stress by workday", loc="left", fontsize=9, color=GREY)
    _date_axis(a2, run)
    return _save(fig, path)


# ------------------------------------------------------------------------------------------ 8 quits
def plot_quits(run: _Run, path: Path) -> Path:
    s = run.summary
    qw, qm = float(s.get("quits_women_per_1000", 0.0)), float(s.get("quits_men_per_1000", 0.0))
    fig, axes = _figure(run, f"Who quits over commuting and stress? Women {qw:.1f}, men {qm:.1f} per 1,000 a year",
                        ncols=2, width_ratios=[1, 1.35])
    a1, a2 = axes[0, 0], axes[0, 1]
    cfw, cfm = run.counterfactual("quits_women_per_1000"), run.counterfactual("quits_men_per_1000")
    show_cf = cfw is not None and cfm is not None and s.get("remote_share", 0) > 0
    x = np.arange(2)
    w = 0.38 if show_cf else 0.6
    vals = [qw, qm]
    off = -w / 2 if show_cf else 0.0
    a1.bar(x + off, vals, width=w * 0.92, color=["#c0392b", "#2471a3"], label="this scenario")
    top = max(vals)
    for xi, v in zip(x + off, vals):
        a1.text(xi, v, f"{v:.1f}", ha="center", va="bottom", fontsize=8)
    if show_cf:
        cfv = [float(cfw), float(cfm)]
        a1.bar(x + w / 2, cfv, width=w * 0.92, color="white", edgecolor=["#c0392b", "#2471a3"], hatch="///",
               lw=1.0, label="without smart working")
        for xi, v in zip(x + w / 2, cfv):
            a1.text(xi, v, f"{v:.1f}", ha="center", va="bottom", fontsize=8, color=GREY)
        top = max(top, *cfv)
        a1.legend(loc="upper right", fontsize=7.5)
    a1.set_xticks(x, ["Women", "Men"])
    a1.set_ylim(0, max(top * 1.3, 1.0))
    a1.set_ylabel("quits per 1,000 employed per year")
    noisy = (f" (annualised from {run.n_days} workday{'s' if run.n_days != 1 else ''}: noisy)"
             if run.n_days and run.n_days < 60 else "")
    a1.set_title("By gender" + ("\n" + noisy.strip() if noisy else ""), loc="left", fontsize=9, color=GREY)
    a1.grid(axis="x", visible=False)
    G = run.by_gc
    if G:
        labels, vals2, cols = [], [], []
        for g, gl, col in (("woman", "Women", "#c0392b"), ("man", "Men", "#2471a3")):
            for care, cl in ((False, "no care\nduties"), (True, "caregiver")):
                rows = [r for r in range(len(G["gender"])) if G["gender"][r] == g and bool(G["caregiver"][r]) == care]
                if rows:
                    labels.append(f"{gl}\n{cl}")
                    vals2.append(float(G["quits_per_1000_per_year"][rows[0]]))
                    cols.append(col if care else mcolors.to_hex(np.array(mcolors.to_rgb(col)) * 0.45 + 0.55))
        xx = np.arange(len(labels))
        a2.bar(xx, vals2, color=cols, width=0.62)
        for xi, v in zip(xx, vals2):
            a2.text(xi, v, f"{v:.1f}", ha="center", va="bottom", fontsize=8)
        a2.set_xticks(xx, labels, fontsize=7.5)
        a2.set_ylim(0, max(max(vals2, default=0) * 1.25, 1.0))
    else:
        _note(a2, "No group table")
    a2.set_ylabel("quits per 1,000 per year")
    a2.set_title("By gender and care duties" + ("\n " if noisy else ""), loc="left", fontsize=9, color=GREY)
    a2.grid(axis="x", visible=False)
    return _save(fig, path)


# ------------------------------------------------------------------------------------------ 9 adoption
def plot_adoption(run: _Run, path: Path) -> Path:
    targets = ((run.scenario.get("adoption") or {}).get("target_allowed_share")) or {}
    adopt = run.summary.get("adoption_by_size") or {}
    fig, axes = _figure(run, "Which employers allow smart working? Share of workers allowed, by firm size")
    ax = axes[0, 0]
    top = 0.05
    if run.n_days:
        for k in SIZE_CLASSES:
            if f"allowed_{k}" not in run.daily:
                continue
            v = run.col(f"allowed_{k}")
            ax.plot(run.dates, 100 * v, color=SIZE_COLOR[k], lw=1.8, marker=_marker(run), ms=2.5,
                    label=f"{word('size', k)}: {format_value(f'adoption_by_size.{k}', float(adopt.get(k, v.mean())))}")
            top = max(top, float(v.max()))
        # targets: one dashed line per distinct value, labelled with its classes
        by_val: dict[float, list[str]] = {}
        for k in SIZE_CLASSES:
            if k in targets:
                by_val.setdefault(round(float(targets[k]), 4), []).append(k)
        for val, ks in by_val.items():
            col = SIZE_COLOR[ks[0]] if len(ks) == 1 else GREY
            ax.axhline(100 * val, color=col, ls="--", lw=1.0, alpha=0.8)
            ax.annotate(f"target {', '.join(ks)}: {_pct(val)}", xy=(1.0, 100 * val), xycoords=("axes fraction", "data"),
                        xytext=(-3, 3), textcoords="offset points", ha="right", va="bottom", fontsize=7, color=col)
            top = max(top, val)
        ax.set_ylim(0, min(105, 100 * top * 1.2))
        if all(run.col(f"allowed_{k}").max() <= 0 for k in SIZE_CLASSES if f"allowed_{k}" in run.daily):
            _note(ax, "No employer allows smart working in this scenario")
        handles, _ = ax.get_legend_handles_labels()
        if by_val:
            handles.append(Line2D([], [], color=GREY, ls="--", lw=1.0, label="Osservatorio Smart Working\ntarget (steady state)"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5,
                  title="firm size (employees): run mean", title_fontsize=7.5, alignment="left")
    else:
        _note(ax, "No simulated days")
    _date_axis(ax, run)
    ax.set_ylabel("workers allowed to work remotely (%)")
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    return _save(fig, path)


# ------------------------------------------------------------------------------------------ 10, 11 maps by home zone
MAP_QUESTIONS = {"remote_share": "Where do the remote workers live?",
                 "car_share": "Where do commuters drive to work?"}


def zone_map_figure(run: _Run, metric_key: str):
    """The map of one :data:`~sim.outputs.maps.ZONE_METRICS` figure by home zone (the figure, not saved)."""
    metric = ZONE_METRICS[metric_key]
    Z = run.by_zone
    geoms = read_geometry(Z.get("geometry_wkb"))
    try:
        values = metric.values(Z)
    except KeyError:  # a folder written before the column existed
        values = np.array([])
    title = f"{MAP_QUESTIONS.get(metric_key, metric.title)} {metric.title}"
    fig = plt.figure(figsize=(SIZE[0], 5.0), dpi=DPI)
    fig.set_layout_engine("constrained", rect=(0, 0, 1, 0.9), h_pad=0.04, w_pad=0.04)
    fig.text(0.012, 0.975, title, fontsize=12, fontweight="bold", va="top", ha="left")
    fig.text(0.012, 0.925, run.caption(), fontsize=8, color=GREY, va="top", ha="left")
    if not geoms or len(values) != len(geoms):
        ax = fig.add_subplot()
        ax.set_axis_off()
        _note(ax, "No zone boundaries in this results folder (written before maps by zone)")
        return fig, None
    zm = zone_map(fig, geoms=geoms, values=values, unit=metric.unit, label=metric.label, cmap=metric.cmap,
                  milan=milan_zones(Z), hatched_label=metric.no_data_label)
    return fig, zm


def plot_zone_map(run: _Run, path: Path, metric_key: str) -> Path:
    fig, _ = zone_map_figure(run, metric_key)
    return _save(fig, path)


# ------------------------------------------------------------------------------------------ entry point
def policy_starts(scenario: dict) -> list[tuple[str, str]]:
    """(lever, start date) of every enabled timed lever of a resolved scenario with a start date."""
    out = []
    for name, block in sorted((scenario.get("policy") or {}).items()):
        if isinstance(block, dict) and block.get("start"):
            on = block.get("enabled", True) if name != "remote_days" else (block.get("floor", 0) > 0 or block.get("cap", 5) < 5)
            if on:
                out.append((name, str(block["start"])))
    return out


def plot_trajectory(run: _Run, path: Path) -> Path:
    """The run year by year: adoption by size class, remote share, net CO2, women's quits and high stress,
    with the start of each timed lever marked (runs longer than a year)."""
    Y = run.yearly
    years = np.array(Y["year"], dtype=int)
    x = np.array(Y["first_date"], dtype="datetime64[D]")
    fig, axes = _figure(run, f"The programme over {len(years)} years: each year's figures, from "
                        f"{Y['first_date'][0]}", ncols=2, nrows=2, size=(10.0, 7.0))  # four panels: more room
    ax = axes[0][0]
    for k in SIZE_CLASSES:
        col = f"adoption_by_size.{k}"
        if col in Y:
            ax.plot(x, Y[col], marker="o", color=SIZE_COLOR[k], label=word("size", k))
    ax.set_title("workers allowed smart working, by employer size")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.legend(fontsize=6.5, ncols=2, loc="best")
    panels = [(axes[0][1], "remote_share", "remote share of worker-days", True),
              (axes[1][0], "co2_net_t", "net CO2 of commuting and remote days (t a year)", False),
              (axes[1][1], "quits_women_per_1000", "women's quits (per 1,000 a year)", False)]
    for ax, key, title, share in panels:
        ax.plot(x, Y[key], marker="o", color="#2c3e50")
        ax.set_title(title)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1) if share else FuncFormatter(lambda v, _: f"{v:,.0f}"))
    if "high_stress_share" in Y:
        twin = axes[1][1].twinx()
        twin.plot(x, Y["high_stress_share"], marker="s", color="#c0392b", linestyle="--")
        twin.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
        twin.set_ylabel("highly stressed (dashed)", color="#c0392b", fontsize=8)
    starts = policy_starts(run.scenario)
    for row in axes:
        for ax in row:
            for name, start in starts:
                ax.axvline(np.datetime64(start, "D"), color=LIGHT, linestyle=":", linewidth=1.2)
            ax.set_xticks(x, [str(y) for y in years])
            ax.set_xlabel("year of the run")
    if starts:
        fig.text(0.99, 0.975, "dotted lines: " + ", ".join(f"{n.replace('_', ' ')} from {d}" for n, d in starts),
                 fontsize=8, color=GREY, ha="right", va="top")
    return _save(fig, path)


PLOTS = (
    ("remote_share.png", plot_remote_share),
    ("office_attendance_by_weekday.png", plot_attendance),
    ("modal_split.png", plot_modal_split),
    ("car_traffic.png", plot_car_traffic),
    ("congestion_map.png", plot_congestion_map),
    ("co2_by_source.png", plot_co2),
    ("stress.png", plot_stress),
    ("quits.png", plot_quits),
    ("adoption_by_size.png", plot_adoption),
    ("map_remote_share.png", lambda run, path: plot_zone_map(run, path, "remote_share")),
    ("map_car_share.png", lambda run, path: plot_zone_map(run, path, "car_share")),
)


def make_plots(run_dir: Path, summary: dict, scenario_name: str, strict: bool = False) -> list[Path]:
    """Write ``run_dir/plots/*.png`` from the folder's tables and ``summary``; return the written paths.

    Args:
        run_dir: a results folder holding the parquet tables (and ``scenario.resolved.yaml``).
        summary: the ``summary.json`` content.
        scenario_name: shown in every plot's caption.
        strict: raise on a failing plot instead of logging it and going on.
    """
    run = _Run(Path(run_dir), summary, scenario_name)
    out = Path(run_dir) / "plots"
    out.mkdir(exist_ok=True)
    written = []
    plots = PLOTS + ((("trajectory_by_year.png", plot_trajectory),) if len(run.yearly.get("year", [])) > 1 else ())
    for name, fn in plots:
        try:
            written.append(fn(run, out / name))
        except Exception:  # a figure must never cost the results folder
            plt.close("all")
            if strict:
                raise
            log.warning("plot %s failed", name, exc_info=True)
    return written
