"""Plots of a results folder: one PNG per planner question, written to ``<run>/plots/``.

Inputs: the folder's parquet tables (``daily``, ``by_*``, ``links``), its ``summary.json`` content
and, when present, ``scenario.resolved.yaml`` (adoption targets, high-stress threshold).
Output: ``plots/*.png`` (Agg backend, no display) and the list of written paths.

Degenerate runs (nobody commuting, nobody remote, one or two days) give plots that say so instead
of failing. A plot that still fails is logged and skipped (``strict=False``), so that a long
simulation never loses its results folder over a figure.
"""

from __future__ import annotations

import hashlib
import logging
import os
import textwrap
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
from matplotlib.ticker import FuncFormatter

from sim.i18n import DEFAULT_LANGUAGE, has, localise_number, long_date, number, t
from sim.outputs.figtext import PNG_LANGUAGE_KEY, TickFormatter, localise_figure, png_language
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

    def __init__(self, run_dir: Path, summary: dict, scenario_name: str, lang: str = DEFAULT_LANGUAGE):
        self.dir = Path(run_dir)
        self.lang = lang
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

    def t(self, key: str, **fields) -> str:
        """The catalogue's text ``key`` in the run's plotting language."""
        return t(key, self.lang, **fields)

    def num(self, text: str) -> str:
        """A number written the Python way, in the plotting language's symbols."""
        return localise_number(text, self.lang)

    def value(self, key: str, x: float) -> str:
        """A KPI value as the registry formats it, in the plotting language."""
        return format_value(key, x, lang=self.lang)

    def caption(self) -> str:
        s = self.summary
        parts = [self.t("plot.caption_scenario", name=self.name)]
        if self.n_days:
            start = long_date(self.dates[0].item(), self.lang) if "date" in self.daily else self.t("plot.caption_day0")
            parts.append(self.t("plot.caption_days_one" if self.n_days == 1 else "plot.caption_days_many",
                                n=self.n_days, start=start))
        if s.get("workers"):
            scale = s.get("scale")
            parts.append(self.t("plot.caption_workers", n=self.num(f"{s['workers']:,.0f}"))
                         + (" " + self.t("plot.caption_scale", scale=self.num(f"{scale:g}")) if scale is not None else ""))
        if s.get("seed") is not None:
            parts.append(self.t("plot.caption_seed", seed=s["seed"]))
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


def _save(fig, path: Path, lang: str = DEFAULT_LANGUAGE) -> Path:
    """Write the figure as a PNG stamped with its language (numbers on its axes in that language)."""
    localise_figure(fig, lang)
    with open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=DPI, metadata={PNG_LANGUAGE_KEY: lang})
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
            ax.set_xticks(run.dates, [long_date(d.item(), run.lang) for d in run.dates])
        ax.set_xlabel(run.t("plot.date_axis"))
    else:
        ax.set_xlabel(run.t("plot.workday_axis"))


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


def _pct(x: float, digits: int = 0, lang: str = DEFAULT_LANGUAGE) -> str:
    return number(100 * x, digits, lang) + "%"


def _day(d: str, lang: str = DEFAULT_LANGUAGE) -> str:
    return word("weekday", d, lang)[:3].capitalize()  # Mon, Tue, ... / Lun, Mar, ...


def _attendance(d: str, share: float, lang: str = DEFAULT_LANGUAGE) -> str:
    return format_value(f"office_attendance_by_weekday.{d}", share, lang=lang)


def _pct_axis(ax_axis, run: "_Run", decimals: int = 0, xmax: float = 100.0) -> None:
    """Percent ticks in the run's language (``12,5%``), as many decimals as the ticks need."""
    ax_axis.set_major_formatter(TickFormatter(run.lang, decimals=decimals, scale=100 / xmax, suffix="%"))


def _nice_max(values, floor: float) -> float:
    v = [float(x) for x in values if x is not None and np.isfinite(x)]
    return max(max(v) if v else 0.0, floor)


