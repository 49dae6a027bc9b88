"""Maps by zone, drawn from the zones' polygons: the run's plots, the report, the app and the live view.

Inputs: a polygon per zone (shapely, in the km frame of the city; None: not drawn, e.g. gateways)
and a value per zone (NaN: no data, e.g. nobody lives there).
Output: matplotlib axes with one patch per drawn zone, a colour bar whose label carries the unit, zones
without data hatched grey with a legend entry saying why (never coloured as 0), the outline of the
Comune di Milano and, when its zones are small beside the whole map (the NIL inside the metropolitan
city), a second panel zoomed on the Comune.

Which figure a map shows, its words and unit are declared once in :data:`ZONE_METRICS` and read by
the plots and the app.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import matplotlib
import numpy as np
import shapely
from matplotlib import colors as mcolors
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PatchCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from shapely.geometry.polygon import orient

from sim.i18n import DEFAULT_LANGUAGE, has, t
from sim.outputs.figtext import localise_figure
from sim.scenario.schema import MODES

NO_DATA_STYLE = {"facecolor": "#f2f2f2", "edgecolor": "#9a9a9a", "hatch": "////"}
NO_WORKERS = "no data: no sampled worker lives here"
NO_TRIPS = "no data: no sampled resident, or no office-day trip"
TOO_FEW = "too few workers: fewer than {n} sampled residents"
MILAN_OUTLINE = {"color": "#1c2833", "lw": 1.3}
# a second panel on the Comune di Milano when its extent is below this share of the whole map's
ZOOM_BELOW = 0.3  # the synthetic grid's municipality is 1/3 of its width: one panel


@dataclass(frozen=True)
class MapMetric:
    """A figure by home zone: its ``by_zone`` column (or a derived one), words, unit and colours."""

    key: str
    title: str            # "Remote share of workdays, by home zone"
    label: str            # short: what the colour bar measures
    unit: str             # shown on the colour bar
    scale: float = 1.0    # shown value = column value x scale (100 for a share shown in %)
    cmap: str = "viridis"
    button: str = ""      # the app's button
    per_trip: bool = False  # a share of office-day trips: no data where the residents made none

    def word(self, part: str, lang: str = DEFAULT_LANGUAGE) -> str:
        """``title``, ``label``, ``unit`` or ``button`` in ``lang`` (catalogue ``map.<key>.<part>``)."""
        key = f"map.{self.key}.{part}"
        return t(key, lang) if has(key, lang) else getattr(self, part)

    def diff_unit_in(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """:attr:`diff_unit` in ``lang``."""
        return t("map.pp", lang) if self.scale == 100.0 else self.word("unit", lang)

    def no_data_label_in(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """:attr:`no_data_label` in ``lang``."""
        return t("map.no_trips" if self.per_trip else "map.no_workers", lang)

    @property
    def diff_unit(self) -> str:
        """The unit of a difference of this figure (percentage points for a share shown in %)."""
        return "percentage points" if self.scale == 100.0 else self.unit

    def values(self, table: dict) -> np.ndarray:
        """The metric by zone from a ``by_zone`` table (columns as lists), NaN where nobody lives."""
        workers = np.asarray(table.get("workers", []), dtype=float)
        if self.key in PER_WORKER:
            total = sum(np.asarray(table[c], float) for c in PER_WORKER[self.key][0]) * PER_WORKER[self.key][1]
            v = np.divide(total, workers, out=np.full(len(workers), np.nan), where=workers > 0)
        else:
            v = np.asarray(table[self.key], dtype=float)
        sampled = np.asarray(table.get("workers_sampled", workers), dtype=float)
        known = (workers > 0) & (sampled > 0)
        if self.per_trip:  # every resident remote every day: a share of no trips is not 0
            known &= sum(np.asarray(table[f"share_{m}"], float) for m in MODES) > 0
        return np.where(known, v * self.scale, np.nan)

    @property
    def no_data_label(self) -> str:
        return NO_TRIPS if self.per_trip else NO_WORKERS


# figures per resident worker: the by_zone columns summed, times a factor, over the zone's workers
PER_WORKER = {"co2_per_worker": (("co2_commute_t", "co2_home_t"), 1000.0),
              "car_trips_per_worker": (("car_trips",), 1.0)}
ZONE_METRICS = {m.key: m for m in (
    MapMetric("remote_share", "Remote share of workdays, by home zone", "remote share", "% of worker-days", 100.0,
              "viridis", "remote share"),
    MapMetric("car_share", "Car share of office-day trips, by home zone", "car share", "% of office-day trips",
              100.0, "Reds", "car share", per_trip=True),
    MapMetric("mean_stress", "Mean stress, by home zone", "mean stress", "points on the 0-10 scale", 1.0,
              "magma_r", "stress"),
    MapMetric("co2_per_worker", "Net commuting CO2 per worker, by home zone", "CO2 per worker",
              "kg CO2 per worker, whole run", 1.0, "YlOrBr", "CO2 per worker"),
    MapMetric("car_trips_per_worker", "Car commutes per worker, by home zone", "car trips per worker",
              "round trips per worker, whole run", 1.0, "Reds", "car trips"),
)}
# zones with fewer sampled residents than this are hatched on difference maps and left out of the
# validation: below 30 the binomial standard error of a 30% share is above 8 points
MIN_SAMPLED_WORKERS = 30


# ------------------------------------------------------------------------------------------ geometry
def polygon_path(geom) -> MplPath:
    """A matplotlib path of a Polygon or MultiPolygon: every part, holes cut out (one path per zone)."""
    parts = getattr(geom, "geoms", [geom])
    verts, codes = [], []
    for poly in parts:
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        poly = orient(poly, 1.0)  # exterior anticlockwise, holes clockwise: holes stay empty when filled
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            c = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
            c[0], c[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
            verts.append(xy)
            codes.append(c)
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def drawn(geoms: list) -> np.ndarray:
    """Which zones have a polygon to draw (bool, one per zone)."""
    return np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)


def outline(geoms: list, mask: np.ndarray):
    """The union of the polygons of the zones in ``mask`` (None if there are none).

    Simplified boundaries of neighbours do not meet exactly: the union is closed (grown, then shrunk
    back, by 5% of a typical zone's side) so that the slivers between them do not show as lines.
    """
    parts = [g for g, m in zip(geoms, mask) if m and g is not None and not g.is_empty]
    if not parts:
        return None
    eps = 0.05 * float(np.sqrt(np.median([g.area for g in parts])))
    grown = shapely.union_all([g.buffer(eps, join_style="mitre") for g in parts])
    return grown.buffer(-eps, join_style="mitre")


def milan_zones(table: dict) -> np.ndarray:
    """The zones of the Comune di Milano: the NIL (Municipio 1-9), or on the synthetic grid its core and
    municipality cells."""
    mun = np.asarray(table.get("municipio", []), dtype=float)
    if len(mun) and (mun > 0).any():
        return mun > 0
    kinds = np.asarray(table.get("kind", []), dtype=object)
    return (kinds == "core") | (kinds == "municipality")


def milan_is_small(geoms: list, milan: np.ndarray) -> bool:
    """Whether the Comune di Milano is small beside the whole map (below :data:`ZOOM_BELOW` of its
    width), so that a map needs a second panel on it."""
    ok = drawn(geoms) if len(geoms) else np.zeros(0, bool)
    milan = np.asarray(milan, bool)
    whole, city = _bounds(geoms, ok), _bounds(geoms, ok & milan)
    if whole is None or city is None or (ok & milan).sum() == ok.sum():
        return False
    return max(city[2] - city[0], city[3] - city[1]) < ZOOM_BELOW * max(whole[2] - whole[0], whole[3] - whole[1])


def panel_bounds(geoms: list, mask: np.ndarray) -> tuple[float, float, float, float] | None:
    """The bounding box (x0, y0, x1, y1, km) of the drawn zones in ``mask``."""
    return _bounds(geoms, np.asarray(mask, bool) & drawn(geoms))


def _bounds(geoms: list, mask: np.ndarray) -> tuple[float, float, float, float] | None:
    g = [x for x, m in zip(geoms, mask) if m and x is not None and not x.is_empty]
    if not g:
        return None
    b = np.array([x.bounds for x in g])
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


# ------------------------------------------------------------------------------------------ drawing
@dataclass
class ZoneMap:
    """What :func:`zone_map` drew: its panels (the whole map first), the colour bar, the legend."""

    axes: list
    colorbar: object
    legend: object | None
    no_data: int          # zones drawn hatched
    mappable: object = None  # norm and colour map, for a colour bar shared by several maps


def draw_zones(ax, geoms: list, values: np.ndarray, *, cmap, norm, hatched: np.ndarray | None = None,
               edgecolor: str = "white", lw: float = 0.3) -> tuple[PatchCollection | None, PatchCollection | None]:
    """Fill each drawn zone with its value's colour; zones with NaN (or in ``hatched``) hatched grey.

    Returns the coloured collection (gid ``zones``) and the hatched one (gid ``no_data``), either None
    when empty. Together they hold one patch per zone with a polygon.
    """
    ok = drawn(geoms)
    missing = ~np.isfinite(values) if hatched is None else (hatched | ~np.isfinite(values))
    colour_i = np.flatnonzero(ok & ~missing)
    grey_i = np.flatnonzero(ok & missing)
    filled = grey = None
    if len(colour_i):
        filled = PatchCollection([PathPatch(polygon_path(geoms[i])) for i in colour_i], cmap=cmap, norm=norm,
                                 edgecolor=edgecolor, linewidth=lw, zorder=1)
        filled.set_array(np.asarray(values, float)[colour_i])
        filled.set_gid("zones")
        ax.add_collection(filled)
    if len(grey_i):
        grey = PatchCollection([PathPatch(polygon_path(geoms[i])) for i in grey_i], facecolor=NO_DATA_STYLE["facecolor"],
                               edgecolor=NO_DATA_STYLE["edgecolor"], hatch=NO_DATA_STYLE["hatch"], linewidth=lw,
                               zorder=1)
        grey.set_gid("no_data")
        ax.add_collection(grey)
    return filled, grey


def _frame(ax, bounds, pad: float = 0.03) -> None:
    x0, y0, x1, y1 = bounds
    px, py = (x1 - x0) * pad + 1e-9, (y1 - y0) * pad + 1e-9
    ax.set_xlim(x0 - px, x1 + px)
    ax.set_ylim(y0 - py, y1 + py)
    ax.set_aspect("equal", adjustable="box")
    ax.grid(False)
    ax.tick_params(labelsize=7)
    for s in ("top", "right"):
        ax.spines[s].set_visible(True)


def zone_map(fig, where=None, *, geoms: list, values: np.ndarray, unit: str, label: str, cmap="viridis",
             vmin: float | None = None, vmax: float | None = None, diverging: bool = False,
             milan: np.ndarray | None = None, hatched: np.ndarray | None = None, hatched_label: str = NO_WORKERS,
             zoom: bool | None = None, titles: tuple[str, str] | None = None,
             colorbar: bool = True, legend: bool = True, lang: str = DEFAULT_LANGUAGE) -> ZoneMap:
    """Draw a map of ``values`` by zone in ``fig`` (in the subplot spec ``where``, or the whole figure).

    Args:
        geoms: a polygon per zone (None: not drawn).
        values: a value per zone in the unit shown (NaN: no data, drawn hatched).
        unit, label: the colour bar reads "label (unit)".
        vmin, vmax: the colour range (default: 0 or the data's minimum, the data's maximum); with
            ``diverging`` the range is symmetric around 0.
        milan: the zones of the Comune di Milano: outlined, and given a zoomed panel when small.
        zoom: the zoomed panel on (True), off (False) or when the Comune is small beside the map (None).
        hatched: zones drawn hatched whatever their value (e.g. too few sampled workers).
        hatched_label: the legend's words for the hatched zones.
        colorbar, legend: draw them (off: the caller draws one for several maps, e.g. from
            :func:`legend_handles` and the returned norm).
        titles: the two panels' titles (default: the catalogue's whole area and Comune di Milano).
        lang: the language of the map's own words and numbers (labels and units are the caller's).
    """
    titles = titles or (t("map.whole_area", lang), t("map.milan", lang))
    values = np.asarray(values, dtype=float)
    ok = drawn(geoms)
    show = ok & np.isfinite(values) & (True if hatched is None else ~hatched)
    data = values[show]
    if diverging:
        a = float(np.max(np.abs(data))) if len(data) else 1.0
        a = a if a > 0 else 1.0
        norm = mcolors.Normalize(-a, a)
    else:
        lo = vmin if vmin is not None else (min(0.0, float(data.min())) if len(data) else 0.0)
        hi = vmax if vmax is not None else (float(data.max()) if len(data) else 1.0)
        norm = mcolors.Normalize(lo, hi if hi > lo else lo + 1.0)
    cmap = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    whole = _bounds(geoms, ok)
    milan = np.zeros(len(geoms), bool) if milan is None else np.asarray(milan, bool)
    city = _bounds(geoms, milan & ok)
    can_zoom = whole is not None and city is not None and (milan & ok).sum() < ok.sum()
    zoom = can_zoom and (milan_is_small(geoms, milan) if zoom is None else zoom)
    spec = where if where is not None else fig.add_gridspec(1, 1)[0]
    sub = spec.subgridspec(1, 2 if zoom else 1, wspace=0.05)
    axes = [fig.add_subplot(sub[0, i]) for i in range(2 if zoom else 1)]
    n_grey = 0
    boundary = outline(geoms, milan & ok)
    for i, ax in enumerate(axes):
        _, grey = draw_zones(ax, geoms, values, cmap=cmap, norm=norm, hatched=hatched,
                             lw=0.3 if i == 0 and zoom else 0.5)
        if i == 0 and grey is not None:
            n_grey = len(grey.get_paths())
        if boundary is not None:
            ax.add_patch(PathPatch(polygon_path(boundary), fill=False, zorder=3, **MILAN_OUTLINE))
        if whole is None:
            ax.text(0.5, 0.5, t("map.no_boundary", lang), transform=ax.transAxes, ha="center", va="center")
            continue
        _frame(ax, whole if i == 0 else city)
        if zoom:
            ax.set_title(titles[i], fontsize=8, loc="left")
    axes[0].set_xlabel(t("map.km_east", lang), fontsize=8)
    axes[0].set_ylabel(t("map.km_north", lang), fontsize=8)
    sm = ScalarMappable(norm=norm, cmap=cmap)
    below = len(data) > 0 and data.min() < norm.vmin  # values beyond the colour range: an arrow says so
    above = len(data) > 0 and data.max() > norm.vmax
    extend = "both" if below and above else "min" if below else "max" if above else "neither"
    cb = fig.colorbar(sm, ax=axes, shrink=0.85, pad=0.02, extend=extend) if colorbar else None
    if cb is not None:
        cb.set_label(f"{label} ({unit})", fontsize=8)
        cb.ax.tick_params(labelsize=7)
    handles = legend_handles(n_grey > 0, hatched_label, boundary is not None and (milan & ok).sum() < ok.sum(), lang)
    box = None
    if handles and legend and where is None:  # the whole figure is the map: the legend under it
        box = fig.legend(handles=handles, loc="outside lower center", fontsize=7, frameon=False, ncols=len(handles))
    elif handles and legend:  # a map beside other panels: the legend under the map
        for h in handles:  # a narrow panel: labels on short lines
            h.set_label(textwrap.fill(h.get_label(), 32))
        box = axes[0].legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.14), fontsize=7,
                             frameon=False, ncols=1)
    localise_figure(fig, lang)
    return ZoneMap(axes=axes, colorbar=cb, legend=box, no_data=n_grey, mappable=sm)


def legend_handles(hatched: bool, hatched_label: str = NO_WORKERS, milan: bool = False,
                   lang: str = DEFAULT_LANGUAGE) -> list:
    """The legend entries of a map: the hatched zones and why, the outline of the Comune di Milano."""
    handles = []
    if hatched:
        handles.append(Patch(label=hatched_label, **NO_DATA_STYLE))
    if milan:
        handles.append(Line2D([], [], label=t("map.milan", lang), **MILAN_OUTLINE))
    return handles
