"""The city: zones (grid cells and gateways), road links, shortest paths, transit times.

Inputs: :class:`sim.schema.CityConfig`. Output: a :class:`City` of numpy arrays.

Zones ``0 .. n_cells-1`` are the cells of a square grid (row-major, ``zone = row*size + col``);
zones ``n_cells ..`` are gateways where commuters from outside the metropolitan city enter. Every
origin-destination pair has one fixed car path (:class:`Routes`, shortest for given link costs);
its sparse matrix ``path_links`` (OD pairs x links) loads OD flows onto links and sums link times
back into OD times.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from shapely.geometry import box

from sim.scenario.schema import LINK_KINDS, CityConfig

CORE, MUNICIPALITY, HINTERLAND, GATEWAY = 0, 1, 2, 3
ZONE_KINDS = ("core", "municipality", "hinterland", "gateway")
TIE_BREAK_MIN_PER_KM = 1e-6  # negligible cost per km that makes shortest paths unique


@dataclass
class City:
    """Zones, links and OD-pair attributes. Distances in km, times in minutes, capacities in veh/h."""

    grid_size: int                 # cells per side (0 for a CSV city without a grid)
    x_km: np.ndarray               # zone centroid, km east of the centre
    y_km: np.ndarray               # zone centroid, km north of the centre
    kind: np.ndarray               # CORE, MUNICIPALITY, HINTERLAND or GATEWAY (int8)
    residents: np.ndarray          # relative number of resident workers per zone
    jobs: np.ndarray               # relative number of jobs per zone
    link_from: np.ndarray
    link_to: np.ndarray
    link_km: np.ndarray
    link_t0_min: np.ndarray        # free-flow time
    link_capacity_vph: np.ndarray
    link_kind: np.ndarray          # index into LINK_KINDS
    od_transit_min: np.ndarray     # (n_zones*n_zones,) in-vehicle transit time (no access)
    intrazonal_km: float | np.ndarray   # car trip length inside one zone (one value, or one per zone)
    intrazonal_min: float | np.ndarray  # car free-flow time inside one zone (same)
    od_commuters: np.ndarray | None = None  # optional observed OD matrix (n_zones, n_zones)
    workers_total: float | None = None  # full-population workers of od_commuters (None: the scenario's population totals)
    od_source: dict = field(default_factory=dict)  # how od_commuters was made (gravity fit or Istat file), for the summary
    names: list[str] = field(default_factory=list)  # zone names a planner reads ("Duomo", "Sesto San Giovanni")
    # what a planner groups zones by (one entry per zone; "" or 0 where it does not apply)
    zone_code: list[str] = field(default_factory=list)  # NIL id ("NIL_01"), Istat PRO_COM ("015209") or "cell_3_7"
    municipio: np.ndarray | None = None  # int8, 1-9 for the NIL of the Comune di Milano, 0 elsewhere
    comune: list[str] = field(default_factory=list)     # comune name ("Milano" for a NIL)
    province: list[str] = field(default_factory=list)   # province acronym (MI, MB, VA, ...)
    geometry: list | None = None  # shapely polygon per zone in the km frame of x_km/y_km (None: not drawn)

    def __post_init__(self) -> None:
        nz = len(self.x_km)
        self.zone_code = self.zone_code or list(self.names) or [f"zone_{i}" for i in range(nz)]
        self.names = self.names or list(self.zone_code)
        self.municipio = np.zeros(nz, np.int8) if self.municipio is None else np.asarray(self.municipio, np.int8)
        self.comune = self.comune or [""] * nz
        self.province = self.province or [""] * nz

    @property
    def n_zones(self) -> int:
        return len(self.x_km)

    @property
    def n_links(self) -> int:
        return len(self.link_km)

    @property
    def in_milan(self) -> np.ndarray:
        return self.kind <= MUNICIPALITY

    @property
    def in_area_c(self) -> np.ndarray:
        return self.kind == CORE

    def od(self, origin, dest):
        """Index of an OD pair (vectorised)."""
        return origin * self.n_zones + dest

    @cached_property
    def free_flow_routes(self) -> "Routes":
        """Car routes shortest at free flow."""
        return self.routes(self.link_t0_min)

    def routes(self, link_cost_min: np.ndarray, noise: np.ndarray | None = None) -> "Routes":
        """Fixed car routes: for every OD pair the path of least cost (Dijkstra).

        Args:
            link_cost_min: cost of each link (minutes).
            noise: optional (n_zones, n_links) multipliers, one row per origin: drivers from different
                origins perceive costs differently, which spreads flows over parallel roads instead of
                putting a whole sector on one row of the grid (a stochastic assignment in one draw).
        """
        nz, lf, lt = self.n_zones, self.link_from, self.link_to
        # ties in time are broken by distance, so the route between two zones is the same both ways
        link_cost_min = link_cost_min + TIE_BREAK_MIN_PER_KM * self.link_km
        if noise is None:
            graph = sparse.csr_matrix((link_cost_min, (lf, lt)), shape=(nz, nz))
            dist, pred = csgraph.dijkstra(graph, directed=True, return_predecessors=True)
        else:
            dist, pred = np.empty((nz, nz)), np.empty((nz, nz), dtype=np.int32)
            for o in range(nz):
                graph = sparse.csr_matrix((link_cost_min * noise[o], (lf, lt)), shape=(nz, nz))
                dist[o], pred[o] = csgraph.dijkstra(graph, directed=True, indices=o, return_predecessors=True)
        if not np.all(np.isfinite(dist)):
            raise ValueError("the road network is not connected: some zones cannot reach others")
        link_index = sparse.csr_matrix((np.arange(len(lf)) + 1, (lf, lt)), shape=(nz, nz)).toarray() - 1
        rows_od, cols_link = [], []
        for o in range(nz):  # walk back from every destination at once
            cur = np.arange(nz)
            active = cur != o
            while active.any():
                idx = np.nonzero(active)[0]
                p = pred[o, cur[idx]]
                rows_od.append(o * nz + idx)
                cols_link.append(link_index[p, cur[idx]])
                cur[idx] = p
                active[idx] = p != o
        rows_od = np.concatenate(rows_od)
        cols_link = np.concatenate(cols_link)
        path_links = sparse.csr_matrix((np.ones(len(rows_od)), (rows_od, cols_link)), shape=(nz * nz, len(lf)))
        od_km = path_links @ self.link_km
        od_t0 = path_links @ self.link_t0_min
        diag = np.arange(nz) * (nz + 1)
        od_km[diag] = self.intrazonal_km
        od_t0[diag] = self.intrazonal_min
        return Routes(path_links=path_links, od_km=od_km, od_t0_min=od_t0)


@dataclass
class Routes:
    """Fixed car paths: OD x link incidence, path length (km) and free-flow time (min) per OD pair."""

    path_links: sparse.csr_matrix
    od_km: np.ndarray
    od_t0_min: np.ndarray


def _cell_kinds(dist: np.ndarray, cfg: CityConfig) -> np.ndarray:
    kind = np.full(dist.shape, HINTERLAND, dtype=np.int8)
    kind[dist <= cfg.municipality_radius_km] = MUNICIPALITY
    kind[dist <= cfg.core_radius_km] = CORE
    return kind


def build_synthetic_city(cfg: CityConfig) -> City:
    """The default Milan-like grid: core (Area C), municipality, hinterland, gateways, radial/ring roads."""
    n = cfg.grid_size
    c = (n - 1) / 2.0
    rows, cols = np.divmod(np.arange(n * n), n)
    x = (cols - c) * cfg.cell_km
    y = (c - rows) * cfg.cell_km
    dist = np.hypot(x, y)
    kind = _cell_kinds(dist, cfg)
    residents = np.exp(-dist / cfg.resident_decay_km)
    jobs = np.exp(-dist / cfg.job_decay_km)

    cheb = np.maximum(np.abs(rows - c), np.abs(cols - c))
    on_axis = (rows == c) | (cols == c)
    on_diag = (np.abs(rows - c) == np.abs(cols - c))
    links: list[tuple[int, int, float, int]] = []  # from, to, km, kind

    def add(a: int, b: int, km: float, k: int) -> None:
        links.append((a, b, km, k))
        links.append((b, a, km, k))

    for z in range(n * n):
        r, q = rows[z], cols[z]
        for dr, dq in ((0, 1), (1, 0)):
            r2, q2 = r + dr, q + dq
            if r2 >= n or q2 >= n:
                continue
            z2 = r2 * n + q2
            if cheb[z] == cheb[z2] and cheb[z] == cfg.motorway_ring:
                k = 3
            elif cheb[z] == cheb[z2] and cheb[z] == cfg.inner_ring:
                k = 2
            elif on_axis[z] and on_axis[z2]:
                k = 1
            else:
                k = 0
            add(z, z2, cfg.cell_km, k)
        # diagonal radials through the centre (the NE, NW, SE, SW spokes)
        for dr, dq in ((1, 1), (1, -1)):
            r2, q2 = r + dr, q + dq
            if 0 <= r2 < n and 0 <= q2 < n and on_diag[z] and on_diag[r2 * n + q2]:
                add(z, r2 * n + q2, cfg.cell_km * np.sqrt(2), 1)

    # gateways: one per direction, each joined by motorways to the 3 edge cells closest in angle
    # (a direction brings a motorway and several trunk roads, not one road into one cell)
    gx, gy, names = [], [], [f"cell_{r}_{q}" for r, q in zip(rows, cols)]
    edge = np.nonzero(cheb == cheb.max())[0]
    edge_angle = np.arctan2(y[edge], x[edge])
    for g in range(cfg.gateways):
        ang = 2 * np.pi * g / max(cfg.gateways, 1) + np.pi / 8
        gap = np.abs(np.angle(np.exp(1j * (edge_angle - ang))))
        nearest = edge[np.argsort(gap, kind="stable")[:3]]
        edge_r = np.hypot(x[nearest[0]], y[nearest[0]])
        gx.append(np.cos(ang) * (edge_r + cfg.gateway_distance_km))
        gy.append(np.sin(ang) * (edge_r + cfg.gateway_distance_km))
        for cell in nearest:
            add(n * n + g, int(cell), cfg.gateway_distance_km, 4)
        names.append(f"gateway_{g}")

    kind = np.concatenate([kind, np.full(cfg.gateways, GATEWAY, dtype=np.int8)])
    x = np.concatenate([x, gx])
    y = np.concatenate([y, gy])
    residents = np.concatenate([residents, np.zeros(cfg.gateways)])
    jobs = np.concatenate([jobs, np.zeros(cfg.gateways)])
    arr = np.array(links, dtype=float)
    city = _finish_city(cfg, n, x, y, kind, residents, jobs, arr[:, 0].astype(np.int32),
                        arr[:, 1].astype(np.int32), arr[:, 2], arr[:, 3].astype(np.int8), names)
    half = cfg.cell_km / 2  # each cell is drawn as its square; gateways (off the map) are not drawn
    city.geometry = [box(x[z] - half, y[z] - half, x[z] + half, y[z] + half) if z < n * n else None
                     for z in range(len(x))]
    return city


def _finish_city(cfg, grid_size, x, y, kind, residents, jobs, lf, lt, km, lkind, names, od_commuters=None) -> City:
    """Speeds, capacities and transit times; car routes are computed on demand (:meth:`City.routes`)."""
    speed = np.select(
        [lkind == 0, lkind == 1, lkind == 2, lkind >= 3],
        [cfg.local_speed_kmh, cfg.radial_speed_kmh, cfg.ring_speed_kmh, cfg.motorway_speed_kmh])
    in_core = (kind[lf] == CORE) | (kind[lt] == CORE)
    speed = np.where(in_core & (lkind < 3), speed * cfg.core_speed_factor, speed)
    cap = np.select(
        [lkind == 0, lkind == 1, lkind == 2, lkind >= 3],
        [cfg.local_capacity_vph, cfg.radial_capacity_vph, cfg.ring_capacity_vph, cfg.motorway_capacity_vph])
    t0 = km / speed * 60.0
    nz = len(x)
    # transit: faster on radials and regional rail, buses elsewhere
    t_speed = np.where(lkind == 1, cfg.transit_radial_speed_kmh,
                       np.where(lkind == 4, cfg.regional_rail_speed_kmh, cfg.transit_other_speed_kmh))
    g_tr = sparse.csr_matrix((km / t_speed * 60.0, (lf, lt)), shape=(nz, nz))
    transit_flat = csgraph.dijkstra(g_tr, directed=True).reshape(-1).copy()
    intra_km = cfg.intrazonal_km_factor * cfg.cell_km
    diag = np.arange(nz) * (nz + 1)
    transit_flat[diag] = intra_km / cfg.transit_other_speed_kmh * 60.0
    return City(
        grid_size=grid_size, x_km=np.asarray(x, float), y_km=np.asarray(y, float), kind=np.asarray(kind, np.int8),
        residents=np.asarray(residents, float), jobs=np.asarray(jobs, float),
        link_from=lf, link_to=lt, link_km=km, link_t0_min=t0, link_capacity_vph=cap.astype(float),
        link_kind=lkind, od_transit_min=transit_flat, intrazonal_km=intra_km,
        intrazonal_min=intra_km / cfg.local_speed_kmh * 60.0, od_commuters=od_commuters, names=names)


def load_csv_city(cfg: CityConfig) -> City:
    """A city from ``zones.csv`` (zone, x_km, y_km, kind, residents, jobs) and optional ``od.csv``.

    ``kind`` is one of core, municipality, hinterland, gateway. Roads join each zone to its nearest
    neighbours (``local``; ``radial`` between zones of the municipality and core); gateways connect to
    the nearest non-gateway zone by motorway. ``od.csv`` (origin, destination, commuters) replaces the
    gravity model for where workers live.
    """
    folder = Path(cfg.csv_dir)
    with open(folder / "zones.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    need = {"zone", "x_km", "y_km", "kind", "residents", "jobs"}
    if not rows or not need <= set(rows[0]):
        raise ValueError(f"{folder / 'zones.csv'}: expected columns {sorted(need)}")
    names = [r["zone"] for r in rows]
    try:
        x = np.array([float(r["x_km"]) for r in rows])
        y = np.array([float(r["y_km"]) for r in rows])
        res = np.array([float(r["residents"]) for r in rows])
        jobs = np.array([float(r["jobs"]) for r in rows])
        kind = np.array([ZONE_KINDS.index(r["kind"].strip()) for r in rows], dtype=np.int8)
    except ValueError as exc:
        raise ValueError(f"{folder / 'zones.csv'}: bad value ({exc}); kind must be one of {ZONE_KINDS}") from None
    nz = len(rows)
    inner = np.nonzero(kind != GATEWAY)[0]
    pts = np.c_[x, y]
    links: list[tuple[int, int, float, int]] = []
    seen = set()
    k_near = min(4, len(inner) - 1)
    for i in inner:
        d = np.hypot(*(pts[inner] - pts[i]).T)
        for j in inner[np.argsort(d)[1:k_near + 1]]:
            key = (min(i, j), max(i, j))
            if key in seen:
                continue
            seen.add(key)
            km = float(np.hypot(*(pts[i] - pts[j])))
            lk = 1 if kind[i] <= MUNICIPALITY and kind[j] <= MUNICIPALITY else 0
            links += [(i, j, km, lk), (j, i, km, lk)]
    for g in np.nonzero(kind == GATEWAY)[0]:
        d = np.hypot(*(pts[inner] - pts[g]).T)
        j = inner[np.argmin(d)]
        km = float(d.min())
        links += [(g, j, km, 4), (j, g, km, 4)]
    arr = np.array(links, dtype=float)
    od = None
    od_path = folder / "od.csv"
    if od_path.is_file():
        od = np.zeros((nz, nz))
        index = {name: i for i, name in enumerate(names)}
        with open(od_path, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                try:
                    od[index[r["origin"]], index[r["destination"]]] += float(r["commuters"])
                except KeyError as exc:
                    raise ValueError(f"{od_path}: unknown zone {exc}") from None
    return _finish_city(cfg, 0, x, y, kind, res, jobs, arr[:, 0].astype(np.int32), arr[:, 1].astype(np.int32),
                        arr[:, 2], arr[:, 3].astype(np.int8), names, od)