# ------------------------------------------------------------------------------------------ 1 remote share
def plot_remote_share(run: _Run, path: Path) -> Path:
    share = run.col("remote_share")
    mean = float(run.summary.get("remote_share", share.mean() if len(share) else 0.0))
    fig, axes = _figure(run, run.t("plot.remote_title", share=run.value("remote_share", mean)))
    ax = axes[0, 0]
    if run.n_days:
        ax.plot(run.dates, 100 * share, color="#2471a3", lw=1.0, marker=_marker(run), ms=3,
                label=run.t("plot.remote_by_day"), alpha=0.85 if run.n_days > 30 else 1.0)
        if run.n_days >= 10:  # weekly mean smooths the weekday pattern
            k = 5
            roll = np.convolve(share, np.ones(k) / k, mode="valid")
            ax.plot(run.dates[k - 1:], 100 * roll, color="#1b4f72", lw=2.2, label=run.t("plot.remote_mean5"))
        allowed = _allowed_total(run)
        if allowed is not None:
            ax.plot(run.dates, 100 * allowed, color="#7f8c8d", lw=1.4, ls="--", label=run.t("plot.remote_allowed"))
        ax.axhline(100 * mean, color="#e67e22", lw=1.2, ls=":", label=run.t("plot.run_mean", value=run.value("remote_share", mean)))
        top = _nice_max(list(100 * share) + ([] if allowed is None else list(100 * allowed)), 5.0)
        ax.set_ylim(0, min(105, top * 1.2))
        if share.max() <= 0:
            _note(ax, run.t("plot.remote_nobody"))
        ax.legend(loc="best", ncols=2, frameon=True, framealpha=0.9, edgecolor="none")
    else:
        _note(ax, run.t("plot.no_days"))
    _date_axis(ax, run)
    ax.set_ylabel(run.t("plot.remote_ylabel"))
    _pct_axis(ax.yaxis, run)
    return _save(fig, path, run.lang)


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
        lg = run.lang
        title = (run.t("plot.att_title_range", hi=_day(hi, lg), hi_share=_attendance(hi, known[hi], lg),
                       lo=_day(lo, lg), lo_share=_attendance(lo, known[lo], lg)) if hi != lo else run.t("plot.att_title"))
    else:
        hi = lo = None
        title = run.t("plot.att_title")
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
            ax.text(xc, 2, run.t("plot.att_not_simulated"), ha="center", va="bottom", fontsize=8, color=GREY)
        elif h >= 12:  # inside the top of the bar
            ax.text(xc, h - 2, _attendance(d, v, run.lang), ha="center", va="top", fontsize=10, fontweight="bold",
                    color=_text_color(b.get_facecolor()))
        else:
            ax.text(xc, h + 1, _attendance(d, v, run.lang), ha="center", va="bottom", fontsize=10, fontweight="bold")
    xlabel = run.t("plot.att_xlabel")
    if known:
        xlabel = run.t("plot.att_xlabel_all", share=_pct(float(np.mean(list(known.values()))), 1, run.lang))
        if max(known.values()) <= 0:
            _note(ax, run.t("plot.att_nobody"))
    else:
        _note(ax, run.t("plot.att_none"))
    ax.set_xticks(x, [_day(d, run.lang) for d in WEEKDAYS])
    ax.set_ylim(0, 100)
    ax.set_yticks(range(0, 101, 20))
    _pct_axis(ax.yaxis, run)
    ax.set_ylabel(run.t("plot.att_ylabel"))
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", visible=False)
    return _save(fig, path, run.lang)


# ------------------------------------------------------------------------------------------ 3 modal split
def plot_modal_split(run: _Run, path: Path) -> Path:
    overall = run.summary.get("modal_split") or {}
    by_seg = run.summary.get("modal_split_by_segment") or {}
    seg_workers = dict(zip(run.by_segment.get("segment", []), run.by_segment.get("workers", [])))
    rows = [(run.t("plot.modal_all"), overall)]
    for s in SEGMENTS:
        if s in by_seg:
            n = seg_workers.get(s)
            label = word("segment", s, run.lang) + ("\n" + run.t("plot.modal_workers", n=_workers(n, run.lang))
                                                    if n is not None else "")
            rows.append((label, by_seg[s]))
    car = float(overall.get("car", 0.0))
    total = sum(float(overall.get(m, 0.0)) for m in MODES)
    title = (run.t("plot.modal_title_car", share=run.value("modal_split.car", car)) if total > 0
             else run.t("plot.modal_title"))
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
                ax.text(left + v / 2, yi, number(v, 0, run.lang) + "%", ha="center", va="center", fontsize=8,
                        color=_text_color(MODE_COLOR[m]), fontweight="bold" if yi == y[0] else None)
            left += v
        if s <= 0:
            ax.text(1, yi, run.t("plot.modal_no_trips_row"), va="center", ha="left", fontsize=8, color=GREY)
    ax.set_yticks(y, [r[0] for r in rows])
    ax.get_yticklabels()[0].set_fontweight("bold")
    ax.set_xlim(0, 100)
    ax.set_ylim(y.min() - 0.6, y.max() + 0.6)
    _pct_axis(ax.xaxis, run)
    ax.set_xlabel(run.t("plot.modal_xlabel"))
    ax.grid(axis="y", visible=False)
    handles = [Patch(color=MODE_COLOR[m], label=word("mode", m, run.lang)) for m in MODES]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(MODES))
    if total <= 0:
        _note(ax, run.t("plot.modal_nobody"))
    return _save(fig, path, run.lang)


