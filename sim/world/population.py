"""Synthetic firms and workers from marginals.

Inputs: :class:`sim.schema.PopulationConfig`, the :class:`sim.city.City`, the sampling ``scale``
and a :class:`sim.rng.KeyedRNG`. Output: a :class:`Population` of columnar arrays.

Firms are built at full size (a few hundred thousand at most): each has a size class, a sector, a
zone and its full number of employees. Workers are sampled at rate ``scale`` in strata
(size class x living inside / outside the metropolitan city); each carries the weight
``full stratum size / sampled stratum size``, so every weighted total is a full-population
equivalent. Nothing here depends on the policy levers: uniform numbers (``u_*``) are stored, and the
model turns them into coverage flags, so a larger coverage always covers a superset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.world.city import GATEWAY, City
from sim.rng import SETUP_DAY, KeyedRNG
from sim.scenario.schema import CHILD_AGES, GENDERS, SIZE_CLASSES, PopulationConfig


@dataclass
class Population:
    """Firms and workers as columns. Index of a worker = its id (0 .. n_workers-1)."""

    sectors: list[str]
    firm_class: np.ndarray       # int8 index into SIZE_CLASSES
    firm_sector: np.ndarray      # int8 index into sectors
    firm_zone: np.ndarray        # int32 zone of the workplace
    firm_employees: np.ndarray   # float64 full-population employees
    firm_u_stagger: np.ndarray   # uniform draw deciding staggered hours
    firm_u_transit_pass: np.ndarray  # uniform draw deciding whether the employer pays the transit season ticket
    worker_firm: np.ndarray      # int32
    worker_class: np.ndarray     # int8
    home: np.ndarray             # int32 zone
    work: np.ndarray             # int32 zone
    woman: np.ndarray            # bool
    child_group: np.ndarray      # int8 age of the youngest child: 0 none under 15, 1: 0-2, 2: 3-5, 3: 6-14 (CHILD_AGES)
    dependant: np.ndarray        # bool: cares for an ill, disabled or elderly relative
    caregiver: np.ndarray        # bool: a child under 15 or a dependant (Istat's care responsibilities)
    car_available: np.ndarray    # bool
    teleworkable: np.ndarray     # bool
    base_stress: np.ndarray      # float64 personal baseline of daily strain (stress points)
    weight: np.ndarray           # float64 full-population workers this sampled worker represents
    u_flex: np.ndarray           # uniform draw deciding flexible-hours coverage
    u_welfare: np.ndarray        # uniform draw deciding corporate-welfare coverage

    @property
    def n_workers(self) -> int:
        return len(self.home)

    @property
    def n_firms(self) -> int:
        return len(self.firm_class)


def _choose(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Indices drawn by inverse CDF (cdf ends at 1)."""
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


def _cdf(weights: np.ndarray) -> np.ndarray:
    c = np.cumsum(weights, dtype=np.float64)
    return c / c[-1]


