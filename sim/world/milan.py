"""The real Città metropolitana di Milano: zones, workers, jobs, roads, metro and a calibrated OD.

Inputs: :class:`sim.scenario.schema.CityConfig` (``source: milan``) and the files in
``sim/data/milan/`` (see its PROVENANCE.md). Output: a :class:`sim.world.city.City`.

Zones (sim/data/milan/zones.csv): the 88 NIL of the Comune di Milano (the 8 of the Cerchia dei
Bastioni are CORE = Area C, the others MUNICIPALITY), the 132 other comuni of the Città
metropolitana (HINTERLAND), and the commuter belt (GATEWAY): the comuni of MB, VA, CO, LC, BG, LO,
PV and NO within 30 km of the Duomo one by one, the rest grouped per province in 30-45, 45-60 and
over 60 km bands. Coordinates: km east/north of the Duomo (equirectangular).

Workers (commuters by home zone) come from the census (employed residents, NIL; residents x
employment rate, comuni) scaled to today. Jobs: the Comune's from Milan's own commuters and the
share that comes from outside; the other comuni's from the ASIA ratio; inside Milan a per-NIL proxy.
The OD is a doubly-constrained gravity model whose deterrence ``t^-a exp(-b t)`` (door-to-door
minutes) is fitted to the Istat 2011 time bands of Milan residents working in Milan and to the share
of them who work in Milan; or the Istat commuting file (``city.od_matrix``). Only flows that end in
the Città metropolitana are modelled (belt zones are homes only).
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize, sparse
from scipy.sparse import csgraph
from shapely import STRtree
from shapely.affinity import affine_transform
from shapely.geometry import shape

from sim.scenario.schema import CityConfig
from sim.world.city import CORE, GATEWAY, HINTERLAND, MUNICIPALITY, ZONE_KINDS, City, _finish_city
from sim.world.istat_od import (DATA_DIR, STUDY_PROVINCES, TIME_BANDS, ZoneTable, istat_time_bands, read_istat_od,
                                read_zone_table, time_band_shares)

log = logging.getLogger(__name__)

DUOMO_LON, DUOMO_LAT = 9.18951, 45.46427          # Piazza del Duomo: origin of the km frame
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320 * np.cos(np.radians(DUOMO_LAT))
ADJACENT_KM = 0.15                               # polygons this close are neighbours (gaps between sources)
# Milan rail terminals where regional and suburban trains meet the metro (station names of the GTFS)
RAIL_HUBS = ("CENTRALE FS", "GARIBALDI FS", "CADORNA FN M1", "CADORNA FN M2", "ROGOREDO FS", "LAMBRATE FS",
             "P.TA GENOVA F.S.", "REPUBBLICA")
# the first 400 m of walk at each end are part of city.transit_access_min (walk, wait): only the rest
# of the walk to a station is added here (assumption: ~5 min at 4.5 km/h)
WALK_IN_ACCESS_KM = 0.4
LOCAL, RADIAL, RING, MOTORWAY, CONNECTOR = range(5)  # indices of sim.world.city.LINK_KINDS


def to_km(lon, lat):
    """Equirectangular projection around the Duomo: km east, km north."""
    return (np.asarray(lon) - DUOMO_LON) * KM_PER_DEG_LON, (np.asarray(lat) - DUOMO_LAT) * KM_PER_DEG_LAT


@lru_cache(maxsize=1)
def _geometry_lonlat() -> dict[str, object]:
    with open(DATA_DIR / "zones.geojson", encoding="utf-8") as fh:
        gj = json.load(fh)
    return {f["properties"]["zone_code"]: shape(f["geometry"]) for f in gj["features"]}


def zone_polygons(table: ZoneTable) -> list:
    """Zone polygons in the km frame (shapely)."""
    geo = _geometry_lonlat()
    m = [KM_PER_DEG_LON, 0, 0, KM_PER_DEG_LAT, -DUOMO_LON * KM_PER_DEG_LON, -DUOMO_LAT * KM_PER_DEG_LAT]
    return [affine_transform(geo[c], m) for c in table.zone_code]


# ------------------------------------------------------------------------------ workers and jobs
def workers_and_jobs(table: ZoneTable, kind: np.ndarray, x: np.ndarray, y: np.ndarray, cfg: CityConfig):
    """Commuters by home zone and jobs by work zone (full population, today).

    Returns (workers, jobs), one value per zone. Belt jobs close the total (jobs = workers overall),
    so the gravity model can send belt residents to belt jobs; only flows into the CM are modelled.
    """
    mc = cfg.milan
    in_milan = kind <= MUNICIPALITY
    employed = np.where(in_milan, table.employed_2011, table.residents_2011 * mc.employed_per_resident)
    growth = np.where(in_milan, mc.milan_population_growth, mc.outside_population_growth)
    workers = employed * mc.commuters_per_employed * growth            # data x data (Milan) / assumption
    # jobs in the Comune: Milan's commuters who work in Milan are (1 - share from outside) of them
    jobs_milan = workers[in_milan].sum() * mc.milan_residents_working_in_milan / (1 - mc.milan_jobs_from_outside_share)
    jobs_hinter = jobs_milan * mc.hinterland_jobs_per_milan_job
    jobs = np.zeros(len(workers))
    # per NIL: a blend of employed residents and built area weighted by centrality (job_decay_km)
    d = np.hypot(x, y)
    centrality = table.area_km2 * np.exp(-d / cfg.job_decay_km)
    w = mc.nil_jobs_area_weight
    share = (1 - w) * workers / workers[in_milan].sum() + w * centrality / centrality[in_milan].sum()
    jobs[in_milan] = jobs_milan * share[in_milan]
    h = kind == HINTERLAND
    jobs[h] = jobs_hinter * workers[h] / workers[h].sum()              # assumption: jobs follow workers
    g = kind == GATEWAY
    belt_jobs = workers.sum() - jobs_milan - jobs_hinter
    if belt_jobs <= 0:
        raise ValueError("city.milan: the jobs of the Città metropolitana exceed all workers of the study area; "
                         "lower hinterland_jobs_per_milan_job or milan_jobs_from_outside_share")
    jobs[g] = belt_jobs * workers[g] / workers[g].sum()
    return workers, jobs


# ------------------------------------------------------------------------------ networks
def road_links(polys: list, x: np.ndarray, y: np.ndarray, kind: np.ndarray, detour: float):
    """Links between neighbouring zones (polygons within ADJACENT_KM), both directions.

    Kind of road (assumption, see PROVENANCE.md): inside Area C local streets; between other NIL the
    urban arterials (``radial``); across the Comune boundary and between comuni the motorways and
    trunk roads (``motorway``); into a grouped belt zone a ``connector`` (motorway speed).
    """
    tree = STRtree(polys)
    pairs = tree.query([p.buffer(ADJACENT_KM) for p in polys], predicate="intersects")
    a, b = pairs
    keep = a < b
    a, b = a[keep], b[keep]
    km = np.maximum(np.hypot(x[a] - x[b], y[a] - y[b]) * detour, 0.3)
    milan = kind <= MUNICIPALITY
    lk = np.where(milan[a] & milan[b], np.where((kind[a] == CORE) | (kind[b] == CORE), LOCAL, RADIAL), MOTORWAY)
    return a, b, km, lk


def _stations():
    """Metro stops (line, name, x_km, y_km) in line order, per pattern, from the GTFS 2019 files."""
    patterns: dict[tuple[str, str], list] = {}
    for fname in ("metro_stations_gtfs2019.csv", "metro_branches_gtfs2019_derived.csv"):
        with open(DATA_DIR / fname, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                patterns.setdefault((r["route_id"], r["shape_id"]), []).append(
                    (int(r["stop_sequence"]), r["stop_name"], float(r["stop_lon"]), float(r["stop_lat"])))
    nodes: dict[tuple[str, str], int] = {}
    sx, sy, names, edges = [], [], [], []
    for (line, _), stops in sorted(patterns.items()):
        prev = None
        for _, name, lon, lat in sorted(stops):
            key = (line, name)
            if key not in nodes:
                nodes[key] = len(sx)
                xk, yk = to_km(lon, lat)
                sx.append(float(xk)); sy.append(float(yk)); names.append(name)
            cur = nodes[key]
            if prev is not None and prev != cur:
                edges.append((prev, cur))
            prev = cur
    return np.array(sx), np.array(sy), names, edges


def transit_minutes(x, y, kind, link_a, link_b, link_km, intra_km, cfg: CityConfig) -> np.ndarray:
    """In-vehicle transit minutes for every OD pair (flat, n_zones^2); access/wait is added by the model.

    Network: the metro (stations of M1, M2, M3, M5, GTFS 2019; no M4) at ``transit_radial_speed_kmh``
    with ``metro_transfer_min`` at changes; a walk from each zone centroid to the stations within
    ``station_walk_max_km``; surface lines (bus, tram) along the road links at
    ``transit_other_speed_kmh``; and, for comuni outside the Comune, regional/suburban rail to the
    Milan terminals at ``regional_rail_speed_kmh`` over the straight distance x detour (assumption:
    every comune is served by rail or a rail-feeder bus).
    """
    mc = cfg.milan
    nz = len(x)
    sx, sy, snames, sedges = _stations()
    ns = len(sx)
    rows, cols, vals = [], [], []

    def edge(i, j, minutes):
        rows.extend([i, j]); cols.extend([j, i]); vals.extend([minutes, minutes])

    for a, b in sedges:  # along the lines
        edge(nz + a, nz + b, np.hypot(sx[a] - sx[b], sy[a] - sy[b]) * 1.1 / cfg.transit_radial_speed_kmh * 60)
    for a in range(ns):  # changes between lines (same place, another line)
        for b in range(a + 1, ns):
            if np.hypot(sx[a] - sx[b], sy[a] - sy[b]) < 0.35:
                edge(nz + a, nz + b, mc.metro_transfer_min)
    for z in range(nz):  # walk to the stations near the zone's centroid
        d = np.hypot(sx - x[z], sy - y[z])
        for s in np.nonzero(d <= mc.station_walk_max_km)[0]:
            extra_km = max(d[s] * mc.detour_factor - WALK_IN_ACCESS_KM, 0.0)
            edge(z, nz + s, extra_km / mc.walk_speed_kmh * 60)
    for a, b, km in zip(link_a, link_b, link_km):  # surface lines along the roads
        edge(int(a), int(b), km / cfg.transit_other_speed_kmh * 60)
    hubs = [i for i, n in enumerate(snames) if n in RAIL_HUBS]
    for z in np.nonzero(kind >= HINTERLAND)[0]:  # regional rail into the Milan terminals
        for s in hubs:
            km = np.hypot(sx[s] - x[z], sy[s] - y[z]) * 1.2
            edge(int(z), nz + s, km / cfg.regional_rail_speed_kmh * 60 + mc.metro_transfer_min)
    g = sparse.csr_matrix((vals, (rows, cols)), shape=(nz + ns, nz + ns))
    t = csgraph.dijkstra(g, directed=True, indices=np.arange(nz))[:, :nz]
    t[np.arange(nz), np.arange(nz)] = intra_km / cfg.transit_other_speed_kmh * 60
    return t.reshape(-1).copy()


# ------------------------------------------------------------------------------ gravity OD
def ipf(origins: np.ndarray, dests: np.ndarray, deterrence: np.ndarray, tol: float = 1e-9, max_iter: int = 5000):
    """Doubly-constrained gravity: T_ij = a_i b_j f_ij with row sums ``origins`` and column sums ``dests``.

    Iterative proportional fitting on the balancing factors a, b. Returns (T, iterations); stops
    when every column sum is within ``tol`` (relative) of its target (rows are exact after each
    round). Raises ValueError if the totals differ or it does not converge.
    """
    if abs(origins.sum() - dests.sum()) > 1e-6 * origins.sum():
        raise ValueError(f"ipf: origin total {origins.sum():.6g} differs from destination total {dests.sum():.6g}")
    b = np.ones(len(dests))
    col_err = np.inf
    for it in range(1, max_iter + 1):
        rs = deterrence @ b
        a = np.divide(origins, rs, out=np.zeros_like(rs), where=rs > 0)
        cs = a @ deterrence
        col_err = float(np.max(np.abs(cs * b - dests)[dests > 0] / dests[dests > 0]))
        if col_err < tol:
            return a[:, None] * deterrence * b[None, :], it
        b = np.divide(dests, cs, out=np.zeros_like(cs), where=cs > 0)
    raise ValueError(f"ipf: no convergence after {max_iter} iterations (column error {col_err:.2e})")


def door_to_door_minutes(car_t0: np.ndarray, car_km: np.ndarray, transit: np.ndarray, dest_milan: np.ndarray,
                         cfg: CityConfig, peak_extra_time: float) -> np.ndarray:
    """The gravity model's one-way door-to-door minutes: walking, or the mean of car and transit.

    Car: free flow x (1 + the peak extra time) + access and parking; transit: in-vehicle + access.
    The mean (not the faster) because both carry similar shares of work trips (Istat 2011, Milan:
    car + moto 36%, public transport 42%) and each worker has the times of one mode; a walk if it
    is shorter (Istat 2011: 15% of Milan's work trips on foot, 7% by bike).
    """
    car = car_t0 * (1 + peak_extra_time) + cfg.car_access_min + np.where(dest_milan[None, :], cfg.car_access_municipality_min, 0.0)
    walk = car_km / cfg.milan.walk_speed_kmh * 60.0
    return np.minimum(walk, 0.5 * (car + transit + cfg.transit_access_min))


@dataclass
class GravityFit:
    alpha: float
    beta_per_min: float
    bands: dict[str, float]
    milan_share: float
    iterations: int


def fit_gravity(workers, jobs, minutes, in_milan, cfg: CityConfig, tol: float = 1e-6):
    """Deterrence ``t^-alpha exp(-beta t)`` fitted to the Istat 2011 bands and Milan's in-Milan share."""
    target = istat_time_bands()
    tgt = np.array([target[k] for k in TIME_BANDS])
    share_tgt = cfg.milan.milan_residents_working_in_milan
    mm = np.ix_(in_milan, in_milan)
    t = np.maximum(minutes, 1.0)
    log_t = np.log(t)
    cache = {}

    def run(p):
        alpha, beta = p
        f = np.exp(-alpha * log_t - beta * t)
        od, it = ipf(workers, jobs, f / f.max(), tol=tol)
        w = od[mm]
        bands = time_band_shares(t[mm].ravel(), w.ravel())
        share = w.sum() / workers[in_milan].sum()
        cache[tuple(p)] = (od, it, bands, share)
        return od, it, bands, share

    def loss(p):
        if p[0] < -3 or p[0] > 5 or p[1] < 0 or p[1] > 0.5:
            return 1e3
        _, _, bands, share = run(p)
        return float(np.sum((np.array(list(bands.values())) - tgt) ** 2) + 4 * (share - share_tgt) ** 2)

    res = optimize.minimize(loss, x0=np.array([0.5, 0.05]), method="Nelder-Mead",
                            options={"xatol": 1e-4, "fatol": 1e-8, "maxiter": 300})
    od, it, bands, share = cache.get(tuple(res.x)) or run(res.x)
    return od, GravityFit(alpha=float(res.x[0]), beta_per_min=float(res.x[1]), bands=bands, milan_share=float(share),
                          iterations=it)


def istat_file_od(path, table: ZoneTable, workers: np.ndarray, jobs: np.ndarray) -> tuple[np.ndarray, dict]:
    """OD matrix (zones x zones) from an Istat commuting file; flows of Milano are split over its NIL.

    Home end in Milano: split by the NIL's workers (employed residents); work end: by the NIL's jobs
    proxy. A grouped belt zone takes the flows of all its member comuni.
    """
    zones_of = table.zones_of_code()
    flows = read_istat_od(path, set(zones_of), STUDY_PROVINCES)
    nz = table.n
    od = np.zeros((nz, nz))
    for h, w, n in zip(flows.home, flows.work, flows.commuters):
        hz, wz = np.array(zones_of[h]), np.array(zones_of[w])
        hw = workers[hz] / workers[hz].sum() if len(hz) > 1 else np.ones(1)
        ww = jobs[wz] / jobs[wz].sum() if len(wz) > 1 else np.ones(1)
        od[np.ix_(hz, wz)] += n * hw[:, None] * ww[None, :]
    return od, {"file_rows": len(flows.home), "file_commuters": float(flows.commuters.sum()),
                "skipped_outside_study_area": flows.skipped_outside, "skipped_rows": flows.skipped_rows}


# ------------------------------------------------------------------------------ the city
def build_milan_city(cfg: CityConfig, peak_extra_time: float = 0.30) -> City:
    """The real Città metropolitana di Milano (see the module docstring)."""
    table = read_zone_table()
    kind = np.array([ZONE_KINDS.index(k) for k in table.kind], np.int8)
    x, y = to_km(table.lon, table.lat)
    polys = zone_polygons(table)
    workers, jobs = workers_and_jobs(table, kind, x, y, cfg)
    la, lb, km, lk = road_links(polys, x, y, kind, cfg.milan.detour_factor)
    grouped_zone = np.array([len(m) > 0 for m in table.members])
    lk = np.where(grouped_zone[la] | grouped_zone[lb], CONNECTOR, lk)
    lf = np.concatenate([la, lb]).astype(np.int32)
    lt = np.concatenate([lb, la]).astype(np.int32)
    km2 = np.concatenate([km, km])
    lk2 = np.concatenate([lk, lk]).astype(np.int8)
    city = _finish_city(cfg, 0, x, y, kind, workers, jobs, lf, lt, km2, lk2, list(table.name))
    # trips inside a zone: half the side of a square of the zone's area (intrazonal_km_factor)
    intra_km = cfg.intrazonal_km_factor * np.sqrt(table.area_km2)
    city.intrazonal_km = intra_km
    city.intrazonal_min = intra_km / cfg.local_speed_kmh * 60.0
    city.od_transit_min = transit_minutes(x, y, kind, la, lb, km, intra_km, cfg)
    city.zone_code = list(table.zone_code)
    city.municipio = table.municipio
    city.comune = list(table.comune)
    city.province = list(table.province)
    city.geometry = polys
    nz = city.n_zones
    in_milan = kind <= MUNICIPALITY
    car_t0 = city.free_flow_routes.od_t0_min.reshape(nz, nz)
    minutes = door_to_door_minutes(car_t0, city.free_flow_routes.od_km.reshape(nz, nz), city.od_transit_min.reshape(nz, nz), in_milan, cfg, peak_extra_time)
    if cfg.od_matrix:
        od, info = istat_file_od(cfg.od_matrix, table, workers, jobs)
        city.od_source = {"source": "istat_file", "path": cfg.od_matrix, **info}
    else:
        od, fit = fit_gravity(workers, jobs, minutes, in_milan, cfg)
        city.od_source = {"source": "gravity", "alpha": fit.alpha, "beta_per_min": fit.beta_per_min,
                          "ipf_iterations": fit.iterations, "bands_gravity": fit.bands,
                          "milan_residents_working_in_milan": fit.milan_share}
    city.od_source["work_in_belt_not_modelled"] = float(od[:, kind == GATEWAY].sum())
    od[:, kind == GATEWAY] = 0.0  # only work ends inside the Città metropolitana are modelled
    city.od_commuters = od
    city.residents = od.sum(axis=1)
    city.jobs = od.sum(axis=0)
    city.workers_total = float(od.sum())
    return city