def _workers(n: float, lang: str = DEFAULT_LANGUAGE) -> str:
    if n >= 1e6:
        return t("plot.millions", lang, n=number(n / 1e6, 2, lang))
    if n >= 1e3:
        return t("plot.thousands", lang, n=number(n / 1e3, 0, lang))
    return number(n, 0, lang)


# ------------------------------------------------------------------------------------------ 4 car traffic
def plot_car_traffic(run: _Run, path: Path) -> Path:
    vkm = run.col("car_vkm") / 1e6
    delay = run.col("delay_hours") / 1e3
    title = run.t("plot.car_title")
    if run.n_days and vkm.max() > 0:
        title = run.t("plot.car_title_vkm", vkm=_num(vkm.mean(), run.lang))
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
                a.axhline(level, color=LIGHT, ls="--", lw=1.2, label=run.t("plot.without_sw", value=_num(level, run.lang)))
                a.set_ylim(0, max(a.get_ylim()[1], level * 1.2))
            a.axhline(series.mean(), color="#e67e22", ls=":", lw=1.2, label=run.t("plot.run_mean_paren", value=_num(series.mean(), run.lang)))
            a.legend(loc="lower right", ncols=2, frameon=True, framealpha=0.9)
        if vkm.max() <= 0:
            _note(a1, run.t("plot.car_none"))
        if delay.max() <= 0:
            _note(a2, run.t("plot.delay_none"))
    else:
        _note(a1, run.t("plot.no_days"))
    a1.set_ylabel(run.t("plot.car_ylabel"))
    a2.set_ylabel(run.t("plot.delay_ylabel"))
    a1.set_title(run.t("plot.car_panel"), loc="left", fontsize=9, color=GREY)
    a2.set_title(run.t("plot.delay_panel"), loc="left", fontsize=9, color=GREY)
    _date_axis(a2, run)
    return _save(fig, path, run.lang)


def _num(v: float, lang: str = DEFAULT_LANGUAGE) -> str:
    a = abs(v)
    if a >= 100:
        text = f"{v:,.0f}"
    elif a >= 10:
        text = f"{v:.1f}"
    elif a >= 1:
        text = f"{v:.2f}"
    else:
        text = f"{v:.3g}"
    return localise_number(text, lang)


# ------------------------------------------------------------------------------------------ 5 congestion map
# green (free flow) -> gold -> red at capacity -> dark red: no pale colours that vanish on white
_VC_CMAP = mcolors.LinearSegmentedColormap.from_list(
    "vc", [(0.0, "#1a9850"), (0.33, "#91cf60"), (0.5, "#e6b422"), (0.667, "#e8541e"), (1.0, "#5c0016")])
_VC_MAX = 1.5  # top of the v/c colour scale
_LINK_WIDTH = {"local": 1.0, "radial": 2.4, "ring": 2.4, "motorway": 3.2, "connector": 2.4}


