"""CommuteModel: the Mesa model. One step is one workday.

Each step: the monthly adoption update (every ``workdays_per_month`` days), the weekly plan on
Mondays (remote days and weekdays, mode, departure slot), then the day itself: car trips load the
roads, transit riders fill the trains, every trip emits CO2 and remote days add home energy, stress
moves toward today's strain, some workers quit and are replaced, and travel times are learnt.

All worker state is columnar (numpy arrays indexed by worker id; per-mode and per-weekday arrays
are stored modes or weekdays first, e.g. ``remote_t`` (5, n)); each rule runs over all workers at
once (the weekly choices over those who review them). What the weekly plan fixes for the week is
kept per worker (``_plan_arrays``), so a day reads each commuter's times, delay and CO2 from one
table by plan cell. The rules themselves live in the sub-model modules; this file wires their inputs and
outputs. :mod:`sim.reference` holds the same rules written agent by agent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mesa
import numpy as np
from mesa.discrete_space import OrthogonalMooreGrid

from sim.behaviour import adoption, emissions, mode_choice, remote_days, traffic, wellbeing
from sim.agents import Firm, Worker
from sim.world.build import build_city  # grid, CSV or the real Milan (issue 14)
from sim.world.city import GATEWAY, City, Routes
from sim.outputs.metrics import Metrics
from sim.behaviour.mode_choice import CAR, MOTO, TRANSIT
from sim.world.population import Population, build_population
from sim.rng import SETUP_DAY, KeyedRNG
from sim.scenario.schema import MODES, SEGMENTS, SIZE_CLASSES, WEEKDAYS, Scenario, parse_clock



class TraceWorkerError(ValueError):
    """The worker id to trace is not in the population."""


@dataclass
class Calibration:
    """What the baseline calibration fixes, shared by a scenario and its counterfactual.

    ``routes``: the fixed car paths (shortest at the baseline's peak times); ``asc``: alternative constants (segment x mode); ``background_vc``: non-commute traffic at its peak
    as a share of capacity; ``h0``: base daily quit hazard [men, women]; ``return_prob``: monthly
    return-to-office probability per size class; ``learnt_car_min``, ``learnt_crowd`` and the
    ``initial_*`` arrays: the state the workers start the year in (the end of the baseline warm-up).
    """

    routes: Routes
    asc: np.ndarray
    background_vc: float
    h0: np.ndarray
    return_prob: np.ndarray
    learnt_car_min: np.ndarray
    learnt_crowd: np.ndarray
    initial_mode: np.ndarray | None = None
    initial_slot: np.ndarray | None = None
    initial_stress: np.ndarray | None = None
    report: dict = field(default_factory=dict)


class CommuteModel(mesa.Model):
    """Workers and firms on a Milan-like city.

    Args:
        scenario: a validated :class:`~sim.schema.Scenario`.
        city: reuse an already built city (same ``city`` section), else it is built.
        population: reuse an already built population (same seed, scale, ``population``), else built.
        calibration: reuse a calibration (the counterfactual shares its scenario's); None calibrates.
        trace_worker: worker id to record day by day (see :meth:`trace_rows`).
        firm_agents: create the ``Firm`` Mesa agents on the grid (the calibration model does not need them).
    """

    def __init__(self, scenario: Scenario, city: City | None = None, population: Population | None = None,
                 calibration: Calibration | None = None, trace_worker: int | None = None, firm_agents: bool = True):
        super().__init__(seed=scenario.seed)
        self.scenario = sc = scenario
        self.keyed = KeyedRNG(sc.seed)
        self.city = city if city is not None else build_city(sc.city)
        self.population = pop = population if population is not None else build_population(
            sc.population, self.city, sc.scale, self.keyed)
        if trace_worker is not None and not 0 <= trace_worker < pop.n_workers:
            raise TraceWorkerError(f"--trace-worker {trace_worker}: expected a worker id in 0..{pop.n_workers - 1}")
        self.day = 0
        if calibration is None:
            from sim.calibration import calibrate  # here: calibration builds a CommuteModel itself
            calibration = calibrate(sc, self.city, pop)
        self.calibration = calibration
        self.routes = calibration.routes
        self._setup_static()
        self.learnt_car_min = calibration.learnt_car_min[self.active_od].copy()  # (active OD, slot)
        self.learnt_crowd = calibration.learnt_crowd.copy()
        self.background_vph = traffic.background_vph(
            self.city.link_capacity_vph, calibration.background_vc, np.asarray(sc.traffic.background_profile))
        self.p_year, self.return_prob = adoption.policy_rates(sc, calibration.return_prob)
        self.adopted = self.keyed.uniform(SETUP_DAY, "firm_adopt_init", pop.n_firms) < adoption.target_firm_share(sc)[pop.firm_class]
        n = pop.n_workers
        self.remote_days = np.zeros(n, dtype=np.int8)
        self.remote_t = np.zeros((5, n), dtype=bool)  # remote weekdays, weekdays first (see remote_mask)
        self.last_remote_days = np.full(n, sc.remote_days.preferred_days)
        warm = calibration.initial_mode is not None
        self.mode = calibration.initial_mode.copy() if warm else np.zeros(n, dtype=np.int8)
        self.slot = calibration.initial_slot.copy() if warm else self.preferred_slot.copy()
        self.stress = calibration.initial_stress.copy() if warm else pop.base_stress.astype(np.float64).copy()
        self.started_warm = warm
        self.metrics = Metrics(self)
        self.trace_worker = trace_worker
        self._trace: list[dict] = []
        self._workers: dict[int, Worker] = {}
        self.grid = None
        if self.city.grid_size:
            g = self.city.grid_size
            self.grid = OrthogonalMooreGrid((g, g), torus=False, random=self.random)
            if firm_agents:
                cells = [self.grid._cells[(int(z) // g, int(z) % g)] for z in range(g * g)]
                for f, z in enumerate(pop.firm_zone):
                    Firm(self, f, cells[int(z)])

    # ------------------------------------------------------------------ set-up of static arrays
    def _setup_static(self) -> None:
        sc, city, pop = self.scenario, self.city, self.population
        m, c = sc.mode, sc.city
        nz = city.n_zones
        self.n_slots = m.n_slots
        self.slot_hours = m.slot_minutes / 60.0
        first = parse_clock(m.first_slot, "mode.first_slot")
        self.slot_mid_min = first + m.slot_minutes * (np.arange(m.n_slots) + 0.5)
        p0, p1 = parse_clock(sc.traffic.peak_start, ""), parse_clock(sc.traffic.peak_end, "")
        self.peak_slots = np.nonzero((self.slot_mid_min >= p0) & (self.slot_mid_min < p1))[0]
        self.od = (pop.home.astype(np.int64) * nz + pop.work).astype(np.int64)
        # the daily traffic works on the OD pairs somebody commutes on ("active"), not all n_zones^2
        self.active_od, self.od_local = np.unique(self.od, return_inverse=True)
        self.P = self.routes.path_links[self.active_od]  # (active OD, link) incidence
        self.Pt = self.P.T.tocsr()
        self.od_t0_active = self.routes.od_t0_min[self.active_od]
        self.intra_rows = np.nonzero(self.active_od % (nz + 1) == 0)[0]  # trips inside one zone
        self.dist_km = self.routes.od_km[self.od]
        in_milan = city.in_milan
        dest_muni = in_milan[pop.work]
        dest_core = city.in_area_c[pop.work]
        self.segment = mode_choice.segment(in_milan[pop.home], dest_muni)
        self.car_access_min = c.car_access_min + np.where(dest_muni, c.car_access_municipality_min, 0.0)
        pol = sc.policy
        car_cost_eur = (2 * m.car_cost_per_km * self.dist_km
                        + np.where(dest_core, c.parking_cost_core_eur, np.where(dest_muni, c.parking_cost_municipality_eur, 0.0))
                        + np.where(dest_core, pol.area_c_charge_eur, 0.0))
        both_milan = in_milan[pop.home] & dest_muni
        transit_cost_eur = 2 * (pol.transit_fare_eur + np.where(both_milan, 0.0, m.regional_fare_per_km * self.dist_km))
        moto_cost_eur = 2 * m.moto_cost_per_km * self.dist_km
        self.transit_invehicle_min = city.od_transit_min[self.od]
        self.moto_min = self.routes.od_t0_min[self.od] / m.moto_speed_factor + c.car_access_min
        # per-mode arrays are stored modes first (5, n): a mode's row is contiguous
        # one-way minutes of the modes whose time does not depend on the day (rows as MODES; the car
        # and transit rows are zero: those times are learnt or lived day by day)
        self.fixed_one_way_t = np.ascontiguousarray(mode_choice.mode_times(
            np.zeros_like(self.dist_km), np.zeros_like(self.dist_km), self.dist_km, self.moto_min,
            m.walk_speed_kmh, m.bike_speed_kmh).T)
        available = np.stack([
            pop.car_available, np.ones(pop.n_workers, bool), self.dist_km <= m.bike_max_km,
            self.dist_km <= m.walk_max_km, np.ones(pop.n_workers, bool)])
        costs_eur = np.stack([car_cost_eur, transit_cost_eur, np.zeros_like(self.dist_km),
                              np.zeros_like(self.dist_km), moto_cost_eur])  # daily EUR per mode
        self.cost_terms_t = mode_choice.cost_terms(costs_eur, available, m.beta_cost_per_eur)
        # schedule: class start, shifted for staggered employers; flexible window for covered workers
        start = np.array([parse_clock(m.work_start[k], "") for k in SIZE_CLASSES], dtype=float)
        st = pol.staggered_hours
        public = SIZE_CLASSES.index("public")
        firm_shift = np.zeros(pop.n_firms)
        if st.enabled:
            shifted = np.where(pop.firm_class == public, st.public_administration, pop.firm_u_stagger < st.share_of_firms)
            firm_shift = np.where(shifted, st.shift_minutes, 0.0)
        self.work_start_min = start[pop.worker_class] + firm_shift[pop.worker_firm]
        fl = pol.flexible_hours
        self.window_min = np.where(fl.enabled & (pop.u_flex < fl.share_of_workers), float(fl.window_minutes), 0.0)
        cw = pol.corporate_welfare
        self.welfare_cut = np.where(cw.enabled & (pop.u_welfare < cw.coverage), cw.conflict_reduction, 0.0)
        # work-family conflict of each worker on an office day and on a remote day (fixed for the run)
        n = pop.n_workers
        self.conflict_office = wellbeing.conflict(pop.caregiver, np.zeros(n, bool), self.welfare_cut, sc.wellbeing)
        self.conflict_remote = wellbeing.conflict(pop.caregiver, np.ones(n, bool), self.welfare_cut, sc.wellbeing)
        self.conflict_max = float(max(self.conflict_office.max(initial=0.0), self.conflict_remote.max(initial=0.0)))
        self.firm_cap = np.array([sc.adoption.max_remote_days[k] for k in SIZE_CLASSES])[pop.worker_class]
        self.log_weekday_weight = np.log([sc.remote_days.weekday_weight[d] for d in WEEKDAYS])
        # the slot whose free-flow arrival is closest to the start of work
        t0 = self.routes.od_t0_min[self.od]
        self.preferred_slot = np.argmin(np.abs(self.slot_mid_min[None, :] + t0[:, None] - self.work_start_min[:, None]), axis=1).astype(np.int8)
        self.intra_speed_kmh = c.local_speed_kmh  # trips inside a zone run at local free-flow speed
        # transit CO2: regional rail for commuters from gateways, the urban mix otherwise
        self._plan_for = None  # the week's per-worker arrays (_plan_arrays) must be made anew
        self.transit_g_per_pkm = np.where(city.kind[pop.home] == GATEWAY, sc.emissions.regional_rail_g_per_pkm, sc.emissions.transit_g_per_pkm)

    # ------------------------------------------------------------------ public helpers
    def date(self, day: int):
        """Calendar date of workday ``day``."""
        return emissions.workday_date(self.scenario.emissions.start_date, day)

    def worker(self, worker_id: int) -> Worker:
        """The Mesa agent of one worker, made on first request."""
        if not 0 <= worker_id < self.population.n_workers:
            raise IndexError(f"worker id {worker_id} out of range 0..{self.population.n_workers - 1}")
        if worker_id not in self._workers:
            self._workers[worker_id] = Worker(self, worker_id)
        return self._workers[worker_id]

    @property
    def remote_mask(self) -> np.ndarray:
        """Bool (n, 5): each worker's remote weekdays this week (a view of ``remote_t``, stored (5, n))."""
        return self.remote_t.T

    @property
    def firms(self):
        """The ``Firm`` agents (an AgentSet)."""
        return self.agents_by_type.get(Firm, [])

    def allowed(self) -> np.ndarray:
        """Workers allowed smart working: their firm adopted it and their job is teleworkable."""
        regime = self.scenario.policy.smart_working
        pop = self.population
        if regime == "off":
            return np.zeros(pop.n_workers, dtype=bool)
        if regime == "all_remote":
            return np.ones(pop.n_workers, dtype=bool)
        return self.adopted[pop.worker_firm] & pop.teleworkable

    def _index(self, idx) -> np.ndarray:
        return np.arange(self.population.n_workers)[idx] if isinstance(idx, slice) else np.asarray(idx)

    def _mode_utilities_t(self, idx: np.ndarray) -> np.ndarray:
        """Mode utilities (5, len(idx)), modes first, at the workers' current slots with learnt times."""
        m, S = self.scenario.mode, self.n_slots
        slot = self.slot[idx]
        times = np.take(self.fixed_one_way_t, idx, axis=1)  # one-way minutes; car and transit rows filled here
        np.take(self.learnt_car_min.reshape(-1), self.od_local[idx] * S + slot, out=times[CAR])
        times[CAR] += self.car_access_min[idx]
        np.multiply(self.transit_invehicle_min[idx], self.learnt_crowd[slot], out=times[TRANSIT])
        times[TRANSIT] += self.scenario.city.transit_access_min
        times *= 2  # round trip
        asc_t = np.take(self.calibration.asc.T, self.segment[idx], axis=1)
        return mode_choice.utilities_t(asc_t, times, np.take(self.cost_terms_t, idx, axis=1), m.beta_time_per_min)

    def mode_probabilities(self, idx=slice(None)) -> np.ndarray:
        """Logit mode probabilities (n, 5) at the workers' current slots."""
        return mode_choice.probabilities_t(self._mode_utilities_t(self._index(idx))).T

    def _slot_utilities_t(self, mode: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Departure-slot utilities (n_slots, len(idx)), slots first, of workers who all travel by car,
        all by transit, or all by a mode whose time does not depend on the slot (bike, walk, moto)."""
        m = self.scenario.mode
        first = int(mode[0]) if len(mode) else BIKE
        if first == CAR:
            times = np.take(self.learnt_car_min.T, self.od_local[idx], axis=1)
            times += self.car_access_min[idx]
        elif first == TRANSIT:
            times = self.learnt_crowd[:, None] * self.transit_invehicle_min[idx]
            times += self.scenario.city.transit_access_min
        else:  # the same time whatever the slot
            times = self.fixed_one_way_t[mode, idx][None, :]
        return mode_choice.slot_utilities_t(times, self.slot_mid_min, self.work_start_min[idx], self.window_min[idx],
                                            m.beta_time_per_min, m.beta_early_per_min, m.beta_late_per_min, m.slot_scale)

    @staticmethod
    def _slot_groups(mode: np.ndarray):
        """Positions of the car, transit and other-mode workers in ``mode`` (empty groups left out)."""
        groups = (mode == CAR, mode == TRANSIT, mode > TRANSIT)
        return [np.nonzero(g)[0] for g in groups if g.any()]

    def slot_probabilities(self, mode: np.ndarray, idx=slice(None)) -> np.ndarray:
        """Logit departure-slot probabilities (n, n_slots) given each worker's mode."""
        idx = self._index(idx)
        groups = self._slot_groups(mode)
        if len(groups) == 1:
            return mode_choice.probabilities_t(self._slot_utilities_t(mode, idx)).T
        prob = np.empty((self.n_slots, len(idx)))
        for g in groups:
            prob[:, g] = mode_choice.probabilities_t(self._slot_utilities_t(mode[g], idx[g]))
        return prob.T

    # ------------------------------------------------------------------ the rules of a day
    def adoption_step(self, day: int) -> None:
        """Monthly Bass diffusion with return-to-office."""
        pop = self.population
        u = self.keyed.uniform(day, "adoption", pop.n_firms)
        self.adopted = adoption.monthly_update(self.adopted, pop.firm_class, pop.firm_employees, self.p_year,
                                               self.scenario.adoption.bass_q_per_year, self.return_prob, u)

    def plan_week(self, day: int) -> None:
        """Remote days and weekdays, then mode and departure slot, for the week starting ``day``."""
        sc, pop, n = self.scenario, self.population, self.population.n_workers
        rd = sc.remote_days
        allowed = self.allowed()
        a = np.nonzero(allowed)[0]  # only workers allowed smart working get remote days
        days = np.zeros(n, dtype=np.int8)
        if len(a):
            peers = remote_days.firm_mean_days(self.last_remote_days[a], allowed[a], pop.worker_firm[a], pop.weight[a],
                                               pop.n_firms, rd.preferred_days)
            days[a] = remote_days.remote_day_count(
                allowed[a], self.firm_cap[a], pop.caregiver[a], peers, self.keyed.normal(day, "remote_pref", n)[a],
                rd.preferred_days, rd.caregiver_extra_days, rd.peer_weight, rd.preference_sd,
                sc.policy.remote_days.floor, sc.policy.remote_days.cap)
        if sc.policy.smart_working == "all_remote":
            days[:] = 5
        self.remote_days = days
        self.last_remote_days = days.astype(np.float64)
        # which weekdays (weekdays first: each day's row is contiguous); only workers with 1-4
        # remote days have a choice to make
        remote_t = np.zeros((5, n), dtype=bool)
        remote_t[:, np.nonzero(days == 5)[0]] = True
        some = np.nonzero((days > 0) & (days < 5))[0]
        if len(some):
            gumbel = self.keyed.gumbel(day, "remote_weekday", (n, 5), rows=some)
            remote_t[:, some] = remote_days.remote_weekdays_t(days[some], self.log_weekday_weight, np.ascontiguousarray(gumbel.T))
        self.remote_t = remote_t
        # habits: a share reconsiders each week; everyone chooses on a cold start
        review = self.keyed.uniform(day, "review", n) < sc.mode.weekly_review_share
        if day == 0 and not self.started_warm:
            review[:] = True
        who = np.nonzero(review)[0]  # only those who reconsider are computed; draws stay keyed by worker id
        mode = mode_choice.choose_t(mode_choice.probabilities_t(self._mode_utilities_t(who)),
                                    self.keyed.uniform(day, "mode", n)[who])
        self.mode[who] = mode
        u_slot = self.keyed.uniform(day, "slot", n)[who]
        for g in self._slot_groups(mode):  # car, transit, the rest: each group's times in one array
            self.slot[who[g]] = mode_choice.choose_t(mode_choice.probabilities_t(self._slot_utilities_t(mode[g], who[g])), u_slot[g])
        self._plan_arrays(who)

    def _plan_arrays(self, who: np.ndarray | None = None) -> None:
        """Per-worker arrays fixed for the week (mode and slot change only in the weekly plan).

        Each worker's commute today is ``g * time_factor + time_offset`` one way, where ``g`` is the
        worker's cell of the day's lookup table (``key``): the car minutes of the worker's (OD pair,
        slot) for car commuters, the crowding multiplier of the slot for transit riders, 1 for the
        modes whose time never changes (then ``time_factor`` is that time). Multiplying by 1 and adding
        0 are exact, so this gives the same numbers as a formula per mode.

        Only the workers in ``who`` (those who reviewed their mode and slot) are updated, unless the
        arrays are missing or were made for other mode/slot arrays.
        """
        pop, sc, S = self.population, self.scenario, self.n_slots
        n = pop.n_workers
        if who is None or self._plan_for is None or self._plan_for[0] is not self.mode or self._plan_for[1] is not self.slot:
            for name in ("plan_key", "plan_time_factor", "plan_time_offset", "plan_is_car", "plan_car_t0",
                         "plan_commute_kg", "plan_trip_weight"):
                setattr(self, name, np.empty(n, dtype=np.int64 if name == "plan_key" else np.float64))
            self._plan_for = (self.mode, self.slot)
            idx, ids = slice(None), np.arange(n)
        else:
            idx = ids = who
        cells = len(self.active_od) * S
        mode, slot, od = self.mode[idx], self.slot[idx].astype(np.int64), self.od_local[idx]
        car, tr = mode == CAR, mode == TRANSIT
        self.plan_key[idx] = np.where(car, od * S + slot, np.where(tr, cells + slot, cells + S))
        fixed_min = self.fixed_one_way_t[mode, ids]  # zero for car and transit
        self.plan_time_factor[idx] = np.where(car, 1.0, np.where(tr, self.transit_invehicle_min[idx], fixed_min))
        self.plan_time_offset[idx] = np.where(car, self.car_access_min[idx], np.where(tr, sc.city.transit_access_min, 0.0))
        self.plan_is_car[idx] = car
        self.plan_car_t0[idx] = np.where(car, self.od_t0_active[od], 0.0)
        # kg CO2 of a day at the office for the modes whose emissions do not depend on the traffic
        dist = self.dist_km[idx]
        self.plan_commute_kg[idx] = np.where(tr, 2 * dist * self.transit_g_per_pkm[idx] / 1000.0,
                                             np.where(mode == MOTO, 2 * dist * sc.emissions.moto_g_per_km / 1000.0, 0.0))
        # weight of each worker's trip in the day's counts: cars (per vehicle) and transit riders
        w = pop.weight[idx]
        self.plan_trip_weight[idx] = np.where(car, w / sc.mode.car_occupancy, np.where(tr, w, 0.0))

    def step(self) -> None:
        """Simulate one workday."""
        day, sc, pop, city = self.day, self.scenario, self.population, self.city
        if day > 0 and day % sc.adoption.workdays_per_month == 0:
            self.adoption_step(day)
        weekday = day % 5
        if weekday == 0:
            self.plan_week(day)
        remote = self.remote_t[weekday]
        rem_i = np.nonzero(remote)[0]  # remote today: a small minority; what they live is fixed for the week
        mode, slot, w = self.mode, self.slot, pop.weight
        S = self.n_slots
        cells = len(self.active_od) * S

        # trips of today: commuter cars by (active OD, slot) and transit riders by slot, one weighted
        # count over the plan's cells (remote workers count zero)
        trip_w = self.plan_trip_weight.copy()
        trip_w[rem_i] = 0.0
        counts = np.bincount(self.plan_key, weights=trip_w, minlength=cells + S + 1)

        # roads: commuter cars on fixed paths, plus background traffic
        veh = counts[:cells].reshape(-1, S)
        self.car_vehicles_od_slot = veh  # today's commuter cars by active OD pair and slot (read by the calibration)
        vol = traffic.link_volumes(self.Pt, veh, self.slot_hours, self.background_vph)
        link_min = traffic.bpr_times(city.link_t0_min, vol, city.link_capacity_vph, sc.traffic.bpr_alpha, sc.traffic.bpr_beta)
        od_min = traffic.od_times(self.P, link_min, self.intra_rows, self.od_t0_active[self.intra_rows])
        speed = city.link_km[:, None] / (link_min / 60.0)
        link_g = city.link_km[:, None] * emissions.car_g_per_km(speed, sc.emissions)
        od_g = self.P @ link_g
        intra_km = self.routes.od_km[self.active_od[self.intra_rows]]
        od_g[self.intra_rows] = (intra_km * emissions.car_g_per_km(np.array(self.intra_speed_kmh), sc.emissions))[:, None]

        # transit: riders per hour in each slot against capacity
        riders = counts[cells:cells + S] / self.slot_hours
        load = riders / (sc.traffic.transit_capacity_per_hour * sc.policy.transit_capacity_factor)
        crowd = traffic.transit_crowding(load, sc.mode.crowding_beta, sc.mode.crowding_threshold)

        # what each worker lives today, from the day's tables by plan cell (see _plan_arrays); the
        # remote workers' entries are set to zero afterwards
        m = sc.mode
        table = np.empty(cells + S + 1)
        table[:cells] = od_min.reshape(-1)
        table[cells:cells + S] = crowd
        table[-1] = 1.0
        one_way = np.take(table, self.plan_key)
        delay_min = one_way - self.plan_car_t0  # car minutes - free flow (times 0 for the other modes)
        delay_min *= self.plan_is_car
        one_way *= self.plan_time_factor
        one_way += self.plan_time_offset
        ev = sc.traffic.evening_factor
        round_trip_min = 2 * one_way
        round_trip_min -= delay_min
        round_trip_min += ev * delay_min
        round_trip_min[rem_i] = 0.0
        delay_min[rem_i] = 0.0
        round_delay_min = (1 + ev) * delay_min
        table[:cells] = 0.0
        table[cells:cells + S] = np.maximum(0.0, load - sc.mode.crowding_threshold)
        table[-1] = 0.0
        crowd_excess = np.take(table, self.plan_key)
        crowd_excess[rem_i] = 0.0

        # CO2 (kg per worker today)
        e = sc.emissions
        table[:cells] = (2 * od_g / m.car_occupancy / 1000.0).reshape(-1)
        table[cells:] = 0.0
        commute_kg = np.take(table, self.plan_key)
        commute_kg += self.plan_commute_kg
        commute_kg[rem_i] = 0.0
        heating = emissions.in_heating_season(self.date(day), e)
        home_kg = emissions.home_kg_per_remote_day(heating, e)  # per remote worker
        extra_kg = np.where(pop.car_available[rem_i], emissions.extra_trip_kg_per_remote_day(e), 0.0)  # per remote worker

        # stress and quits
        wb = sc.wellbeing
        strain = wellbeing.daily_strain(pop.base_stress, round_trip_min / 60.0, round_delay_min / 60.0, crowd_excess,
                                        self.conflict_office, False, 0, wb)
        strain[rem_i] = wellbeing.daily_strain(pop.base_stress[rem_i], 0.0, 0.0, 0.0, self.conflict_remote[rem_i], True,
                                               self.remote_days[rem_i], wb)
        if day == 0 and not self.started_warm:
            self.stress = strain.copy()
        else:
            wellbeing.update_stress(self.stress, strain, wb, out=self.stress)
        quit_i = self._quits(day, remote)
        self.metrics.record_day(
            day=day, remote=remote, rem_i=rem_i, veh=veh, vol=vol, od_min=od_min,
            round_trip_min=round_trip_min, round_delay_min=round_delay_min, load=load, commute_kg=commute_kg,
            home_kg=home_kg, extra_kg=extra_kg, heating=heating, quit_i=quit_i)
        if self.trace_worker is not None:
            i = self.trace_worker
            office = not remote[i]
            home = home_kg + emissions.extra_trip_kg_per_remote_day(e) * pop.car_available[i] if remote[i] else 0.0
            self._trace.append({
                "day": day, "date": self.date(day).isoformat(), "weekday": WEEKDAYS[weekday],
                "remote_days_this_week": int(self.remote_days[i]), "remote_today": bool(remote[i]),
                "mode": MODES[mode[i]] if office else "", "departure": _clock(self.slot_mid_min[slot[i]] - m.slot_minutes / 2) if office else "",
                "travel_min_round_trip": float(round_trip_min[i]), "delay_min_round_trip": float(round_delay_min[i]),
                "co2_commute_kg": float(commute_kg[i]), "co2_home_kg": float(home),
                "strain": float(strain[i]), "stress": float(self.stress[i]), "quit": bool(np.any(quit_i == i)),
            })
        # quitters are replaced by a new hire with the same characteristics and a fresh stress
        self.stress[quit_i] = pop.base_stress[quit_i]
        # day-to-day learning of car times and transit crowding
        lr = sc.mode.learning_rate
        self.learnt_car_min += lr * (od_min - self.learnt_car_min)
        self.learnt_crowd += lr * (crowd - self.learnt_crowd)
        self.day += 1

    def _quits(self, day: int, remote: np.ndarray) -> np.ndarray:
        """Who quits today (sorted worker ids): uniform draw < quit probability.

        The probability is tiny, so it is computed only for the few workers whose draw is below its
        upper bound over everyone (highest stress today, highest conflict of the run; same result as
        computing it for all, for a fraction of the cost).
        """
        pop, wb = self.population, self.scenario.wellbeing
        u = self.keyed.uniform(day, "quit", pop.n_workers)
        h0 = self.calibration.h0
        # the largest multiplier: highest stress and conflict, as a caregiver (caregiver multiplier >= 1)
        top = wellbeing.hazard_multiplier(np.array([self.stress.max()]), np.array([self.conflict_max]), np.ones(1, dtype=bool), wb)
        bound = wellbeing.quit_probability(np.array([h0.max()]), np.zeros(1, dtype=bool), top)[0]
        cand = np.nonzero(u < bound)[0]
        if not len(cand):
            return cand
        conf = np.where(remote[cand], self.conflict_remote[cand], self.conflict_office[cand])
        mult = wellbeing.hazard_multiplier(self.stress[cand], conf, pop.caregiver[cand], wb)
        return cand[u[cand] < wellbeing.quit_probability(h0, pop.woman[cand], mult)]

    def run(self, days: int | None = None, progress=None) -> None:
        """Run ``days`` workdays (default: the scenario's); ``progress`` is called with 1 per day."""
        for _ in range(self.scenario.days if days is None else days):
            self.step()
            if progress is not None:
                progress(1)

    def trace_rows(self) -> list[dict]:
        """The traced worker's day-by-day rows."""
        return self._trace


def _clock(minutes: float) -> str:
    minutes = int(round(minutes))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


__all__ = ["CommuteModel", "Calibration", "SEGMENTS"]
