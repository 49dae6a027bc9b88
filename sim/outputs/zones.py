"""Where a planner reads the results: zone metadata, the groupings by Municipio and by comune, geometry.

Inputs: a :class:`~sim.world.city.City` (its ``zone_code``, ``names``, ``municipio``, ``comune``,
``province`` and ``geometry``).
Outputs: the metadata columns of the by-place tables (:func:`place_columns`), the group of every zone
for the tables by Municipio and by comune (:func:`municipio_groups`, :func:`comune_groups`), and each
zone's polygon as WKB for ``by_zone.parquet`` (:func:`geometry_wkb`; read back with
:func:`read_geometry`). The figures themselves are summed per worker in
:meth:`sim.outputs.metrics.Metrics.groups`, so a Municipio's shares are its workers' totals divided by
its workers' totals, never a mean of its zones' means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point

from sim.world.city import GATEWAY

MILANO = "Milano"  # the comune that holds the NIL


def place_columns(city) -> dict[str, list]:
    """The columns that say which place a zone is: code, name, Municipio (0: none), comune, province."""
    return {"zone_id": list(city.zone_code), "zone_name": list(city.names),
            "municipio": np.asarray(city.municipio, dtype=np.int64).tolist(),
            "comune": list(city.comune), "province": list(city.province)}


@dataclass
class Grouping:
    """Zones grouped for a table: the group of each zone (-1: in no group) and each group's labels."""

    of_zone: np.ndarray           # (n_zones,) int64 group index, -1 outside every group
    columns: dict[str, list]      # label columns, one entry per group
    zones: np.ndarray             # (n_groups,) number of zones in each group

    @property
    def n_groups(self) -> int:
        return len(self.zones)


def municipio_groups(city) -> Grouping | None:
    """The NIL of the Comune di Milano grouped by Municipio (1-9); None when the city has no Municipio."""
    mun = np.asarray(city.municipio, dtype=np.int64)
    present = np.unique(mun[mun > 0])
    if not len(present):
        return None
    index = np.full(mun.max() + 1, -1, dtype=np.int64)
    index[present] = np.arange(len(present))
    of_zone = np.where(mun > 0, index[mun], -1)
    return Grouping(of_zone=of_zone, columns={"municipio": present.tolist()},
                    zones=np.bincount(of_zone[of_zone >= 0], minlength=len(present)))


def comune_groups(city) -> Grouping | None:
    """Zones grouped by comune: every NIL together as Milano, every other comune on its own.

    A group is a comune name within a province (a zone that stands for several small comuni, such as
    "71 comuni" of the commuter belt, is its own row in its province). Zones without a comune (the
    synthetic grid's cells, gateways) belong to no group; None when no zone has one. Milano comes
    first, then the other comuni of the province of Milan, then the other provinces, by name.
    """
    mun = np.asarray(city.municipio)
    keys = [(MILANO, "MI") if m > 0 else ((c, p) if c else None) for m, c, p in zip(mun, city.comune, city.province)]
    present = {k for k in keys if k is not None}
    if not present:
        return None
    order = sorted(present, key=lambda k: (k[0] != MILANO, k[1] != "MI", k[1], k[0]))
    index = {k: i for i, k in enumerate(order)}
    of_zone = np.array([index[k] if k is not None else -1 for k in keys], dtype=np.int64)
    names = [[] for _ in order]
    for z, g in enumerate(of_zone):
        if g >= 0:
            names[g].append(city.names[z])
    return Grouping(of_zone=of_zone, columns={"comune": [k[0] for k in order], "province": [k[1] for k in order],
                                              "zone_names": [_names(n) for n in names]},
                    zones=np.bincount(of_zone[of_zone >= 0], minlength=len(order)))


def _names(names: list[str], most: int = 3) -> str:
    """The zones of a group as a planner reads them: their names, or how many when they are many."""
    return "; ".join(names) if len(names) <= most else f"{len(names)} zones"


# ------------------------------------------------------------------------------------------ geometry
def zone_geometry(city) -> list:
    """One shapely polygon per zone in the km frame of ``x_km``/``y_km`` (None: not drawn).

    A city without boundaries (the CSV city) gets, for each non-gateway zone, its Voronoi cell among
    the centroids (the area nearer to it than to any other), cut to a circle around the centroid whose
    radius is the distance to its nearest neighbour (outer cells would reach to infinity), so that
    its maps show each zone where it lies.
    """
    if city.geometry is not None:
        return list(city.geometry)
    inner = np.flatnonzero(city.kind != GATEWAY)
    pts = np.c_[city.x_km, city.y_km]
    out: list = [None] * city.n_zones
    if len(inner) < 3:
        for i in inner:
            out[i] = Point(pts[i]).buffer(1.0, quad_segs=8)
        return out
    cells = shapely.voronoi_polygons(MultiPoint(pts[inner]), ordered=True).geoms
    for i, cell in zip(inner, cells):
        d = np.hypot(*(pts[inner] - pts[i]).T)
        reach = float(np.sort(d)[1])  # inner cells end half-way to their neighbours, inside the circle
        out[i] = cell.intersection(Point(pts[i]).buffer(reach, quad_segs=16))
    return out


def geometry_wkb(geoms: list) -> list[bytes | None]:
    """WKB of each polygon (None stays None): the ``geometry_wkb`` column of ``by_zone.parquet``."""
    return [None if g is None else shapely.to_wkb(g) for g in geoms]


def read_geometry(column: list | None) -> list:
    """Polygons back from a ``geometry_wkb`` column (an absent column: no polygons)."""
    if column is None:
        return []
    return [None if b is None else shapely.from_wkb(b) for b in column]