def _zones_and_roads(ax, Z: dict, geoms: list, roads, *, width_scale: float = 1.0,
                     lang: str = DEFAULT_LANGUAGE) -> list:
    """Draw the zones lightly (the Comune di Milano outlined, Area C shaded) and the roads coloured by
    their peak v/c (``roads``: segments, v/c, kinds, or None); returns the zones' legend handles."""
    handles = []
    kinds = np.asarray(Z.get("kind", []), dtype=object)
    if geoms and drawn(geoms).any():
        draw_zones(ax, geoms, np.zeros(len(geoms)), cmap=mcolors.ListedColormap(["#f4f6f7"]),
                   norm=mcolors.Normalize(0, 1), edgecolor="#d5d8dc", lw=0.5)
        handles.append(Patch(fc="#f4f6f7", ec="#d5d8dc", label=t("plot.cong_zone", lang)))
        for mask, style, label in ((milan_zones(Z), {"fill": False, "ec": "#34495e", "lw": 1.0, "ls": "--"},
                                    t("map.milan", lang)),
                                   (kinds == "core", {"fc": (0.36, 0.68, 0.89, 0.35), "ec": "#154360", "lw": 1.3},
                                    t("plot.cong_area_c", lang))):
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
    title = run.t("plot.cong_title")
    if worst is not None:
        title += " " + run.t("plot.cong_worst", vc=number(worst, 2, run.lang))
    # the title on as many lines as it needs (about 10 bold characters an inch), the panels below it
    width_in = 11.8 if zoom else SIZE[0]
    lines = textwrap.wrap(title, width=int(width_in * 10))
    height_in = SIZE[1] + 0.3 * (len(lines) - 1)
    fig = plt.figure(figsize=(width_in, height_in), dpi=DPI)
    fig.text(0.012, 1 - 0.1 / height_in, "\n".join(lines), fontsize=12, fontweight="bold", va="top", ha="left")
    fig.text(0.012, 1 - (0.12 + 0.3 * len(lines)) / height_in, run.caption(), fontsize=8, color=GREY, va="top", ha="left")
    top = 1 - (0.12 + 0.3 * len(lines) + 0.5) / height_in  # room for the caption and the panels' titles
    if zoom:
        ax = fig.add_axes((0.05, 0.1, 0.30, top - 0.1))
        cax = fig.add_axes((0.745, 0.14, 0.012, top - 0.16))
        legend_x = 0.835
    else:
        ax = fig.add_axes((0.075, 0.1, 0.44, top - 0.1))
        cax = fig.add_axes((0.585, 0.14, 0.018, top - 0.16))
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
    handles = _zones_and_roads(ax, Z, geoms if has_polygon.any() else [], roads, width_scale=0.7 if zoom else 1.0,
                               lang=run.lang)
    if not has_links:
        _note(ax, run.t("plot.cong_no_links"))
    if zoom:
        ax2 = fig.add_axes((0.37, 0.1, 0.30, top - 0.1))
        _zones_and_roads(ax2, Z, geoms, roads, width_scale=0.8, lang=run.lang)
        bx0, by0, bx1, by1 = panel_bounds(geoms, milan)
        pad = 0.03 * max(bx1 - bx0, by1 - by0)
        ax2.set_xlim(bx0 - pad, bx1 + pad)
        ax2.set_ylim(by0 - pad, by1 + pad)
        ax2.set_aspect("equal", adjustable="box")
        ax2.grid(False)
        ax2.set_title(run.t("map.milan"), fontsize=8, loc="left")
        ax.set_title(run.t("map.whole_area"), fontsize=8, loc="left")
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
            handles.append(Line2D([], [], color="#34495e", lw=1.0, ls="--", label=run.t("plot.cong_milan_approx")))
    if core.any():
        r = max(1.1 * float(dist[core].max()), spacing / 2)  # one central cell: half a cell around it
        ax.add_patch(Circle((0, 0), r, fc=(0.36, 0.68, 0.89, 0.35), ec="#154360", lw=1.3, zorder=3))
        handles.append(Patch(fc=(0.36, 0.68, 0.89, 0.35), ec="#154360", lw=1.3, label=run.t("plot.cong_area_c")))
    if grid.any() and not zoom:  # hundreds of centroids on a metropolitan map would hide the roads
        ax.scatter(zx[grid], zy[grid], s=5, color="#2c3e50", zorder=4, lw=0)
        handles.append(Line2D([], [], color="#2c3e50", marker="o", ms=2.5, lw=0, label=run.t("plot.cong_centroid")))
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
        label = run.t("plot.cong_compass").split(",")[round(ang / 22.5) % 16]
        if far and not same_dist:
            label = run.t("plot.cong_far", label=label, km=number(float(np.hypot(gx, gy)), 0, run.lang))
        ax.annotate(label, xy=(px, py), xytext=(-14 * np.cos(np.radians(ang)), -10 * np.sin(np.radians(ang))),
                    textcoords="offset points", fontsize=7, ha="center", va="center", color="#1c2833", zorder=6,
                    fontweight="bold", bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "#1c2833", "lw": 0.5, "alpha": 0.9})
    if len(gates):
        where = ("\n" + run.t("plot.cong_gateway_where", km=number(float(gdist[0]), 0, run.lang)) if same_dist else "")
        handles.append(Patch(fc="white", ec="#1c2833", lw=0.5,
                             label=run.t("plot.cong_gateway", label=run.t("plot.cong_compass").split(",")[3]) + where))
    handles.append(Line2D([], [], color=LIGHT, lw=3.2, label=run.t("plot.cong_motorway")))
    handles.append(Line2D([], [], color=LIGHT, lw=2.4, label=run.t("plot.cong_radial")))
    handles.append(Line2D([], [], color=LIGHT, lw=1.0, label=run.t("plot.cong_local")))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(run.t("map.km_east"))
    ax.set_ylabel(run.t("map.km_north"))
    ax.grid(False)
    for s in ("top", "right"):
        ax.spines[s].set_visible(True)
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    cb = fig.colorbar(sm, cax=cax, extend="max" if worst is not None and worst > vmax else "neither")
    cb.set_label(run.t("plot.cong_vc_label"), fontsize=8)
    cb.ax.yaxis.set_label_position("left")
    cb.ax.axhline(1.0, color="black", lw=1.2)
    cb.set_ticks([0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5],
                 labels=[run.num(v) if v != "1.0" else run.t("plot.cong_capacity", v=run.num(v))
                         for v in ("0", "0.25", "0.5", "0.75", "1.0", "1.25", "1.5")])
    cb.ax.tick_params(labelsize=7.5)
    for h in handles:  # short lines: the legend stays inside the figure in either language
        h.set_label(textwrap.fill(h.get_label().replace("\n", " "), 24))
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(legend_x, 0.5), fontsize=7.5, frameon=False,
               alignment="left", labelspacing=1.0)
    return _save(fig, path, run.lang)


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
    title = run.t("plot.co2_title")
    if run.n_days:
        title = run.t("plot.co2_title_net", t=_num(net.mean(), run.lang))
        if home.mean() > 0:
            title = run.t("plot.co2_title_home", t=_num(net.mean(), run.lang),
                          share=_pct(home.sum() / max(net.sum(), 1e-12), lang=run.lang))
    fig, axes = _figure(run, title)
    ax = axes[0, 0]
    heated = _shade_heating(ax, run)
    if run.n_days:
        mk = _marker(run)
        if run.n_days <= 40:  # few days: stacked bars (an area would be invisible for one day)
            ax.bar(run.dates, commute, width=0.8, color="#c0392b", alpha=0.7, lw=0, label=run.t("plot.co2_commute"))
            ax.bar(run.dates, home, bottom=commute, width=0.8, color="#f39c12", alpha=0.85, lw=0,
                   label=run.t("plot.co2_home"))
        else:
            ax.fill_between(run.dates, 0, commute, color="#c0392b", alpha=0.55, lw=0, label=run.t("plot.co2_commute"))
            ax.fill_between(run.dates, commute, commute + home, color="#f39c12", alpha=0.75, lw=0,
                            label=run.t("plot.co2_home"))
        ax.plot(run.dates, net, color="black", lw=1.2, marker=mk, ms=2.5, label=run.t("plot.co2_net"))
        cf = run.counterfactual("co2_net_t")
        if cf is not None and run.summary.get("remote_share", 0) > 0 and run.summary.get("days"):
            level = cf / run.summary["days"]
            ax.axhline(level, color="#2c3e50", ls="--", lw=1.1, label=run.t("plot.co2_without", value=_num(level, run.lang)))
        top = _nice_max(list(net) + ([cf / run.summary["days"]] if cf is not None and run.summary.get("days") else []), 1e-9)
        ax.set_ylim(0, top * 1.3 if top > 1e-9 else 1.0)
        if net.max() <= 0:
            _note(ax, run.t("plot.co2_none"))
    else:
        _note(ax, run.t("plot.no_days"))
    handles, _ = ax.get_legend_handles_labels()
    order = [run.t("plot.co2_commute"), run.t("plot.co2_home"), run.t("plot.co2_net")]
    handles = sorted(handles, key=lambda h: order.index(h.get_label()) if h.get_label() in order else 9)
    if heated:
        handles.append(Patch(color="#d6eaf8", label=run.t("plot.co2_heating")))
    ax.legend(handles=handles, loc="upper center", ncols=3, fontsize=7.5)
    _date_axis(ax, run)
    ax.set_ylabel(run.t("plot.co2_ylabel"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: run.num(f"{v:,.0f}" if abs(v) >= 10 else f"{v:g}")))
    return _save(fig, path, run.lang)


