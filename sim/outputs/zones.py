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
from shapely.geometry import Point

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

    Zones without a comune (the synthetic grid's cells, gateways) belong to no group; None when no
    zone has one. Milano comes first, then the others by province and name.
    """
    mun = np.asarray(city.municipio)
    names = [MILANO if m > 0 else c for m, c in zip(mun, city.comune)]
    province = {}
    for n, p in zip(names, city.province):
        if n:
            province.setdefault(n, p)  # a comune's province: that of its first zone
    if not province:
        return None
    order = sorted(province, key=lambda n: (n != MILANO, province[n], n))
    index = {n: i for i, n in enumerate(order)}
    of_zone = np.array([index.get(n, -1) if n else -1 for n in names], dtype=np.int64)
    return Grouping(of_zone=of_zone, columns={"comune": order, "province": [province[n] for n in order]},
                    zones=np.bincount(of_zone[of_zone >= 0], minlength=len(order)))


# ------------------------------------------------------------------------------------------ geometry
def zone_geometry(city) -> list:
    """One shapely polygon per zone in the km frame of ``x_km``/``y_km`` (None: not drawn).

    A city without boundaries (the CSV city) gets a circle around each non-gateway centroid, half the
    distance to its nearest neighbour, so that its maps still show each zone where it lies.
    """
    if city.geometry is not None:
        return list(city.geometry)
    inner = np.flatnonzero(city.kind != GATEWAY)
    pts = np.c_[city.x_km, city.y_km]
    out: list = [None] * city.n_zones
    for i in inner:
        d = np.hypot(*(pts[inner] - pts[i]).T)
        d = d[d > 0]
        r = 0.5 * float(d.min()) if len(d) else 1.0
        out[i] = Point(pts[i]).buffer(r, quad_segs=8)
    return out


def geometry_wkb(geoms: list) -> list[bytes | None]:
    """WKB of each polygon (None stays None): the ``geometry_wkb`` column of ``by_zone.parquet``."""
    return [None if g is None else shapely.to_wkb(g) for g in geoms]


def read_geometry(column: list | None) -> list:
    """Polygons back from a ``geometry_wkb`` column (an absent column: no polygons)."""
    if column is None:
        return []
    return [None if b is None else shapely.from_wkb(b) for b in column]
