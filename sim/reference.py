"""The executable specification: the daily rules of :class:`sim.model.CommuteModel`, agent by agent.

``ReferenceModel`` is a plain Mesa model. Every worker is a :class:`RefWorker` and every employer a
:class:`RefFirm`, each holding its own state as Python scalars and applying the rules to itself in
its own methods; the model only sequences the day and does what is aggregate by nature (the road
network and the transit load, which depend on everybody's trips). It is written to be read, not to
be fast, and it shares only *inputs* with the fast model:

* the validated :class:`~sim.schema.Scenario`, the :class:`~sim.city.City` and the
  :class:`~sim.population.Population`;
* the :class:`~sim.calibration.Calibration` (fixed routes, alternative constants, background traffic,
  quit hazards, return-to-office probabilities, the learnt times and the initial mode, slot and
  stress the workers start the year with);
* the keyed random numbers (:class:`~sim.rng.KeyedRNG`): the same array is drawn for the same
  (day, stream), and worker ``i`` (firm ``f``) reads element ``i`` (``f``).

It never calls the rules it checks (``sim.adoption``, ``sim.remote_days``, ``sim.mode_choice``,
``sim.traffic``, ``sim.emissions``, ``sim.wellbeing``, ``sim.metrics``, methods of
``CommuteModel``): their formulas are written again here, scalar by scalar, in the same order of
operations (float64 throughout). Sums feeding decisions are accumulated in the order the fast
model's kernels use (``np.bincount`` and the sparse products add in index order), so trip counts,
link flows, transit loads, class shares and colleagues' means agree to the last bit. What goes
through ``math.exp``/``math.log``/``**`` may differ by one unit in the last place from numpy's SIMD
versions, and the daily totals are plain sums where the fast model uses ``np.dot``/pairwise sums, so
continuous results agree to ~1e-14 relative; discrete choices agree unless a random number falls
within an ulp of a threshold (tests/test_reference.py checks both).

One step is one workday:

1. monthly (every ``workdays_per_month`` days, not on day 0): each firm decides to adopt smart
   working or to return to the office (Bass diffusion within its size class);
2. on Mondays: each firm computes its staff's mean remote days of last week; each worker plans how
   many remote days and which weekdays, and a share of workers reconsider their mode and then their
   departure slot (logit, inverse-CDF draw) -- or, with choices held (a run option), keep the mode and
   draw the slot only, or keep both;
3. each worker stays home or sets out; car trips are counted by (OD pair, slot) and transit riders by
   network (urban inside the Comune, regional across its boundary) and slot; car trips load the links of each OD pair's fixed path, links slow down (BPR), OD times are
   the sums along the paths; transit crowds;
4. each worker lives the day: travel time and delay, CO2 of the commute and of the remote day, work-
   family conflict, strain, stress, and the quit draw; a quitter is replaced by a new hire in the same
   position (same characteristics, plan, mode and slot) with a fresh stress;
5. the learnt car times and transit crowding move toward today's.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import TYPE_CHECKING

import mesa

from sim.world.build import build_city  # grid, CSV or the real Milan (issue 14)
from sim.world.calendar import LEVER_BLOCKS, build_calendar, intensity, scaled
from sim.world.city import City
from sim.world.population import Population, build_population
from sim.rng import SETUP_DAY, KeyedRNG
from sim.scenario.schema import MODES, SIZE_CLASSES, TRANSIT_NETWORKS, WEEKDAYS, WORKDAYS_PER_YEAR, Scenario, parse_clock

if TYPE_CHECKING:  # only the type: the calibration object is an input
    from sim.calibration import Calibration

CAR, TRANSIT, BIKE, WALK, MOTO = range(5)
CORE, MUNICIPALITY, HINTERLAND, GATEWAY = 0, 1, 2, 3  # zone kinds (sim.city)
STRESS_MAX = 10.0


# ---------------------------------------------------------------------------------- scalar helpers
def _total(values) -> float:
    """Sum in order, one addition at a time."""
    acc = 0.0
    for v in values:
        acc += v
    return acc


def _logit(util: list[float]) -> list[float]:
    """Logit probabilities of a list of utilities (-inf for an unavailable alternative)."""
    top = max(util)
    e = [math.exp(u - top) for u in util]
    tot = _total(e)
    return [x / tot for x in e]


def _draw(prob: list[float], u: float) -> int:
    """Inverse CDF: the number of cumulative probabilities below ``u`` times the total, capped."""
    cdf, acc = [], 0.0
    for p in prob:
        acc += p
        cdf.append(acc)
    threshold = u * cdf[-1]
    return min(sum(1 for c in cdf if c < threshold), len(prob) - 1)


def _car_g_per_km(speed_kmh: float, cfg) -> float:
    """Car CO2 (g per vehicle-km) at a speed: ``k*(a + b/v + c*v^2)``, equal to the urban factor at the reference speed."""
    a, b, c = cfg.speed_curve
    vr = cfg.urban_reference_speed_kmh
    k = cfg.car_urban_g_per_km / (a + b / vr + c * vr * vr)
    v = max(speed_kmh, 1.0)
    return k * (a + b / v + c * v * v)


AIR = ("nox", "pm25_exhaust", "pm25_wear")  # the air-quality series (sim.behaviour.emissions.POLLUTANTS)


def _air_g_per_km(speed_kmh: float, cfg) -> list[float]:
    """Cars' NOx, PM2.5 exhaust and PM2.5 wear (g per vehicle-km) at a speed: each exhaust curve
    ``k*(a + b/v + c*v^2)`` equal to its urban factor at the reference speed; tyre and brake wear times the
    EMEP/EEA speed corrections."""
    vr = cfg.urban_reference_speed_kmh
    v = max(speed_kmh, 1.0)
    out = []
    for (a, b, c), urban in ((cfg.nox_speed_curve, cfg.nox_urban_g_per_km),
                             (cfg.pm25_exhaust_speed_curve, cfg.pm25_exhaust_urban_g_per_km)):
        k = urban / (a + b / vr + c * vr * vr)
        out.append(k * (a + b / v + c * v * v))
    tyre = 1.39 if speed_kmh < 40.0 else (-0.00974 * speed_kmh + 1.78 if speed_kmh <= 90.0 else 0.902)
    brake = 1.67 if speed_kmh < 40.0 else (-0.0270 * speed_kmh + 2.75 if speed_kmh <= 95.0 else 0.185)
    out.append(cfg.tyre_pm25_g_per_km * tyre + cfg.brake_pm25_g_per_km * brake)
    return out


def _heating_season(date: dt.date, cfg) -> bool:
    md = (date.month, date.day)
    start = tuple(int(p) for p in cfg.heating_start.split("-"))
    end = tuple(int(p) for p in cfg.heating_end.split("-"))
    return md >= start or md <= end if start > end else start <= md <= end


# ---------------------------------------------------------------------------------- agents
class RefFirm(mesa.Agent):
    """An employer: its size class, its full-population employees, whether it offers smart working.

    Args:
        model: the :class:`ReferenceModel`.
        firm_id: index of the firm in the population.
    """

    def __init__(self, model: "ReferenceModel", firm_id: int):
        super().__init__(model)
        pop = model.population
        self.firm_id = firm_id
        self.size_class = int(pop.firm_class[firm_id])
        self.zone = int(pop.firm_zone[firm_id])
        self.employees = float(pop.firm_employees[firm_id])
        self.adopted = False
        self.enrolled = False  # supported by a capped SME programme
        self.staff: list[RefWorker] = []  # sampled workers, in id order
        self.peer_mean_days = 0.0

    def monthly_decision(self, p_adopt_by_class: list[float], u: list[float], capped: bool = False,
                         base: tuple[list[float], list[float]] | None = None) -> None:
        """Adopt with this month's probability of the class, or return to the office with the class's hazard;
        under a capped SME programme a firm it does not support has the rates without the lever (``base``)."""
        mine = u[self.firm_id]
        p_adopt, r = p_adopt_by_class, self.model.return_prob
        if capped and not self.enrolled:
            p_adopt, r = base
        if self.adopted:
            self.adopted = mine >= r[self.size_class]
        else:
            self.adopted = mine < p_adopt[self.size_class]

    def update_peer_mean(self) -> None:
        """Weighted mean of last week's remote days among the staff allowed smart working."""
        num = den = 0.0
        for w in self.staff:
            if w.allowed:
                num += w.weight * w.last_remote_days
                den += w.weight
        self.peer_mean_days = num / den if den > 0 else self.model.scenario.remote_days.preferred_days