# ------------------------------------------------------------------------------------------ 7 stress
def plot_stress(run: _Run, path: Path) -> Path:
    thr = (run.summary.get("calibration") or {}).get("high_stress_threshold")  # calibrated on the baseline (EWCS share)
    share = float(run.summary.get("high_stress_share", 0.0))
    fig, axes = _figure(run, run.t("plot.stress_title", share=run.value("high_stress_share", share)),
                        ncols=2, width_ratios=[1, 1.25])
    a1, a2 = axes[0, 0], axes[0, 1]
    G = run.by_gc
    if G:
        groups = [("man", run.t("plot.men")), ("woman", run.t("plot.women"))]
        width = 0.36
        top = 0.0
        for j, (care, lab, col) in enumerate(((False, run.t("plot.no_care"), "#85c1e9"),
                                              (True, run.t("plot.caregiver"), "#1b4f72"))):
            for i, (g, _) in enumerate(groups):
                rows = [r for r in range(len(G["gender"])) if G["gender"][r] == g and bool(G["caregiver"][r]) == care]
                if not rows:
                    continue
                r = rows[0]
                v = 100 * float(G["high_stress_share"][r])
                x = i + (j - 0.5) * width
                a1.bar(x, v, width=width * 0.92, color=col, label=lab if i == 0 else None)
                a1.text(x, v, run.t("plot.stress_bar", pct=number(v, 0, run.lang) + "%",
                                    mean=number(float(G["mean_stress"][r]), 1, run.lang)), ha="center", va="bottom",
                        fontsize=7.5, linespacing=1.1)
                top = max(top, v)
        a1.set_xticks(range(len(groups)), [g[1] for g in groups])
        a1.set_ylim(0, max(top * 1.35, 5))
        a1.legend(loc="upper left", ncols=2, fontsize=7.5)
    else:
        _note(a1, run.t("plot.no_group_table"))
    _pct_axis(a1.yaxis, run)
    a1.set_ylabel(run.t("plot.stress_ylabel_thr", thr=number(float(thr), 1, run.lang)) if thr is not None else run.t("plot.stress_ylabel"))
    a1.set_title(run.t("plot.stress_panel_groups"), loc="left", fontsize=9, color=GREY)
    a1.grid(axis="x", visible=False)
    ms = run.col("mean_stress")
    if run.n_days:
        a2.plot(run.dates, ms, color="#7d3c98", lw=1.4, marker=_marker(run), ms=3, label=run.t("plot.all_workers"))
        lo, hi = float(ms.min()), float(ms.max())
        cf = run.counterfactual("mean_stress")
        if cf is not None and run.summary.get("remote_share", 0) > 0:
            a2.axhline(cf, color=LIGHT, ls="--", lw=1.2, label=run.t("plot.without_sw", value=number(cf, 2, run.lang)))
            lo, hi = min(lo, cf), max(hi, cf)
        pad = max(0.25, (hi - lo) * 0.5)
        a2.set_ylim(max(0.0, lo - pad), min(10.0, hi + pad))
        a2.legend(loc="upper right", fontsize=7.5)
    else:
        _note(a2, run.t("plot.no_days"))
    a2.set_ylabel(run.t("plot.stress_ylabel_days"))
    a2.set_title(run.t("plot.stress_panel_days"), loc="left", fontsize=9, color=GREY)
    _date_axis(a2, run)
    return _save(fig, path, run.lang)


