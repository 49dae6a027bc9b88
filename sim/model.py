"""CommuteModel: the Mesa model. One step is one workday.

:meth:`CommuteModel.step` is the day's recipe: the monthly adoption update, the weekly plan on
Mondays (remote days and weekdays, then mode and departure slot), the roads and trains loaded by
today's trips, what each worker lives (times, delay, crowding, CO2), stress and quits, the record,
and the day-to-day learning of travel times. The rules live in the sub-model modules of
:mod:`sim.behaviour`, each with the levers that act on it; this file holds the state and wires the
sub-models' inputs and outputs.

All worker state is columnar (numpy arrays indexed by worker id; per-mode and per-weekday arrays
are stored modes or weekdays first, e.g. ``remote_t`` (5, n)); each rule runs over all workers at
once (the weekly choices over those who review them). The calibration (:mod:`sim.calibration`) is an
input made before the model; :mod:`sim.prepare` builds city, population and calibration.
:mod:`sim.reference` holds the same rules written agent by agent.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.agents import Firm, Worker
from sim.behaviour import adoption, commute, emissions, mode_choice, remote_days, schedule, traffic, wellbeing
from sim.outputs.metrics import Metrics
from sim.rng import SETUP_DAY, KeyedRNG
from sim.scenario.schema import SIZE_CLASSES, TRANSIT_NETWORKS, WEEKDAYS, Scenario
from sim.trace import WorkerTrace
from sim.world.build import build_city  # grid, CSV or the real Milan
from sim.world.calendar import build_calendar, lever_levels
from sim.world.city import GATEWAY, City
from sim.world.population import Population, build_population


class TraceWorkerError(ValueError):
    """The worker id to trace is not in the population."""


def check_trace_worker(trace_worker: int | None, n_workers: int) -> None:
    """Refuse a worker id to trace that is not in the population (before any work)."""
    if trace_worker is not None and not 0 <= trace_worker < n_workers:
        raise TraceWorkerError(f"--trace-worker {trace_worker}: expected a worker id in 0..{n_workers - 1}")


class CommuteModel(mesa.Model):
    """Workers and firms of the metropolitan city, one workday per step.

    Args:
        scenario: a validated :class:`~sim.scenario.schema.Scenario`.
        calibration: the baseline's :class:`~sim.calibration.Calibration` (routes, constants,
            background traffic, hazards, the warm-up's end state); read, never modified.
        city: reuse an already built city (same ``city`` section), else it is built.
        population: reuse an already built population (same seed, scale, ``population``), else built.
        trace_worker: worker id to record day by day (see :meth:`trace_rows`).
        hold_choices: a run option, not a lever (:data:`sim.behaviour.mode_choice.HOLD_CHOICES`): None,
            ``"modes"`` (each worker keeps the mode the year starts with, the slot is re-chosen given it) or
            ``"modes_and_slots"`` (both kept), to split a lever's effect (:mod:`sim.outputs.decomposition`).
            A cold start's day-0 choice is free (there is no habit to keep yet).
    """

    def __init__(self, scenario: Scenario, calibration, *, city: City | None = None,
                 population: Population | None = None, trace_worker: int | None = None,
                 hold_choices: str | None = None):
        mode_choice.check_hold_choices(hold_choices)
        self.hold_choices = hold_choices
        super().__init__(seed=scenario.seed)
        self.scenario = sc = scenario
        self.keyed = KeyedRNG(sc.seed)
        self.city = city if city is not None else build_city(sc.city)
        self.population = pop = population if population is not None else build_population(
            sc.population, self.city, sc.scale, self.keyed)
        check_trace_worker(trace_worker, pop.n_workers)
        self.calibration = calibration
        self.day = 0
        self.calendar = build_calendar(sc)  # workdays, weekdays, weeks, leave and years of the run
        self.levels = lever_levels(sc.policy, self.calendar.date(0))  # each timed lever's intensity this week
        self.slots = schedule.slots(mode_cfg=sc.mode, traffic_cfg=sc.traffic)
        self.od = pop.home.astype(np.int64) * self.city.n_zones + pop.work
        # the daily traffic works on the OD pairs somebody commutes on ("active"), not all n_zones^2
        self.active_od, self.od_local = np.unique(self.od, return_inverse=True)
        # who holds each position (a quitter's row is vacant, then a new hire's): copies, the population stays as built
        self.woman, self.child_group, self.dependant = pop.woman.copy(), pop.child_group.copy(), pop.dependant.copy()
        self.caregiver, self.base_stress = pop.caregiver.copy(), pop.base_stress.astype(np.float64).copy()
        self.employed = np.ones(pop.n_workers, dtype=bool)
        self.vacant_until = np.full(pop.n_workers, wellbeing.VACANT, dtype=np.int32)
        self._static_levers()
        self.use_routes(calibration.routes)
        self.expected = mode_choice.Expected(car_min=calibration.learnt_car_min[self.active_od].copy(),
                                             crowd=calibration.learnt_crowd.copy())
        self.set_roads(background_peak_vph=calibration.background_peak_vph, road_capacity_factor=calibration.road_capacity_factor,
                       transit_capacity_per_hour=calibration.transit_capacity_per_hour)
        self.p_year, self.return_prob = adoption.policy_rates(sc, calibration.return_prob, self.levels["sme_support"])
        self.adoption_updates_year = adoption.updates_per_year(sc.adoption.workdays_per_month)
        self.enrolled = np.zeros(pop.n_firms, dtype=bool)  # firms a capped SME programme supports
        self.enrol_years: set[int] = set()  # years of the run whose intake is done
        self.adopted = adoption.initial_adopters(scenario=sc, firm_class=pop.firm_class,
                                                 u=self.keyed.uniform(SETUP_DAY, "firm_adopt_init", pop.n_firms))
        n = pop.n_workers
        self.remote_days = np.zeros(n, dtype=np.int8)
        self.remote_t = np.zeros((5, n), dtype=bool)  # remote weekdays, weekdays first (see remote_mask)
        self.last_remote_days = np.full(n, sc.remote_days.preferred_days)
        self.started_warm = warm = calibration.initial_mode is not None
        self.mode = calibration.initial_mode.copy() if warm else np.zeros(n, dtype=np.int8)
        self.slot = calibration.initial_slot.copy() if warm else self.preferred_slot.copy()
        self.stress = calibration.initial_stress.copy() if warm else self.base_stress.copy()
        self.metrics = Metrics(self)
        self.trace = WorkerTrace(self, trace_worker) if trace_worker is not None else None
        self._workers: dict[int, Worker] = {}
        self._firms: dict[int, Firm] = {}

    # ------------------------------------------------------------------ wiring of the static inputs
    def _static_levers(self) -> None:
        """What the levers fix for the run and does not depend on the routes."""
        sc, pop = self.scenario, self.population
        pol = sc.policy
        lv = self.levels
        self.work_start_min = schedule.work_start_min(
            mode_cfg=sc.mode, staggered=pol.staggered_hours, worker_class=pop.worker_class, worker_firm=pop.worker_firm,
            firm_class=pop.firm_class, firm_u_stagger=pop.firm_u_stagger, level=lv["staggered_hours"])
        self.window_min = schedule.flexible_window_min(flexible=pol.flexible_hours, u_flex=pop.u_flex,
                                                       level=lv["flexible_hours"])
        self.welfare_cut = wellbeing.welfare_conflict_cut(welfare=pol.corporate_welfare, worker_class=pop.worker_class,
                                                          u_welfare=pop.u_welfare, level=lv["corporate_welfare"])
        self.transit_pass = mode_choice.transit_pass_covered(transit_pass=pol.welfare_transit_pass,
                                                             worker_firm=pop.worker_firm,
                                                             firm_u_pass=pop.firm_u_transit_pass,
                                                             level=lv["welfare_transit_pass"])
        self.conflict = self.personal_conflict(slice(None))
        self.firm_cap = np.array([sc.adoption.max_remote_days[k] for k in SIZE_CLASSES])[pop.worker_class]
        self.log_weekday_weight = np.log([sc.remote_days.weekday_weight[d] for d in WEEKDAYS])
        # transit CO2 per passenger-km under the scenario's accounting (marginal, or the average of the regional
        # rail for commuters from outside the metropolitan city and of the urban mix otherwise)
        self.transit_g_per_pkm = emissions.transit_g_per_pkm(from_gateway=self.city.kind[pop.home] == GATEWAY,
                                                             cfg=sc.emissions)
        # each worker's expected household (home otherwise empty, autonomous heating), by home place
        self.household = emissions.household_shares(in_milan=self.city.in_milan[pop.home], cfg=sc.emissions)

    def use_routes(self, routes) -> None:
        """Fix the car routes (:class:`~sim.world.city.Routes`) and everything that depends on them; slots reset to preferred."""
        city = self.city
        self.routes = routes
        self.paths = traffic.active_paths(path_links=routes.path_links, od_t0_min=routes.od_t0_min, od_km=routes.od_km,
                                          active_od=self.active_od, n_zones=city.n_zones)
        free_flow_min = routes.od_t0_min[self.od]
        self.options = self._options()
        self.preferred_slot = schedule.preferred_slot(slot_mid_min=self.slots.mid_min, free_flow_min=free_flow_min,
                                                      work_start_min=self.work_start_min)
        self.plan = None  # the week's per-worker arrays must be made anew

    def set_roads(self, *, background_peak_vph: np.ndarray, road_capacity_factor: float,
                  transit_capacity_per_hour: np.ndarray) -> None:
        """Background traffic (veh/h at its peak, per link), the road capacity factor and the transit
        places per hour (per network) that the calibration fixes."""
        self.background_vph = traffic.background_vph(background_peak_vph, np.asarray(self.scenario.traffic.background_profile))
        self.link_capacity_vph = self.city.link_capacity_vph * road_capacity_factor
        self.transit_capacity_per_hour = np.asarray(transit_capacity_per_hour, dtype=np.float64)

    def _options(self) -> mode_choice.Options:
        """Each worker's commute options on the fixed routes, with this week's employer-paid transit passes."""
        sc, city, pop, routes = self.scenario, self.city, self.population, self.routes
        return mode_choice.options(
            od_local=self.od_local, dist_km=routes.od_km[self.od], free_flow_min=routes.od_t0_min[self.od],
            transit_invehicle_min=city.od_transit_min[self.od], home_in_milan=city.in_milan[pop.home],
            work_in_milan=city.in_milan[pop.work], work_in_area_c=city.in_area_c[pop.work],
            car_available=pop.car_available, mode_cfg=sc.mode, city_cfg=sc.city, policy=sc.policy,
            transit_pass=self.transit_pass)

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        """Simulate one workday."""
        day, sc, pop = self.day, self.scenario, self.population
        if adoption.is_update_day(day, sc.adoption.workdays_per_month):
            self.adoption_step(day)
        self.hired_ids = self.fill_vacancies(day)  # before the week's plan: a new hire plans their own week
        if self.calendar.week_start(day):
            self.levers_in_time(day)
            self.plan_week(day)
        remote = self.remote_t[self.calendar.weekday(day)] & self.employed
        remote_ids = np.nonzero(remote)[0]  # a small minority; what they live is fixed for the week
        away_ids = np.nonzero(remote | ~self.employed)[0]  # at home or a vacant position: no trip
        present = self.calendar.present(day)
        veh, riders = commute.trips_today(self.plan, away_ids, present)
        roads, crowd, load = self.load_network(veh, riders)
        od_car_g, air = emissions.od_car_grams(P=self.paths.P, link_km=self.city.link_km, link_min=roads.link_min,
                                               intra_rows=self.paths.intra_rows, intra_km=self.paths.km[self.paths.intra_rows],
                                               intra_speed_kmh=sc.city.local_speed_kmh, cfg=sc.emissions)
        lived = commute.live_day(self.plan, away_ids, od_min=roads.od_min, crowd=crowd, load=load, od_car_g=od_car_g,
                                 evening_factor=sc.traffic.evening_factor,
                                 crowding_threshold=sc.mode.crowding_threshold, car_occupancy=sc.mode.car_occupancy)
        home = emissions.remote_day_kg(date=self.date(day), car_available=pop.car_available[remote_ids],
                                       empty=self.household.empty[remote_ids],
                                       autonomous=self.household.autonomous[remote_ids], cfg=sc.emissions)
        strain = self.live_wellbeing(day, lived, remote)
        quits = self.quits(day)
        self.metrics.record_day(day=day, remote=remote, rem_i=remote_ids, veh=veh, roads=roads,
                                round_trip_min=lived.round_trip_min, round_delay_min=lived.round_delay_min, load=load,
                                commute_kg=lived.commute_kg, home_kg=home.home_kg, extra_kg=home.extra_kg,
                                heating=home.heating, quits=quits, strain=strain, present=present, air=air)
        if self.trace is not None:
            self.trace.record(day=day, remote=remote, lived=lived, home=home, strain=strain.total, quit_ids=quits.ids)
        wellbeing.vacate(self, quits.ids, day=day, cfg=sc.wellbeing)
        self.expected.learn(car_min_today=roads.od_min, crowd_today=crowd, rate=sc.mode.learning_rate)
        self.day += 1

    def levers_in_time(self, day: int) -> None:
        """This week's intensity of the timed levers; what they fix is remade when one of them moved."""
        levels = lever_levels(self.scenario.policy, self.date(day))
        if levels != self.levels:
            passes_moved = levels["welfare_transit_pass"] != self.levels["welfare_transit_pass"]
            self.levels = levels
            self._static_levers()
            if passes_moved:  # the transit cost of the newly covered (or no longer covered) workers
                self.options = self._options()
            self.preferred_slot = schedule.preferred_slot(slot_mid_min=self.slots.mid_min,
                                                          free_flow_min=self.routes.od_t0_min[self.od],
                                                          work_start_min=self.work_start_min)

    def adoption_step(self, day: int) -> None:
        """Monthly Bass diffusion with return-to-office (the SME lever at its intensity of the day)."""
        pop = self.population
        sme, year = self.scenario.policy.sme_support, self.calendar.year_index(day)
        level = lever_levels(self.scenario.policy, self.date(day))["sme_support"]
        trend_r = adoption.baseline_return_probability(self.scenario, self.calibration.return_prob, year)
        self.p_year, self.return_prob = adoption.policy_rates(self.scenario, trend_r, level)
        capped = sme.enabled and sme.firms_per_year is not None
        if capped and level > 0 and year not in self.enrol_years:  # the year's intake of the capped programme
            self.enrol_years.add(year)
            self.enrolled = adoption.enrol_firms(enrolled=self.enrolled, adopted=self.adopted, firm_class=pop.firm_class,
                                                 classes=sme.classes, u=self.keyed.uniform(day, "sme_enrol", pop.n_firms),
                                                 cap=sme.firms_per_year)
        self.adopted = adoption.monthly_update(self.adopted, pop.firm_class, pop.firm_employees, self.p_year,
                                               self.scenario.adoption.bass_q_per_year, self.return_prob,
                                               self.keyed.uniform(day, "adoption", pop.n_firms), self.adoption_updates_year,
                                               enrolled=self.enrolled if capped else None,
                                               base_rates=adoption.policy_rates(self.scenario, trend_r, 0.0) if capped else None)

    def plan_week(self, day: int) -> None:
        """Remote days and weekdays, then mode and departure slot, for the week starting ``day``."""
        sc, pop, n = self.scenario, self.population, self.population.n_workers
        allowed = self.allowed()
        self.remote_days, self.remote_t = remote_days.plan_week(
            allowed=allowed, all_remote=sc.policy.smart_working == "all_remote", last_days=self.last_remote_days,
            firm_cap=self.firm_cap, caregiver=self.caregiver, worker_firm=pop.worker_firm, weight=pop.weight,
            n_firms=pop.n_firms, z=self.keyed.normal(day, "remote_pref", n) if allowed.any() else np.zeros(n),
            gumbel=lambda rows: self.keyed.gumbel(day, "remote_weekday", (n, 5), rows=rows),
            log_weekday_weight=self.log_weekday_weight, cfg=sc.remote_days, policy=sc.policy.remote_days,
            level=self.levels["remote_days"])
        self.last_remote_days = self.remote_days.astype(np.float64)
        cold = day == 0 and not self.started_warm
        who = mode_choice.who_reviews(u_review=self.keyed.uniform(day, "review", n), review_share=sc.mode.weekly_review_share,
                                      everyone=cold)
        mode, slot = mode_choice.choose_modes_and_slots(
            who, u_mode=self.keyed.uniform_at(day, "mode", who), u_slot=self.keyed.uniform_at(day, "slot", who),
            mode_utilities=self._mode_utilities_t, slot_utilities=self._slot_utilities_t,
            hold=None if cold else self.hold_choices, mode_now=self.mode, slot_now=self.slot)
        self.mode[who] = mode
        self.slot[who] = slot
        self._update_plan(who)

    def load_network(self, veh: np.ndarray, riders: np.ndarray):
        """Today's roads (:class:`~sim.behaviour.traffic.Roads`), transit crowding and load by slot."""
        sc, city = self.scenario, self.city
        roads = traffic.load_roads(paths=self.paths, od_slot_vehicles=veh, slot_hours=self.slots.hours,
                                   background_vph=self.background_vph, link_t0_min=city.link_t0_min,
                                   link_capacity_vph=self.link_capacity_vph, cfg=sc.traffic)
        self.car_vehicles_od_slot = veh  # today's commuter cars by active OD pair and slot (read by the calibration)
        self.transit_riders_network_slot = riders  # and transit riders by network and slot
        load = traffic.transit_load(riders_per_slot=riders, slot_hours=self.slots.hours,
                                    capacity_per_hour=self.transit_capacity_per_hour,
                                    capacity_factor=sc.policy.transit_capacity_factor)
        return roads, traffic.transit_crowding(load, sc.mode.crowding_beta, sc.mode.crowding_threshold), load

    def live_wellbeing(self, day: int, lived, remote: np.ndarray) -> wellbeing.Strain:
        """Today's strain of everyone (:class:`~sim.behaviour.wellbeing.Strain`), and stress moved toward it
        (on a cold start's first day, stress = strain)."""
        sc = self.scenario
        strain = wellbeing.strain_today(base=self.base_stress, mode=self.mode, round_trip_min=lived.round_trip_min,
                                        round_delay_min=lived.round_delay_min, crowd_excess=lived.crowd_excess,
                                        conflict=self.conflict, remote=remote, remote_days_week=self.remote_days,
                                        weight=self.population.weight, employed=self.employed, cfg=sc.wellbeing)
        if day == 0 and not self.started_warm:
            self.stress = strain.total.copy()
        else:
            wellbeing.update_stress(self.stress, strain.total, sc.wellbeing, out=self.stress)
        return strain

    def quits(self, day: int) -> wellbeing.Quits:
        """Today's quit probabilities (the expected quits) and the realised quitters with their reasons."""
        n = self.population.n_workers
        return wellbeing.quits_today(u=self.keyed.uniform(day, "quit", n),
                                     u_reason_at=lambda ids: self.keyed.uniform_at(day, "quit_reason", ids),
                                     stress=self.stress, employed=self.employed, woman=self.woman,
                                     child_group=self.child_group, h0=self.calibration.h0, cfg=self.scenario.wellbeing)

    def fill_vacancies(self, day: int) -> np.ndarray:
        """Positions whose vacancy ends today get a new hire from the population margins (their conflict anew)."""
        ids = wellbeing.fill_vacancies(self, day, lambda rows: wellbeing.draw_hires(
            self.keyed, day, rows, self.scenario.population))
        if len(ids):
            self.conflict[ids] = self.personal_conflict(ids)
        return ids

    def personal_conflict(self, idx) -> np.ndarray:
        """Work-family conflict of an office day without commute of the holders of positions ``idx``."""
        return wellbeing.personal_conflict(child_group=self.child_group[idx], dependant=self.dependant[idx],
                                           flexible=self.window_min[idx] > 0, welfare_cut=self.welfare_cut[idx],
                                           cfg=self.scenario.wellbeing)

    def run(self, days: int | None = None, progress=None) -> None:
        """Run ``days`` workdays (default: the scenario's); ``progress`` is called with 1 per day."""
        for _ in range(self.scenario.days if days is None else days):
            self.step()
            if progress is not None:
                progress(1)

    # ------------------------------------------------------------------ the weekly choice, wired
    def _index(self, idx) -> np.ndarray:
        return np.arange(self.population.n_workers)[idx] if isinstance(idx, slice) else np.asarray(idx)

    def _mode_utilities_t(self, idx: np.ndarray) -> np.ndarray:
        return mode_choice.mode_utilities_for(self.options, idx, slot=self.slot[idx], expected=self.expected,
                                              asc=self.calibration.asc, mode_cfg=self.scenario.mode,
                                              transit_access_min=self.scenario.city.transit_access_min)

    def _slot_utilities_t(self, mode: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return mode_choice.slot_utilities_for(self.options, mode, idx, expected=self.expected, slot_mid_min=self.slots.mid_min,
                                              work_start_min=self.work_start_min, window_min=self.window_min,
                                              mode_cfg=self.scenario.mode, transit_access_min=self.scenario.city.transit_access_min)

    def mode_probabilities(self, idx=slice(None)) -> np.ndarray:
        """Logit mode probabilities (n, 5) at the workers' current slots."""
        return mode_choice.probabilities_t(self._mode_utilities_t(self._index(idx))).T

    def slot_probabilities(self, mode: np.ndarray, idx=slice(None)) -> np.ndarray:
        """Logit departure-slot probabilities (n, n_slots) given each worker's mode."""
        idx = self._index(idx)
        prob = np.empty((self.slots.n, len(idx)))
        for g in mode_choice.slot_groups(mode):
            prob[:, g] = mode_choice.probabilities_t(self._slot_utilities_t(mode[g], idx[g]))
        return prob.T

    def _update_plan(self, who: np.ndarray) -> None:
        """The week's per-worker arrays (see :mod:`sim.behaviour.commute`) of the workers who reviewed their plan
        (everyone when the arrays are missing or were made for other mode/slot arrays)."""
        n = self.population.n_workers
        if self.plan is None or self._plan_for[0] is not self.mode or self._plan_for[1] is not self.slot:
            self.plan = commute.empty_plan(n, n_active_od=len(self.active_od), n_slots=self.slots.n,
                                           n_networks=len(TRANSIT_NETWORKS))
            self._plan_for = (self.mode, self.slot)
            who = np.arange(n)
        sc = self.scenario
        commute.update_plan(self.plan, who, mode=self.mode, slot=self.slot, options=self.options,
                            paths_t0_min=self.paths.t0_min, transit_g_per_pkm=self.transit_g_per_pkm,
                            weight=self.population.weight, moto_g_per_km=sc.emissions.moto_g_per_km,
                            car_occupancy=sc.mode.car_occupancy, transit_access_min=sc.city.transit_access_min)

    # ------------------------------------------------------------------ public helpers
    def date(self, day: int):
        """Calendar date of workday ``day``."""
        return self.calendar.date(day)

    def allowed(self) -> np.ndarray:
        """Workers allowed smart working this month (see :func:`sim.behaviour.adoption.allowed_workers`)."""
        pop = self.population
        return adoption.allowed_workers(regime=self.scenario.policy.smart_working, adopted=self.adopted,
                                        worker_firm=pop.worker_firm, teleworkable=pop.teleworkable)

    def worker(self, worker_id: int) -> Worker:
        """The Mesa agent of one worker, made on first request."""
        if not 0 <= worker_id < self.population.n_workers:
            raise IndexError(f"worker id {worker_id} out of range 0..{self.population.n_workers - 1}")
        if worker_id not in self._workers:
            self._workers[worker_id] = Worker(self, worker_id)
        return self._workers[worker_id]

    def firm(self, firm_id: int) -> Firm:
        """The Mesa agent of one employer, made on first request (firms are columnar state like workers)."""
        if not 0 <= firm_id < self.population.n_firms:
            raise IndexError(f"firm id {firm_id} out of range 0..{self.population.n_firms - 1}")
        if firm_id not in self._firms:
            self._firms[firm_id] = Firm(self, firm_id)
        return self._firms[firm_id]

    @property
    def remote_mask(self) -> np.ndarray:
        """Bool (n, 5): each worker's remote weekdays this week (a view of ``remote_t``, stored (5, n))."""
        return self.remote_t.T

    def trace_rows(self) -> list[dict]:
        """The traced worker's day-by-day rows."""
        return self.trace.rows if self.trace is not None else []

    @property
    def trace_worker(self) -> int | None:
        return self.trace.worker_id if self.trace is not None else None

    # names the metrics, the calibration and the tests read
    @property
    def dist_km(self) -> np.ndarray:
        """One-way car path length per worker (km)."""
        return self.options.dist_km

    @property
    def segment(self) -> np.ndarray:
        return self.options.segment

    @property
    def peak_slots(self) -> np.ndarray:
        return self.slots.peak

    @property
    def od_t0_active(self) -> np.ndarray:
        return self.paths.t0_min

    @property
    def learnt_car_min(self) -> np.ndarray:
        return self.expected.car_min

    @property
    def learnt_crowd(self) -> np.ndarray:
        return self.expected.crowd


__all__ = ["CommuteModel", "TraceWorkerError"]