class RefWorker(mesa.Agent):
    """One commuter: fixed characteristics, weekly plan, habits, and what the day brings.

    Args:
        model: the :class:`ReferenceModel`.
        worker_id: index of the worker in the population.
        firm: the :class:`RefFirm` employing them.
    """

    def __init__(self, model: "ReferenceModel", worker_id: int, firm: RefFirm):
        super().__init__(model)
        sc, city, pop, routes = model.scenario, model.city, model.population, model.calibration.routes
        m, c, pol = sc.mode, sc.city, sc.policy
        i = worker_id
        self.worker_id = i
        self.firm = firm
        firm.staff.append(self)
        # who they are
        self.size_class = int(pop.worker_class[i])
        self.home, self.work = int(pop.home[i]), int(pop.work[i])
        self.od = self.home * city.n_zones + self.work
        self.weight = float(pop.weight[i])
        self.woman = bool(pop.woman[i])
        self.child_group = int(pop.child_group[i])  # youngest child: 0 none under 15, 1: 0-2, 2: 3-5, 3: 6-14
        self.dependant = bool(pop.dependant[i])
        self.caregiver = bool(pop.caregiver[i])
        self.employed = True
        self.vacant_until = -1
        self.car_available = bool(pop.car_available[i])
        self.teleworkable = bool(pop.teleworkable[i])
        self.base_stress = float(pop.base_stress[i])
        # their commute
        home_milan = int(city.kind[self.home]) <= MUNICIPALITY
        work_milan = int(city.kind[self.work]) <= MUNICIPALITY
        work_core = int(city.kind[self.work]) == CORE
        self.work_core = work_core  # a workplace inside Area C
        self.segment = (0 if work_milan else 2) if home_milan else (1 if work_milan else 3)
        self.network = 0 if (home_milan and work_milan) else 1  # transit: urban (ATM) or regional (Trenord)
        self.dist_km = float(routes.od_km[self.od])
        self.car_access_min = c.car_access_min + (c.car_access_municipality_min if work_milan else 0.0)
        parking = c.parking_cost_core_eur if work_core else (c.parking_cost_municipality_eur if work_milan else 0.0)
        car_cost = 2 * m.car_cost_per_km * self.dist_km + parking + (pol.area_c_charge_eur if work_core else 0.0)
        regional = 0.0 if (home_milan and work_milan) else m.regional_fare_per_km * self.dist_km
        transit_cost = 2 * (pol.transit_fare_eur + regional)
        moto_cost = 2 * m.moto_cost_per_km * self.dist_km
        self.transit_fare_cost = transit_cost  # what they pay unless their employer pays the season ticket
        self.costs_eur = [car_cost, transit_cost, 0.0, 0.0, moto_cost]
        self.transit_invehicle_min = float(city.od_transit_min[self.od])
        # a motorbike suffers a share of the car's delay: (t0 + share*(car - t0)) / speed + access
        self.moto_delay_factor = m.moto_congestion_share / m.moto_speed_factor
        self.moto_free_min = (1.0 - m.moto_congestion_share) * float(routes.od_t0_min[self.od]) / m.moto_speed_factor + c.car_access_min
        self.bike_min = self.dist_km / m.bike_speed_kmh * 60.0
        self.walk_min = self.dist_km / m.walk_speed_kmh * 60.0
        self.available = [self.car_available, True, self.dist_km <= m.bike_max_km, self.dist_km <= m.walk_max_km, True]
        e = sc.emissions
        if e.transit_accounting == "marginal":  # what this rider changes: the trains and buses run anyway
            self.transit_g_per_pkm = e.transit_marginal_g_per_pkm
        else:
            self.transit_g_per_pkm = e.regional_rail_g_per_pkm if int(city.kind[self.home]) == GATEWAY else e.transit_g_per_pkm
        # this worker's expected household: alone, or living with others of whom nobody is at home that day
        alone = e.one_person_share_milan if home_milan else e.one_person_share_outside
        self.p_home_empty = alone + (1.0 - alone) * (1.0 - e.other_adult_home_share)
        self.p_autonomous = 1.0 - (e.centralised_share_milan if home_milan else e.centralised_share_outside)
        self.firm_cap = sc.adoption.max_remote_days[SIZE_CLASSES[self.size_class]]
        self.set_levers(model.levels)
        # state
        self.allowed = False
        self.remote_days = 0
        self.last_remote_days = float(sc.remote_days.preferred_days)
        self.remote_weekdays = [False] * 5
        self.mode = CAR
        self.slot = self.preferred_slot
        self.stress = self.base_stress
        # today
        self.remote_today = False
        self.by_car = self.by_transit = False
        self.round_trip_min = self.round_delay_min = 0.0
        self.commute_kg = self.home_kg = self.extra_kg = 0.0
        self.quit_today = False
        self.quit_p = 0.0
        self.quit_reason = -1
        self.strain_parts = [0.0] * 6

    # -------------------------------------------------------------- weekly plan
    def set_levers(self, levels: dict[str, float]) -> None:
        """Their schedule and employer's levers at this week's intensities (0-1) of the timed levers."""
        m = self.model
        sc, pop, i, firm = m.scenario, m.population, self.worker_id, self.firm
        pol = sc.policy
        start = float(parse_clock(sc.mode.work_start[SIZE_CLASSES[self.size_class]], ""))
        st = pol.staggered_hours
        shift = 0.0
        if st.enabled:
            u = float(pop.firm_u_stagger[firm.firm_id])
            lv = levels["staggered_hours"]
            shifted = (st.public_administration and u < lv) if SIZE_CLASSES[firm.size_class] == "public" else \
                u < st.share_of_firms * lv
            shift = float(st.shift_minutes) if shifted else 0.0
        self.work_start_min = start + shift
        fl = pol.flexible_hours
        covered = float(pop.u_flex[i]) < fl.share_of_workers * levels["flexible_hours"]
        self.window_min = float(fl.window_minutes) if (fl.enabled and covered) else 0.0
        cw = pol.corporate_welfare
        # covered: the draw below the coverage of the employer's size class, at the lever's intensity
        covered = float(pop.u_welfare[i]) < getattr(cw.coverage, SIZE_CLASSES[self.size_class]) * levels["corporate_welfare"]
        self.welfare_cut = cw.conflict_reduction if (cw.enabled and covered) else 0.0
        tp = pol.welfare_transit_pass
        # the employer pays the season ticket: its draw below the share of employers at the lever's intensity
        u_pass = float(pop.firm_u_transit_pass[firm.firm_id])
        self.transit_pass = tp.enabled and u_pass < tp.share_of_employers * levels["welfare_transit_pass"]
        self.costs_eur[TRANSIT] = 0.0 if self.transit_pass else self.transit_fare_cost
        # the slot whose free-flow arrival is closest to the start of work (first of equals)
        t0 = float(m.calibration.routes.od_t0_min[self.od])
        gaps = [abs(mid + t0 - self.work_start_min) for mid in m.slot_mid_min]
        self.preferred_slot = gaps.index(min(gaps))

    def update_allowed(self) -> None:
        """Allowed smart working: the employer offers it and the job can be done at home."""
        regime = self.model.scenario.policy.smart_working
        if regime == "off":
            self.allowed = False
        elif regime == "all_remote":
            self.allowed = True
        else:
            self.allowed = self.firm.adopted and self.teleworkable

    def plan_remote_days(self, z: list[float], gumbel: list[list[float]]) -> None:
        """How many remote days this week (preference, caregiving, colleagues, caps), and which weekdays."""
        sc = self.model.scenario
        rd = sc.remote_days
        if sc.policy.smart_working == "all_remote":
            days = 5
        elif self.allowed:
            desired = (rd.preferred_days + rd.caregiver_extra_days * self.caregiver
                       + rd.peer_weight * (self.firm.peer_mean_days - rd.preferred_days) + rd.preference_sd * z[self.worker_id])
            days = min(max(round(desired), 0), self.firm_cap)  # round half to even, like np.rint
            floor, cap = self.model.floor_cap  # the lever's floor and cap at this week's intensity
            days = min(max(days, floor), cap)
        else:
            days = 0
        self.remote_days = days
        self.last_remote_days = float(days)
        # weighted sampling without replacement: the `days` weekdays with the largest log(weight) + Gumbel keys
        g = gumbel[self.worker_id]
        keys = [self.model.log_weekday_weight[d] + g[d] for d in range(5)]
        order = sorted(range(5), key=lambda d: -keys[d])  # stable: ties keep weekday order
        self.remote_weekdays = [False] * 5
        for rank, d in enumerate(order):
            self.remote_weekdays[d] = rank < days

    def one_way_minutes(self, slot: int) -> list[float]:
        """Door-to-door minutes per mode if leaving in ``slot``, with the learnt car times and crowding."""
        m = self.model
        car = m.learnt_car_min[self.od][slot] + self.car_access_min
        transit = self.transit_invehicle_min * m.learnt_crowd[self.network][slot] + m.scenario.city.transit_access_min
        moto = self.moto_free_min + self.moto_delay_factor * m.learnt_car_min[self.od][slot]
        return [car, transit, self.bike_min, self.walk_min, moto]

    def mode_probabilities(self) -> list[float]:
        """Logit over the five modes at the current slot: ASC + beta_time * round-trip minutes + beta_cost * euros."""
        mc = self.model.scenario.mode
        times = self.one_way_minutes(self.slot)
        asc = self.model.asc[self.segment]
        util = [asc[k] + mc.beta_time_per_min * (2 * times[k]) + mc.beta_cost_per_eur * self.costs_eur[k]
                if self.available[k] else -math.inf for k in range(5)]
        return _logit(util)

    def slot_probabilities(self, mode: int) -> list[float]:
        """Logit over departure slots given the mode: travel time and schedule delay (early / late arrival)."""
        m = self.model
        mc = m.scenario.mode
        if mode == CAR:
            times = [t + self.car_access_min for t in m.learnt_car_min[self.od]]
        elif mode == TRANSIT:
            times = [self.transit_invehicle_min * c + m.scenario.city.transit_access_min for c in m.learnt_crowd[self.network]]
        elif mode == MOTO:
            times = [self.moto_free_min + self.moto_delay_factor * t for t in m.learnt_car_min[self.od]]
        else:  # bike and walk take the same time whenever one leaves
            times = [(self.bike_min, self.walk_min)[mode - BIKE]] * m.n_slots
        util = []
        for s in range(m.n_slots):
            t = times[s]
            arrival = m.slot_mid_min[s] + t
            early = max(0.0, self.work_start_min - self.window_min - arrival)
            late = max(0.0, arrival - self.work_start_min - self.window_min)
            util.append(mc.slot_scale * (mc.beta_time_per_min * t + mc.beta_early_per_min * early + mc.beta_late_per_min * late))
        return _logit(util)

    def review_travel(self, review: list[bool], u_mode: list[float], u_slot: list[float], hold: str | None = None) -> None:
        """If reconsidering this week: draw a mode, then a departure slot for that mode (else keep the habit).

        ``hold`` ``"modes"``: keep the mode, draw only the slot for it; ``"modes_and_slots"``: keep both."""
        i = self.worker_id
        if not review[i] or hold == "modes_and_slots":
            return
        if hold != "modes":
            self.mode = _draw(self.mode_probabilities(), u_mode[i])
        self.slot = _draw(self.slot_probabilities(self.mode), u_slot[i])

    # -------------------------------------------------------------- the day
    def set_out(self, weekday: int) -> None:
        """Stay home on a planned remote day, else commute by the habitual mode and slot."""
        self.remote_today = self.remote_weekdays[weekday] and self.employed  # a vacant position stays empty
        office = self.employed and not self.remote_today
        self.by_car = office and self.mode == CAR
        self.by_transit = office and self.mode == TRANSIT

    def live_day(self, cold: bool) -> None:
        """Travel time, delay, CO2, conflict, strain, stress and the quit draw of today.

        ``cold``: the first day of a run without the calibration's initial state (stress = today's strain).
        """
        m = self.model
        sc = m.scenario
        mc, e, wb = sc.mode, sc.emissions, sc.wellbeing
        remote, s = self.remote_today, self.slot
        one_way, delay, crowd_excess = 0.0, 0.0, 0.0
        car_kg = transit_kg = moto_kg = 0.0
        self.air_g = [0.0, 0.0, 0.0]  # grams of NOx, PM2.5 exhaust, PM2.5 wear today
        if self.employed and not remote:
            if self.mode == CAR:
                t = m.od_min[self.od][s]
                one_way = t + self.car_access_min
                delay = t - m.od_t0_min[self.od]
                car_kg = 2 * m.od_car_g(self.od, s) / mc.car_occupancy / 1000.0
                self.air_g = [2 * g / mc.car_occupancy for g in m.od_air_g(self.od, s)]
            elif self.mode == TRANSIT:
                one_way = self.transit_invehicle_min * m.crowd[self.network][s] + sc.city.transit_access_min
                crowd_excess = max(0.0, m.transit_load[self.network][s] - m.scenario.mode.crowding_threshold)
                transit_kg = 2 * self.dist_km * self.transit_g_per_pkm / 1000.0
            elif self.mode == BIKE:
                one_way = self.bike_min
            elif self.mode == WALK:
                one_way = self.walk_min
            else:
                t = m.od_min[self.od][s]
                one_way = self.moto_free_min + self.moto_delay_factor * t
                delay = self.moto_delay_factor * (t - m.od_t0_min[self.od])
                moto_kg = 2 * self.dist_km * e.moto_g_per_km / 1000.0
                self.air_g = [2 * self.dist_km * f for f in (e.moto_nox_g_per_km, e.moto_pm25_exhaust_g_per_km,
                                                             e.moto_pm25_wear_g_per_km)]
        ev = sc.traffic.evening_factor
        self.round_trip_min = 2 * one_way - delay + ev * delay  # the evening return has ev times the morning delay
        self.round_delay_min = (1 + ev) * delay
        self.commute_kg = car_kg + transit_kg + moto_kg
        if remote:  # the workstation; in a home otherwise empty, the rest of the electricity and the heating
            kg_empty = e.home_electricity_kwh * e.grid_kg_per_kwh
            if m.heating_today:
                heat_share = self.p_autonomous + (1.0 - self.p_autonomous) * e.centralised_heating_factor
                kg_empty += e.home_heating_kwh * e.gas_kg_per_kwh * heat_share
            self.home_kg = e.workstation_kwh * e.grid_kg_per_kwh + self.p_home_empty * kg_empty
        else:
            self.home_kg = 0.0
        self.extra_kg = e.extra_trip_km_per_remote_day * e.car_urban_g_per_km / 1000.0 if (remote and self.car_available) else 0.0
        if remote and self.car_available:  # the extra car trips, at the urban reference speed
            self.air_g = [e.extra_trip_km_per_remote_day * g for g in _air_g_per_km(e.urban_reference_speed_kmh, e)]
        # wellbeing: strain by component (a vacant position's row lives an office day without commute)
        hours = self.round_trip_min / 60.0
        levels = [wb.conflict_none, wb.conflict_child_0_2, wb.conflict_child_3_5, wb.conflict_child_6_14]
        young = self.child_group in (1, 2)  # childcare acts on parents of children aged 0-5 only
        personal = (levels[self.child_group] * (1.0 - (self.welfare_cut if young else 0.0))
                    + (wb.conflict_dependant if self.dependant else 0.0))
        personal *= wb.flexible_conflict_factor if self.window_min > 0 else 1.0
        conflict = personal * (wb.remote_conflict_factor if remote else 1.0 + wb.conflict_per_commute_hour * hours)
        per_hour = [wb.strain_car_per_hour, wb.strain_transit_per_hour, wb.strain_bike_per_hour,
                    wb.strain_walk_per_hour, wb.strain_moto_per_hour][self.mode]
        isolation = wb.w_isolation_per_day * max(0, self.remote_days - wb.isolation_free_days) if remote else 0.0
        self.strain_parts = [self.base_stress, per_hour * hours, wb.w_delay_per_hour * (self.round_delay_min / 60.0),
                             wb.w_crowding * crowd_excess, conflict, isolation]
        strain = _total(self.strain_parts)
        strain = min(max(strain, 0.0), STRESS_MAX)
        self.stress = strain if cold else self.stress + (strain - self.stress) / wb.memory_days
        # the quit hazard: the cell's base hazard x exp(coef x stress); nobody quits a vacant position
        self.cell = 2 * int(self.woman) + (1 if self.child_group == 1 else 0)
        self.quit_p = -math.expm1(-m.h0[self.cell] * math.exp(wb.quit_stress_coef * self.stress)) if self.employed else 0.0
        self.quit_today = m.draws_quit[self.worker_id] < self.quit_p
        self.quit_reason = -1
        if self.quit_today:
            care, j2j = m.reason_shares[self.cell]
            u = m.draws_reason[self.worker_id]
            self.quit_reason = 0 if u < care else (1 if u < care + j2j else 2)

    def leave_if_quit(self) -> None:
        """A quitter leaves: the position is vacant for ``vacancy_workdays``."""
        if self.quit_today:
            self.employed = False
            self.vacant_until = self.model.day + self.model.scenario.wellbeing.vacancy_workdays

    def hire_if_due(self, hires: dict) -> None:
        """The vacancy ends today: a new hire drawn from the population margins takes the position, with a fresh stress."""
        if self.employed or self.vacant_until != self.model.day:
            return
        pc, i = self.model.scenario.population, self.worker_id
        self.woman = hires["gender"][i] < pc.women_share
        gender = "women" if self.woman else "men"
        shares = [pc.youngest_child_share[gender][a] for a in ("0-2", "3-5", "6-14")]
        cum = 1.0 - sum(shares)
        bounds = [cum]
        for x in shares[:-1]:
            cum += x
            bounds.append(cum)
        self.child_group = sum(1 for b in bounds if hires["child"][i] >= b)
        self.dependant = hires["dependant"][i] < pc.other_dependant_share[gender]
        self.caregiver = self.child_group > 0 or self.dependant
        self.base_stress = max(pc.base_stress_mean + pc.base_stress_sd * hires["base_stress"][i], 0.0)
        self.stress = self.base_stress
        self.employed = True
        self.vacant_until = -1