# ------------------------------------------------------------------------------------------ 8 quits
def plot_quits(run: _Run, path: Path) -> Path:
    s = run.summary
    qw, qm = float(s.get("quits_women_per_1000", 0.0)), float(s.get("quits_men_per_1000", 0.0))
    fig, axes = _figure(run, run.t("plot.quits_title", women=number(qw, 1, run.lang), men=number(qm, 1, run.lang)),
                        ncols=2, width_ratios=[1, 1.35])
    a1, a2 = axes[0, 0], axes[0, 1]
    cfw, cfm = run.counterfactual("quits_women_per_1000"), run.counterfactual("quits_men_per_1000")
    show_cf = cfw is not None and cfm is not None and s.get("remote_share", 0) > 0
    x = np.arange(2)
    w = 0.38 if show_cf else 0.6
    vals = [qw, qm]
    off = -w / 2 if show_cf else 0.0
    a1.bar(x + off, vals, width=w * 0.92, color=["#c0392b", "#2471a3"], label=run.t("plot.this_scenario"))
    top = max(vals)
    for xi, v in zip(x + off, vals):
        a1.text(xi, v, number(v, 1, run.lang), ha="center", va="bottom", fontsize=8)
    if show_cf:
        cfv = [float(cfw), float(cfm)]
        a1.bar(x + w / 2, cfv, width=w * 0.92, color="white", edgecolor=["#c0392b", "#2471a3"], hatch="///",
               lw=1.0, label=run.t("plot.without_sw_plain"))
        for xi, v in zip(x + w / 2, cfv):
            a1.text(xi, v, number(v, 1, run.lang), ha="center", va="bottom", fontsize=8, color=GREY)
        top = max(top, *cfv)
        a1.legend(loc="upper right", fontsize=7.5)
    a1.set_xticks(x, [run.t("plot.women"), run.t("plot.men")])
    a1.set_ylim(0, max(top * 1.3, 1.0))
    a1.set_ylabel(run.t("plot.quits_ylabel"))
    noisy = (run.t("plot.quits_noisy_one" if run.n_days == 1 else "plot.quits_noisy_many", n=run.n_days)
             if run.n_days and run.n_days < 60 else "")
    a1.set_title(run.t("plot.quits_by_gender") + ("\n" + noisy if noisy else ""), loc="left", fontsize=9, color=GREY)
    a1.grid(axis="x", visible=False)
    G = run.by_gc
    if G:
        labels, vals2, cols = [], [], []
        for g, gl, col in (("woman", run.t("plot.women"), "#c0392b"), ("man", run.t("plot.men"), "#2471a3")):
            for care, cl in ((False, run.t("plot.no_care_short")), (True, run.t("plot.caregiver"))):
                rows = [r for r in range(len(G["gender"])) if G["gender"][r] == g and bool(G["caregiver"][r]) == care]
                if rows:
                    labels.append(f"{gl}\n{cl}")
                    vals2.append(float(G["quits_per_1000_per_year"][rows[0]]))
                    cols.append(col if care else mcolors.to_hex(np.array(mcolors.to_rgb(col)) * 0.45 + 0.55))
        xx = np.arange(len(labels))
        a2.bar(xx, vals2, color=cols, width=0.62)
        for xi, v in zip(xx, vals2):
            a2.text(xi, v, number(v, 1, run.lang), ha="center", va="bottom", fontsize=8)
        a2.set_xticks(xx, labels, fontsize=7.5)
        a2.set_ylim(0, max(max(vals2, default=0) * 1.25, 1.0))
    else:
        _note(a2, run.t("plot.no_group_table"))
    a2.set_ylabel(run.t("plot.quits_ylabel_groups"))
    a2.set_title(run.t("plot.quits_by_group") + ("\n " if noisy else ""), loc="left", fontsize=9, color=GREY)
    a2.grid(axis="x", visible=False)
    return _save(fig, path, run.lang)