def build_population(cfg: PopulationConfig, city: City, scale: float, rng: KeyedRNG) -> Population:
    """Firms at full size and a weighted sample of workers.

    Args:
        cfg: population section of the scenario.
        city: zones with residents and jobs, and car distances between them.
        scale: sampling rate of workers (0 < scale <= 1).
        rng: keyed random numbers; all draws use the set-up day.
    """
    total = cfg.workers_internal + cfg.workers_inbound
    inbound_frac = cfg.workers_inbound / total
    if city.workers_total is not None:  # the city's OD says how many (the real Milan; issue 14)
        total = city.workers_total
        inbound_frac = float(city.od_commuters[city.kind == GATEWAY].sum() / total)
    sectors = list(cfg.sectors)
    job_zones = np.nonzero((city.jobs > 0) & (city.kind != GATEWAY))[0]
    job_cdf = _cdf(city.jobs[job_zones])

    # --- firms, class by class
    f_class, f_size = [], []
    for k, cls in enumerate(SIZE_CLASSES):
        workers_k = total * cfg.employment_share[cls]
        if workers_k <= 0:
            continue
        n_f = max(1, int(round(workers_k / cfg.mean_firm_size[cls])))
        f_class.append(np.full(n_f, k, dtype=np.int8))
        f_size.append(np.full(n_f, workers_k / n_f))
    f_class = np.concatenate(f_class)
    n_firms = len(f_class)
    z = rng.normal(SETUP_DAY, "firm_size", n_firms)
    rel = np.exp(cfg.firm_size_sigma * z)
    f_size = np.concatenate(f_size)
    for k in range(len(SIZE_CLASSES)):  # keep each class's total exact
        m = f_class == k
        if m.any():
            f_size[m] = rel[m] / rel[m].sum() * f_size[m].sum()
    f_zone = job_zones[_choose(job_cdf, rng.uniform(SETUP_DAY, "firm_zone", n_firms))].astype(np.int32)
    u_sec = rng.uniform(SETUP_DAY, "firm_sector", n_firms)
    f_sector = np.zeros(n_firms, dtype=np.int8)
    for k, cls in enumerate(SIZE_CLASSES):
        m = f_class == k
        shares = np.array([cfg.sector_mix[cls][s] for s in sectors])
        if m.any():
            f_sector[m] = _choose(_cdf(shares + 1e-15), u_sec[m])

    # --- workers, sampled by stratum (size class x inbound)
    w_class, w_inbound, w_weight = [], [], []
    for k, cls in enumerate(SIZE_CLASSES):
        full_k = total * cfg.employment_share[cls]
        for inbound, full in ((False, full_k * (1 - inbound_frac)), (True, full_k * inbound_frac)):
            if full <= 0:
                continue
            n = max(1, int(round(full * scale)))
            w_class.append(np.full(n, k, dtype=np.int8))
            w_inbound.append(np.full(n, inbound))
            w_weight.append(np.full(n, full / n))
    w_class = np.concatenate(w_class)
    inbound = np.concatenate(w_inbound)
    weight = np.concatenate(w_weight)
    n_w = len(w_class)

    u_firm = rng.uniform(SETUP_DAY, "worker_firm", n_w)
    worker_firm = np.zeros(n_w, dtype=np.int32)
    for k in range(len(SIZE_CLASSES)):
        firms_k = np.nonzero(f_class == k)[0]
        m = w_class == k
        if m.any():
            worker_firm[m] = firms_k[_choose(_cdf(f_size[firms_k]), u_firm[m])]
    work = f_zone[worker_firm]

    home = _draw_homes(cfg, city, work, inbound, rng.uniform(SETUP_DAY, "worker_home", n_w))
    in_milan_home = city.in_milan[home]
    car_p = np.where(in_milan_home, cfg.car_available_municipality, cfg.car_available_outside)
    tele_share = np.array([cfg.sectors[s].teleworkable_share for s in sectors])
    woman = rng.uniform(SETUP_DAY, "worker_gender", n_w) < cfg.women_share
    child_group, dependant = care_groups(cfg, woman, u_child=rng.uniform(SETUP_DAY, "worker_caregiver", n_w),
                                         u_dependant=rng.uniform(SETUP_DAY, "worker_dependant", n_w))
    return Population(
        sectors=sectors,
        firm_class=f_class, firm_sector=f_sector, firm_zone=f_zone, firm_employees=f_size,
        firm_u_stagger=rng.uniform(SETUP_DAY, "firm_stagger", n_firms),
        firm_u_transit_pass=rng.uniform(SETUP_DAY, "firm_transit_pass", n_firms),
        worker_firm=worker_firm, worker_class=w_class, home=home.astype(np.int32), work=work.astype(np.int32),
        woman=woman, child_group=child_group, dependant=dependant, caregiver=(child_group > 0) | dependant,
        car_available=rng.uniform(SETUP_DAY, "worker_car", n_w) < car_p,
        teleworkable=rng.uniform(SETUP_DAY, "worker_telework", n_w) < tele_share[f_sector[worker_firm]],
        base_stress=np.clip(cfg.base_stress_mean + cfg.base_stress_sd * rng.normal(SETUP_DAY, "worker_base_stress", n_w), 0, None),
        weight=weight,
        u_flex=rng.uniform(SETUP_DAY, "worker_flex", n_w),
        u_welfare=rng.uniform(SETUP_DAY, "worker_welfare", n_w),
    )


def care_cdf(cfg: PopulationConfig) -> np.ndarray:
    """Cumulative shares (2, 4) of the youngest child's group [none, 0-2, 3-5, 6-14] for men (row 0) and women (row 1)."""
    out = np.empty((2, 1 + len(CHILD_AGES)))
    for g, gender in enumerate(GENDERS):
        shares = [cfg.youngest_child_share[gender][a] for a in CHILD_AGES]
        out[g] = np.cumsum([1.0 - sum(shares), *shares])
    out[:, -1] = 1.0
    return out


def care_groups(cfg: PopulationConfig, woman: np.ndarray, *, u_child: np.ndarray, u_dependant: np.ndarray):
    """Each worker's youngest-child group (int8, 0 none .. 3 aged 6-14) and dependant flag, by gender, from uniform draws."""
    cdf = care_cdf(cfg)
    g = woman.astype(np.int64)
    child = np.zeros(len(woman), dtype=np.int8)
    for k in range(1, cdf.shape[1]):  # group = how many cumulative shares the draw reaches
        child += u_child >= cdf[g, k - 1]
    dep_share = np.array([cfg.other_dependant_share[x] for x in GENDERS])
    return child, u_dependant < dep_share[g]


def _draw_homes(cfg: PopulationConfig, city: City, work: np.ndarray, inbound: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Home zone given the work zone: observed OD shares if the city has them, else gravity."""
    nz = city.n_zones
    gateways = np.nonzero(city.kind == GATEWAY)[0]
    inner = np.nonzero(city.kind != GATEWAY)[0]
    home = np.zeros(len(work), dtype=np.int64)
    km = city.free_flow_routes.od_km.reshape(nz, nz)
    for wz in np.unique(work):
        for is_in in (False, True):
            m = (work == wz) & (inbound == is_in)
            if not m.any():
                continue
            cand = gateways if is_in and len(gateways) else inner
            if city.workers_total is not None:  # the OD column is the whole home distribution of this job zone
                cand = np.arange(nz)
            if city.od_commuters is not None and city.od_commuters[cand, wz].sum() > 0:
                w = city.od_commuters[cand, wz]
            else:
                w = (city.residents[cand] if not is_in else np.ones(len(cand))) * np.exp(-cfg.home_distance_decay_per_km * km[cand, wz])
            home[m] = cand[_choose(_cdf(w + 1e-300), u[m])]
    return home