# ---------------------------------------------------------------------------------- model
class ReferenceModel(mesa.Model):
    """The plain per-agent implementation of :class:`sim.model.CommuteModel`'s rules.

    Args:
        scenario: a validated :class:`~sim.scenario.schema.Scenario`.
        calibration: the baseline calibration (:func:`sim.calibration.calibrate`, an input made before
            the model, as for the fast model). It is read, never modified.
        city: the city (built from the scenario if None).
        population: the population (built from the scenario if None).
        hold_choices: None, ``"modes"`` or ``"modes_and_slots"``: from the first Monday on (after a cold
            start's free day-0 choice), reviewing workers keep their mode (and slot) instead of choosing.
    """

    def __init__(self, scenario: Scenario, calibration: "Calibration", *, city: City | None = None,
                 population: Population | None = None, hold_choices: str | None = None):
        if hold_choices not in (None, "modes", "modes_and_slots"):
            raise ValueError(f"hold_choices: expected None, modes or modes_and_slots, got {hold_choices!r}")
        self.hold_choices = hold_choices
        super().__init__(seed=scenario.seed)
        self.scenario = sc = scenario
        self.keyed = KeyedRNG(sc.seed)
        self.city = city if city is not None else build_city(sc.city)
        self.population = pop = population if population is not None else build_population(
            sc.population, self.city, sc.scale, self.keyed)
        self.calibration = cal = calibration
        self.calendar = build_calendar(sc)  # the same Italian calendar as the fast model (sim.world.calendar)
        self.enrol_years: set[int] = set()  # years of the run whose intake of a capped SME programme is done
        self.levels = {name: intensity(getattr(sc.policy, name), self.calendar.date(0)) for name in LEVER_BLOCKS}
        self.day = 0
        self.rows: list[dict] = []
        self._setup_inputs()

        self.firm_list = [RefFirm(self, f) for f in range(pop.n_firms)]
        self.worker_list = [RefWorker(self, i, self.firm_list[int(pop.worker_firm[i])]) for i in range(pop.n_workers)]
        # the year starts with the adopters drawn at the target shares
        u = self.keyed.uniform(SETUP_DAY, "firm_adopt_init", pop.n_firms).tolist()
        for firm in self.firm_list:
            firm.adopted = u[firm.firm_id] < self.target_firm_share[firm.size_class]
        # and with the habits and stress of the calibration's warm-up (a cold start chooses on day 0)
        self.started_warm = cal.initial_mode is not None
        if self.started_warm:
            modes, slots, stress = cal.initial_mode.tolist(), cal.initial_slot.tolist(), cal.initial_stress.tolist()
            for w in self.worker_list:
                w.mode, w.slot, w.stress = int(modes[w.worker_id]), int(slots[w.worker_id]), float(stress[w.worker_id])

    # -------------------------------------------------------------- inputs, as scalars and lists
    def _setup_inputs(self) -> None:
        sc, city, cal = self.scenario, self.city, self.calibration
        m = sc.mode
        self.n_slots = S = m.n_slots
        self.slot_hours = m.slot_minutes / 60.0
        first = parse_clock(m.first_slot, "mode.first_slot")
        self.slot_mid_min = [first + m.slot_minutes * (s + 0.5) for s in range(S)]
        p0, p1 = parse_clock(sc.traffic.peak_start, ""), parse_clock(sc.traffic.peak_end, "")
        self.peak_slots = [s for s in range(S) if p0 <= self.slot_mid_min[s] < p1]
        self.log_weekday_weight = [math.log(sc.remote_days.weekday_weight[d]) for d in WEEKDAYS]
        # adoption: the start shares and the monthly rates once the SME lever applies
        tele = sc.population.teleworkable_share_by_class()
        target = sc.adoption.target_allowed_share
        self.target_firm_share = [target[k] / tele[k] if tele[k] > 0 else 0.0 for k in SIZE_CLASSES]
        self.sme_rates(self.levels["sme_support"])
        # calibrated behaviour
        self.asc = cal.asc.tolist()
        self.h0 = [float(h) for h in cal.h0]
        wb = sc.wellbeing
        self.reason_shares = [(wb.care_share_men, wb.job_to_job_share_others), (wb.care_share_fathers_u3, wb.job_to_job_share_fathers_u3),
                              (wb.care_share_women, wb.job_to_job_share_others), (wb.care_share_mothers_u3, wb.job_to_job_share_mothers_u3)]
        self.high_stress_threshold = float(cal.high_stress_threshold)
        # the network: each OD pair's fixed path (its links in the order of the incidence matrix)
        nz = city.n_zones
        self.n_od = nz * nz
        pl = cal.routes.path_links
        indptr, indices = pl.indptr.tolist(), pl.indices.tolist()
        self.paths = [indices[indptr[od]:indptr[od + 1]] for od in range(self.n_od)]
        self.intrazonal = {z * (nz + 1) for z in range(nz)}
        self.od_t0_min = cal.routes.od_t0_min.tolist()
        self.od_km = cal.routes.od_km.tolist()
        self.link_km = city.link_km.tolist()
        self.link_t0_min = city.link_t0_min.tolist()
        self.link_capacity_vph = [float(c) * float(cal.road_capacity_factor) for c in city.link_capacity_vph]
        prof = [float(p) for p in sc.traffic.background_profile]
        top = max(prof)
        prof = [p / top for p in prof] if top > 0 else prof
        self.background_vph = [[float(b) * p for p in prof] for b in cal.background_peak_vph]
        self.transit_capacity_per_hour = [float(c) for c in cal.transit_capacity_per_hour]  # urban, regional
        # what the workers have learnt so far (copies: the calibration stays untouched)
        self.learnt_car_min = cal.learnt_car_min.tolist()
        self.learnt_crowd = cal.learnt_crowd.tolist()

    # -------------------------------------------------------------- public helpers
    @property
    def workers(self):
        """The :class:`RefWorker` agents (an AgentSet)."""
        return self.agents_by_type[RefWorker]

    @property
    def firms(self):
        """The :class:`RefFirm` agents (an AgentSet)."""
        return self.agents_by_type[RefFirm]

    def date(self, day: int) -> dt.date:
        return self.calendar.date(day)

    def state(self) -> dict[str, list]:
        """The workers' and firms' state as lists indexed by id (for comparisons)."""
        ws = self.worker_list
        return {"mode": [w.mode for w in ws], "slot": [w.slot for w in ws], "remote_days": [w.remote_days for w in ws],
                "remote_mask": [list(w.remote_weekdays) for w in ws], "stress": [w.stress for w in ws],
                "adopted": [f.adopted for f in self.firm_list]}

    def daily(self) -> dict[str, list]:
        """Columns of the daily table."""
        return {k: [r[k] for r in self.rows] for k in self.rows[0]} if self.rows else {}

    # -------------------------------------------------------------- monthly and weekly decisions
    def adoption_step(self, day: int) -> None:
        """Each firm adopts or returns to the office; the imitation pull is its class's adopting share of employment."""
        k = len(SIZE_CLASSES)
        num, den = [0.0] * k, [0.0] * k
        for firm in self.firm_list:
            den[firm.size_class] += firm.employees
            if firm.adopted:
                num[firm.size_class] += firm.employees
        share = [num[c] / den[c] if den[c] > 0 else 0.0 for c in range(k)]
        # the baseline trend of the day's year and the SME lever at its intensity of the day
        sme, year = self.scenario.policy.sme_support, self.calendar.year_index(day)
        level = intensity(sme, self.date(day))
        q = self.scenario.adoption.bass_q_per_year
        updates_year = WORKDAYS_PER_YEAR / self.scenario.adoption.workdays_per_month  # one update a "month"
        self.sme_rates(0.0, year)  # first without the lever: the rates of firms a capped programme does not support
        base = ([1.0 - math.exp(-(self.p_year[c] + q * share[c]) / updates_year) for c in range(k)], list(self.return_prob))
        self.sme_rates(level, year)
        p_adopt = [1.0 - math.exp(-(self.p_year[c] + q * share[c]) / updates_year) for c in range(k)]
        capped = sme.enabled and sme.firms_per_year is not None
        if capped and level > 0 and year not in self.enrol_years:
            # the year's intake: supported-class firms not enrolled nor adopting, lowest draw first, up to the cap
            self.enrol_years.add(year)
            draw = self.keyed.uniform(day, "sme_enrol", len(self.firm_list)).tolist()
            classes = {SIZE_CLASSES.index(c) for c in sme.classes}
            candidates = [f for f in self.firm_list if f.size_class in classes and not f.enrolled and not f.adopted]
            candidates.sort(key=lambda f: draw[f.firm_id])  # stable: equal draws keep id order
            for f in candidates[:sme.firms_per_year]:
                f.enrolled = True
        u = self.keyed.uniform(day, "adoption", len(self.firm_list)).tolist()
        self.firms.do("monthly_decision", p_adopt, u, capped, base)

    def baseline_return_prob(self, year: int) -> list[float]:
        """Return probability per class of the baseline trend: the calibration's in the run's first year, then the
        one that makes the year's targets (target * (1 + trend)^year, at most teleworkable) a steady state."""
        ad = self.scenario.adoption
        if year == 0 or not any(ad.trend_per_year.values()):
            return [float(r) for r in self.calibration.return_prob]
        tele = self.scenario.population.teleworkable_share_by_class()
        updates_year = WORKDAYS_PER_YEAR / ad.workdays_per_month
        out = []
        for k in SIZE_CLASSES:
            a = min(ad.target_allowed_share[k] * (1.0 + ad.trend_per_year[k]) ** year, tele[k]) / tele[k] if tele[k] > 0 else 0.0
            pa = 1.0 - math.exp(-(ad.bass_p_per_year + ad.bass_q_per_year * a) / updates_year)
            out.append(min(max((1.0 - a) * pa / a, 0.0), 1.0) if a > 0 else 1.0)
        return out

    def sme_rates(self, level: float, year: int = 0) -> None:
        """Innovation coefficient and return probability per class in year ``year`` of the run with the SME
        lever at intensity ``level``: its multipliers move linearly from 1 to their full value."""
        sc = self.scenario
        self.p_year = [sc.adoption.bass_p_per_year] * len(SIZE_CLASSES)
        self.return_prob = self.baseline_return_prob(year)
        sme = sc.policy.sme_support
        if sme.enabled and level > 0:
            for cls in sme.classes:
                k = SIZE_CLASSES.index(cls)
                self.p_year[k] *= scaled(sme.innovation_multiplier, 1.0, level)
                self.return_prob[k] *= scaled(sme.return_hazard_factor, 1.0, level)

    def levers_in_time(self, day: int) -> None:
        """Each timed lever's intensity this week; the workers' schedules and welfare follow when one moved."""
        levels = {name: intensity(getattr(self.scenario.policy, name), self.date(day)) for name in LEVER_BLOCKS}
        if levels != self.levels:
            self.levels = levels
            self.workers.do("set_levers", levels)
        pol, lv = self.scenario.policy.remote_days, self.levels["remote_days"]
        self.floor_cap = ((pol.floor, pol.cap) if lv >= 1.0
                          else (int(pol.floor * lv + 0.5), 5 - int((5 - pol.cap) * lv + 0.5)))

    def plan_week(self, day: int) -> None:
        """Mondays: who may work remotely, colleagues' means, each worker's remote days and weekdays,
        then a share of workers (everyone on a cold start) reconsider their mode and departure slot."""
        n = len(self.worker_list)
        k = self.keyed
        self.workers.do("update_allowed")
        self.firms.do("update_peer_mean")  # last week's days, before anyone plans this week
        self.workers.do("plan_remote_days", k.normal(day, "remote_pref", n).tolist(),
                        k.gumbel(day, "remote_weekday", (n, 5)).tolist())
        review = (k.uniform(day, "review", n) < self.scenario.mode.weekly_review_share).tolist()
        hold = self.hold_choices
        if day == 0 and not self.started_warm:
            review, hold = [True] * n, None
        self.workers.do("review_travel", review, k.uniform(day, "mode", n).tolist(), k.uniform(day, "slot", n).tolist(),
                        hold)
        self._allowed_this_week = [w.allowed for w in self.worker_list]

    # -------------------------------------------------------------- the network (aggregate by nature)
    def load_network(self) -> None:
        """Car trips by (OD, slot) on the fixed paths, BPR link times, OD times; transit load and crowding."""
        sc, S = self.scenario, self.n_slots
        occ = sc.mode.car_occupancy
        # count the trips, worker by worker (in id order)
        veh: dict[tuple[int, int], float] = {}
        riders = [[0.0] * S for _ in self.transit_capacity_per_hour]  # by network and slot
        present = self.calendar.present(self.day)  # the August slowdown: those on leave do not travel
        for w in self.worker_list:
            if w.by_car:
                key = (w.od, w.slot)
                veh[key] = veh.get(key, 0.0) + w.weight / occ * present
            elif w.by_transit:
                riders[w.network][w.slot] += w.weight * present
        self.veh = veh
        # load each loaded OD pair's vehicles on the links of its path (OD pairs in increasing order)
        by_od: dict[int, list[float]] = {}
        for (od, s), v in veh.items():
            by_od.setdefault(od, [0.0] * S)[s] = v
        flow = [[0.0] * S for _ in self.link_km]
        for od in sorted(by_od):
            trips = by_od[od]
            for link in self.paths[od]:
                flow[link] = [f + t for f, t in zip(flow[link], trips)]
        tr = sc.traffic
        self.link_vph = [[f / self.slot_hours + b for f, b in zip(flow[l], self.background_vph[l])] for l in range(len(flow))]
        self.link_min = [[self.link_t0_min[l] * (1.0 + tr.bpr_alpha * (v / self.link_capacity_vph[l]) ** tr.bpr_beta)
                          for v in self.link_vph[l]] for l in range(len(flow))]
        # car CO2 of one vehicle along each link at today's speed
        e = sc.emissions
        self.link_car_g = [[self.link_km[l] * _car_g_per_km(self.link_km[l] / (t / 60.0), e) for t in self.link_min[l]]
                           for l in range(len(flow))]
        self._od_g: dict[tuple[int, int], float] = {}
        # and its NOx, PM2.5 exhaust and PM2.5 wear
        self.link_air_g = [[[self.link_km[l] * g for g in _air_g_per_km(self.link_km[l] / (t / 60.0), e)]
                            for t in self.link_min[l]] for l in range(len(flow))]
        self._od_air_g: dict[tuple[int, int], list[float]] = {}
        # car time of every OD pair: the sum along its path (inside a zone: the zone's own time)
        od_min = []
        for od in range(self.n_od):
            if od in self.intrazonal:
                od_min.append([self.od_t0_min[od]] * S)
                continue
            t = [0.0] * S
            for link in self.paths[od]:
                t = [a + b for a, b in zip(t, self.link_min[link])]
            od_min.append(t)
        self.od_min = od_min
        # transit: riders per hour against capacity, crowding multiplier above the threshold
        self.transit_load = [[r / self.slot_hours / (cap * sc.policy.transit_capacity_factor) for r in net_riders]
                             for net_riders, cap in zip(riders, self.transit_capacity_per_hour)]
        self.crowd = [[1.0 + sc.mode.crowding_beta * max(0.0, x - sc.mode.crowding_threshold) for x in net_load]
                      for net_load in self.transit_load]

    def od_car_g(self, od: int, slot: int) -> float:
        """CO2 (g) of one car on the path of ``od`` leaving in ``slot`` (inside a zone: local speed)."""
        key = (od, slot)
        if key not in self._od_g:
            if od in self.intrazonal:
                g = self.od_km[od] * _car_g_per_km(self.scenario.city.local_speed_kmh, self.scenario.emissions)
            else:
                g = 0.0
                for link in self.paths[od]:
                    g += self.link_car_g[link][slot]
            self._od_g[key] = g
        return self._od_g[key]

    def od_air_g(self, od: int, slot: int) -> list[float]:
        """NOx, PM2.5 exhaust and PM2.5 wear (g) of one car on the path of ``od`` leaving in ``slot``."""
        key = (od, slot)
        if key not in self._od_air_g:
            if od in self.intrazonal:
                g = [self.od_km[od] * x for x in _air_g_per_km(self.scenario.city.local_speed_kmh, self.scenario.emissions)]
            else:
                g = [0.0, 0.0, 0.0]
                for link in self.paths[od]:
                    g = [a + b for a, b in zip(g, self.link_air_g[link][slot])]
            self._od_air_g[key] = g
        return self._od_air_g[key]

    # -------------------------------------------------------------- one day
    def step(self) -> None:
        day, sc = self.day, self.scenario
        if day > 0 and day % sc.adoption.workdays_per_month == 0:
            self.adoption_step(day)
        n = len(self.worker_list)
        if any(not w.employed and w.vacant_until == day for w in self.worker_list):
            hires = {"gender": self.keyed.uniform(day, "hire_gender", n).tolist(),
                     "child": self.keyed.uniform(day, "hire_child", n).tolist(),
                     "dependant": self.keyed.uniform(day, "hire_dependant", n).tolist(),
                     "base_stress": self.keyed.normal_at(day, "hire_base_stress", range(n)).tolist()}
            self.workers.do("hire_if_due", hires)
        weekday = self.calendar.weekday(day)
        if self.calendar.week_start(day):
            self.levers_in_time(day)
            self.plan_week(day)
        self.workers.do("set_out", weekday)
        self.load_network()
        date = self.date(day)
        heating = _heating_season(date, sc.emissions)
        self.heating_today = heating
        self.draws_quit = self.keyed.uniform(day, "quit", n).tolist()
        self.draws_reason = self.keyed.uniform(day, "quit_reason", n).tolist()
        cold = day == 0 and not self.started_warm
        self.workers.do("live_day", cold)
        self.record_day(day, date, heating)
        self.workers.do("leave_if_quit")
        # day-to-day learning of car times and transit crowding
        lr = sc.mode.learning_rate
        self.learnt_car_min = [[x + lr * (o - x) for x, o in zip(row, od_row)]
                               for row, od_row in zip(self.learnt_car_min, self.od_min)]
        self.learnt_crowd = [[x + lr * (c - x) for x, c in zip(row, crowd)] for row, crowd in zip(self.learnt_crowd, self.crowd)]
        self.day += 1

    def record_day(self, day: int, date: dt.date, heating: bool) -> None:
        """The daily series (weighted totals: full-population equivalents), as in :mod:`sim.metrics`."""
        sc = self.scenario
        occ = sc.mode.car_occupancy
        thr = self.high_stress_threshold
        j2j = [x[1] for x in self.reason_shares]
        eq, emp = [0.0] * 4, [0.0] * 4
        parts = [0.0] * 6
        q_mothers = exits_women = 0.0
        W = remote = office = 0.0
        trips = [0.0] * len(MODES)
        car_vkm = car_h = delay = commute = co2_c = co2_h = co2_x = stress = high = q_women = q_men = 0.0
        area_c = pass_urban = pass_regional = 0.0  # cars arriving in Area C; holders of an employer-paid pass
        air = [0.0, 0.0, 0.0]  # grams of NOx, PM2.5 exhaust, PM2.5 wear
        ncls = len(SIZE_CLASSES)
        allowed_num, cls_w = [0.0] * ncls, [0.0] * ncls
        present = self.calendar.present(day)  # the share not on leave commutes or works at home
        for w, allowed in zip(self.worker_list, self._allowed_this_week):
            x = w.weight
            cls_w[w.size_class] += x
            if allowed:
                allowed_num[w.size_class] += x
            if w.quit_today:  # a quitter held the position today
                if w.woman:
                    q_women += x
                    if w.quit_reason != 1:
                        exits_women += x
                    if w.child_group == 1:
                        q_mothers += x
                else:
                    q_men += x
            if not w.employed:
                continue  # a vacant position counts in no figure (today's quitters still held theirs)
            eq[w.cell] += x * w.quit_p
            emp[w.cell] += x
            for k in range(6):
                parts[k] += x * w.strain_parts[k]
            W += x
            if w.remote_today:
                remote += x
            else:
                office += x * present
                trips[w.mode] += x * present
            if w.by_car:
                car_vkm += x * present * (2 * w.dist_km)
                car_h += x * (w.round_trip_min * present)
                if w.work_core:
                    area_c += x * present
            if w.transit_pass and w.mode == TRANSIT:  # holds the pass whether at the office or at home today
                if w.segment == 0:
                    pass_urban += x
                else:
                    pass_regional += x
            delay += x * (w.round_delay_min * present)
            commute += x * (w.round_trip_min * present)
            co2_c += x * (w.commute_kg * present)
            co2_h += x * (w.home_kg * present)
            co2_x += x * (w.extra_kg * present)
            air = [a + x * (g * present) for a, g in zip(air, w.air_g)]
            stress += x * w.stress
            if w.stress > thr:
                high += x
        peak = self.peak_slots
        vc_peak = [max(self.link_vph[l][s] / self.link_capacity_vph[l] for s in peak) if peak else 0.0
                   for l in range(len(self.link_vph))]
        base = extra = 0.0
        for (od, s) in sorted(self.veh):
            if s in peak:
                v = self.veh[(od, s)]
                base += v * self.od_t0_min[od]
                extra += v * (self.od_min[od][s] - self.od_t0_min[od])
        row = {
            "day": day, "date": date.isoformat(), "year": self.calendar.year_index(day),
            "weekday": WEEKDAYS[self.calendar.weekday(day)], "heating_season": bool(heating), "present_share": present,
            "remote_share": remote / W,
            "office_workers": office,
            **{f"trips_{k}": trips[i] for i, k in enumerate(MODES)},
            "car_vkm": car_vkm / occ, "car_vehicle_hours": car_h / 60.0 / occ, "car_trips_area_c": area_c / occ,
            "transit_pass_urban": pass_urban, "transit_pass_regional": pass_regional,
            "delay_hours": delay / 60.0,
            "commute_hours": commute / 60.0,
            "peak_vc_max": max(vc_peak) if vc_peak else 0.0,
            "peak_extra_time": extra / base if base > 0 else 0.0,
            "transit_peak_load": max(max(net_load) for net_load in self.transit_load),
            **{f"transit_peak_load_{k}": max(net_load) for k, net_load in zip(TRANSIT_NETWORKS, self.transit_load)},
            "co2_commute_t": co2_c / 1000.0,
            "co2_home_energy_t": co2_h / 1000.0,
            "co2_extra_trips_t": co2_x / 1000.0,
            **{f"{p}_t": g / 1e6 for p, g in zip(AIR, air)},
            "mean_stress": stress / W,
            "high_stress_share": high / W,
            **{f"strain_{c}": parts[k] / W for k, c in enumerate(("base", "commute", "delay", "crowding", "conflict", "isolation"))},
            "women_employed": emp[2] + emp[3],
            "men_employed": emp[0] + emp[1],
            "mothers_u3_employed": emp[3],
            "quits_women": q_women,
            "quits_men": q_men,
            "quits_mothers_u3": q_mothers,
            "exits_women": exits_women,
            "expected_quits_women": eq[2] + eq[3],
            "expected_quits_men": eq[0] + eq[1],
            "expected_quits_mothers_u3": eq[3],
            "expected_exits_women": eq[2] * (1.0 - j2j[2]) + eq[3] * (1.0 - j2j[3]),
        }
        row["co2_home_t"] = row["co2_home_energy_t"] + row["co2_extra_trips_t"]
        row["co2_net_t"] = row["co2_commute_t"] + row["co2_home_t"]
        for i, k in enumerate(SIZE_CLASSES):
            row[f"allowed_{k}"] = allowed_num[i] / cls_w[i] if cls_w[i] > 0 else 0.0
        self.rows.append(row)

    def run(self, days: int | None = None) -> None:
        """Run ``days`` workdays (default: the scenario's)."""
        for _ in range(self.scenario.days if days is None else days):
            self.step()


def run_reference(scenario: Scenario, calibration: "Calibration", days: int | None = None, *, city: City | None = None,
                  population: Population | None = None, hold_choices: str | None = None):
    """Build a :class:`ReferenceModel` and run it; for benchmarks.

    Returns:
        ``(model, seconds)``: seconds of the run alone (building the agents takes ``model.setup_seconds``).
    """
    city = city if city is not None else build_city(scenario.city)
    if population is None:
        population = build_population(scenario.population, city, scenario.scale, KeyedRNG(scenario.seed))
    t0 = time.perf_counter()
    model = ReferenceModel(scenario, calibration, city=city, population=population, hold_choices=hold_choices)
    t1 = time.perf_counter()
    model.setup_seconds = t1 - t0
    model.run(days)
    return model, time.perf_counter() - t1


__all__ = ["ReferenceModel", "RefWorker", "RefFirm", "run_reference"]