# ------------------------------------------------------------------------------------------ 9 adoption
def plot_adoption(run: _Run, path: Path) -> Path:
    targets = ((run.scenario.get("adoption") or {}).get("target_allowed_share")) or {}
    adopt = run.summary.get("adoption_by_size") or {}
    fig, axes = _figure(run, run.t("plot.adopt_title"))
    ax = axes[0, 0]
    top = 0.05
    if run.n_days:
        for k in SIZE_CLASSES:
            if f"allowed_{k}" not in run.daily:
                continue
            v = run.col(f"allowed_{k}")
            ax.plot(run.dates, 100 * v, color=SIZE_COLOR[k], lw=1.8, marker=_marker(run), ms=2.5,
                    label=f"{word('size', k, run.lang)}: {run.value(f'adoption_by_size.{k}', float(adopt.get(k, v.mean())))}")
            top = max(top, float(v.max()))
        # targets: one dashed line per distinct value, labelled with its classes
        by_val: dict[float, list[str]] = {}
        for k in SIZE_CLASSES:
            if k in targets:
                by_val.setdefault(round(float(targets[k]), 4), []).append(k)
        for val, ks in by_val.items():
            col = SIZE_COLOR[ks[0]] if len(ks) == 1 else GREY
            ax.axhline(100 * val, color=col, ls="--", lw=1.0, alpha=0.8)
            ax.annotate(run.t("plot.adopt_target", classes=", ".join(word("size", k, run.lang) for k in ks),
                              share=_pct(val, lang=run.lang)), xy=(1.0, 100 * val), xycoords=("axes fraction", "data"),
                        xytext=(-3, 3), textcoords="offset points", ha="right", va="bottom", fontsize=7, color=col)
            top = max(top, val)
        ax.set_ylim(0, min(105, 100 * top * 1.2))
        if all(run.col(f"allowed_{k}").max() <= 0 for k in SIZE_CLASSES if f"allowed_{k}" in run.daily):
            _note(ax, run.t("plot.adopt_nobody"))
        handles, _ = ax.get_legend_handles_labels()
        if by_val:
            handles.append(Line2D([], [], color=GREY, ls="--", lw=1.0, label=run.t("plot.adopt_osw")))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5,
                  title=run.t("plot.adopt_legend"), title_fontsize=7.5, alignment="left")
    else:
        _note(ax, run.t("plot.no_days"))
    _date_axis(ax, run)
    ax.set_ylabel(run.t("plot.adopt_ylabel"))
    _pct_axis(ax.yaxis, run)
    return _save(fig, path, run.lang)


# ------------------------------------------------------------------------------------------ 10, 11 maps by home zone
MAP_QUESTIONS = ("remote_share", "car_share")  # a question before the title: catalogue plot.map_q_<key>


def zone_map_figure(run: _Run, metric_key: str):
    """The map of one :data:`~sim.outputs.maps.ZONE_METRICS` figure by home zone (the figure, not saved)."""
    metric = ZONE_METRICS[metric_key]
    Z = run.by_zone
    geoms = read_geometry(Z.get("geometry_wkb"))
    try:
        values = metric.values(Z)
    except KeyError:  # a folder written before the column existed
        values = np.array([])
    words = metric.word("title", run.lang)
    title = f"{run.t(f'plot.map_q_{metric_key}')} {words}" if metric_key in MAP_QUESTIONS else words
    fig = plt.figure(figsize=(SIZE[0], 5.0), dpi=DPI)
    fig.set_layout_engine("constrained", rect=(0, 0, 1, 0.9), h_pad=0.04, w_pad=0.04)
    fig.text(0.012, 0.975, title, fontsize=12, fontweight="bold", va="top", ha="left")
    fig.text(0.012, 0.925, run.caption(), fontsize=8, color=GREY, va="top", ha="left")
    if not geoms or len(values) != len(geoms):
        ax = fig.add_subplot()
        ax.set_axis_off()
        _note(ax, run.t("plot.map_no_geometry"))
        return fig, None
    zm = zone_map(fig, geoms=geoms, values=values, unit=metric.word("unit", run.lang), label=metric.word("label", run.lang),
                  cmap=metric.cmap, milan=milan_zones(Z), hatched_label=metric.no_data_label_in(run.lang), lang=run.lang)
    return fig, zm


def plot_zone_map(run: _Run, path: Path, metric_key: str) -> Path:
    fig, _ = zone_map_figure(run, metric_key)
    return _save(fig, path, run.lang)


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
    fig, axes = _figure(run, run.t("plot.traj_title", n=len(years), start=long_date(x[0].item(), run.lang)),
                        ncols=2, nrows=2, size=(10.0, 7.0))  # four panels: more room
    ax = axes[0][0]
    for k in SIZE_CLASSES:
        col = f"adoption_by_size.{k}"
        if col in Y:
            ax.plot(x, Y[col], marker="o", color=SIZE_COLOR[k], label=word("size", k, run.lang))
    ax.set_title(run.t("plot.traj_adoption"))
    _pct_axis(ax.yaxis, run, xmax=1.0)
    ax.legend(fontsize=6.5, ncols=2, loc="best")
    panels = [(axes[0][1], "remote_share", run.t("plot.traj_remote"), True),
              (axes[1][0], "co2_net_t", run.t("plot.traj_co2"), False),
              (axes[1][1], "quits_women_per_1000", run.t("plot.traj_quits"), False)]
    for ax, key, title, share in panels:
        ax.plot(x, Y[key], marker="o", color="#2c3e50")
        ax.set_title(title)
        if share:
            _pct_axis(ax.yaxis, run, 0, xmax=1.0)
        else:
            ax.yaxis.set_major_formatter(TickFormatter(run.lang))
    if "high_stress_share" in Y:
        twin = axes[1][1].twinx()
        twin.plot(x, Y["high_stress_share"], marker="s", color="#c0392b", linestyle="--")
        _pct_axis(twin.yaxis, run, 0, xmax=1.0)
        twin.set_ylabel(run.t("plot.traj_stress"), color="#c0392b", fontsize=8)
    starts = policy_starts(run.scenario)
    for row in axes:
        for ax in row:
            for name, start in starts:
                ax.axvline(np.datetime64(start, "D"), color=LIGHT, linestyle=":", linewidth=1.2)
            ax.set_xticks(x, [str(y) for y in years])
            ax.set_xlabel(run.t("plot.traj_year"))
    if starts:
        levers = ", ".join(run.t("plot.traj_start", lever=run.t(f"timed_lever.{n}") if has(f"timed_lever.{n}", run.lang)
                                 else n.replace("_", " "), date=long_date(np.datetime64(d, "D").item(), run.lang))
                           for n, d in starts)
        fig.text(0.99, 0.975, run.t("plot.traj_starts", levers=levers),
                 fontsize=8, color=GREY, ha="right", va="top")
    return _save(fig, path, run.lang)


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


def make_plots(run_dir: Path, summary: dict, scenario_name: str, strict: bool = False, lang: str = DEFAULT_LANGUAGE,
               out: Path | None = None) -> list[Path]:
    """Write ``run_dir/plots/*.png`` from the folder's tables and ``summary``; return the written paths.

    Args:
        run_dir: a results folder holding the parquet tables (and ``scenario.resolved.yaml``).
        summary: the ``summary.json`` content.
        scenario_name: shown in every plot's caption.
        strict: raise on a failing plot instead of logging it and going on.
        lang: the language of every word and number of the plots (stamped in each PNG).
        out: the folder to write to instead of ``run_dir/plots`` (a reader's other language: the
            results folder is never changed).
    """
    run = _Run(Path(run_dir), summary, scenario_name, lang)
    out = Path(run_dir) / "plots" if out is None else Path(out)
    out.mkdir(parents=True, exist_ok=True)
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


def plots_in(run_dir: Path, summary: dict, scenario_name: str, lang: str, redraw_root: Path) -> list[Path]:
    """A run's plots in ``lang``: the folder's own when they were drawn in ``lang``, else drawn again into
    ``redraw_root/<folder>-<lang>/`` (the results folder is read, never written). Unordered."""
    own = [p for p in (Path(run_dir) / "plots").glob("*.png") if p.is_file()]
    if own and all(png_language(p) == lang for p in own):
        return own
    where = hashlib.sha1(str(Path(run_dir).resolve()).encode()).hexdigest()[:8]  # two folders of one name
    target = Path(redraw_root) / f"{Path(run_dir).name}-{where}-{lang}"
    if target.is_dir() and any(target.glob("*.png")):  # drawn before for this reader (a cache)
        return sorted(target.glob("*.png"))
    written = make_plots(run_dir, summary, scenario_name, lang=lang, out=target)
    # the folder's other figures (written by other steps) are kept as they are
    names = {p.name for p in written}
    return written + [p for p in own if p.name not in names]
