"""Calibration of the baseline, done in code at the start of a run.

With the scenario's coefficients and the *baseline* policy (the levers at their defaults), so that a
policy never calibrates its own effect away:

1. return-to-office probabilities that make the Osservatorio adoption shares a steady state
   (:func:`sim.adoption.steady_state_return_probability`);
2. alternative constants of the mode logit, iterated ActivitySim-style (``asc += log(target/share)``)
   until every segment's expected split is within 0.05 points of its target, alternating with
3. an expected traffic assignment (slot probabilities x car probabilities on the fixed paths): the
   background traffic on each link is set from the commuters' peak flow on it and the commuters'
   share of peak traffic for its kind (``traffic.commuter_share_of_peak_traffic``), then the road
   capacity factor is found by bisection so the morning-peak extra time hits TomTom's figure; each
   transit network's places per hour are set so its busiest slot carries
   ``traffic.transit_peak_load_target`` riders per place;
4. a warm-up: the baseline simulated for ``calibration.warm_up_weeks`` weeks, re-aiming the background, the
   capacity factor and the transit places on the realized (sampled) flows and refining the constants
   after every week; its end state (learnt times, modes, slots, stress) is the state workers start
   the year in;
5. the base quit hazard per cell (gender x parent of a child aged 0-2) so the expected quits per
   1,000 match the targets: INL 2022 validated resignations of employee parents of children under 3
   (women 44,669, men 16,722, over the employee parents of children 0-2: see
   ``wellbeing.target_quits_mothers_u3_per_1000``) and the other workers' rate; measured on the
   warm-up's last week as the weighted mean of ``exp(quit_stress_coef * stress)`` in each cell;
6. the high-stress threshold: the stress above which ``wellbeing.target_high_stress_share`` of the
   workers lie at the end of the warm-up (EWCS: 22% report work-related stress).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from sim.behaviour import adoption, mode_choice, traffic, wellbeing
from sim.behaviour.mode_choice import CAR, TRANSIT
from sim.behaviour.traffic import peak_extra_time
from sim.model import CommuteModel
from sim.scenario.schema import (LINK_KINDS, MODES, SEGMENTS, SIZE_CLASSES, TRANSIT_NETWORKS, PolicyConfig, Scenario,
                                 TrafficConfig)
from sim.world.city import City, Routes
from sim.world.population import Population

log = logging.getLogger(__name__)


@dataclass
class Calibration:
    """What the baseline calibration fixes, shared by a scenario and its counterfactual.

    ``routes``: the fixed car paths (shortest at the baseline's peak times); ``asc``: alternative
    constants (segment x mode); ``background_peak_vph``: non-commute traffic at its peak on each link
    (veh/h); ``road_capacity_factor``: multiplier of the city's link capacities;
    ``transit_capacity_per_hour``: places per hour left for commuters on each transit network; ``h0``: base daily quit hazard [men, women]; ``return_prob``: return-to-office
    probability per adoption update and size class; ``learnt_car_min`` (every OD pair x slot),
    ``learnt_crowd`` and the ``initial_*`` arrays: the state the workers start the year in (the end
    of the baseline warm-up; ``initial_mode`` None means a cold start that chooses on day 0);
    ``h0`` is per quit-hazard cell (:data:`sim.behaviour.wellbeing.CELLS`: man, father of a child 0-2,
    woman, mother of a child 0-2); ``high_stress_threshold``: stress points above which a worker counts
    as highly stressed.
    """

    routes: Routes
    asc: np.ndarray
    background_peak_vph: np.ndarray
    road_capacity_factor: float
    transit_capacity_per_hour: np.ndarray
    h0: np.ndarray
    return_prob: np.ndarray
    learnt_car_min: np.ndarray
    learnt_crowd: np.ndarray
    initial_mode: np.ndarray | None = None
    initial_slot: np.ndarray | None = None
    initial_stress: np.ndarray | None = None
    high_stress_threshold: float = 7.0
    report: dict = field(default_factory=dict)


def baseline_policy(scenario: Scenario) -> Scenario:
    """The scenario with every lever at its default (the policy the calibration sees)."""
    return scenario.model_copy(update={"policy": PolicyConfig()})


def _roads(model: CommuteModel, veh: np.ndarray) -> traffic.Roads:
    """The roads with commuter cars ``veh`` (active OD x slot) and the model's background and capacities."""
    return traffic.load_roads(paths=model.paths, od_slot_vehicles=veh, slot_hours=model.slots.hours,
                              background_vph=model.background_vph, link_t0_min=model.city.link_t0_min,
                              link_capacity_vph=model.link_capacity_vph, cfg=model.scenario.traffic)


CAPACITY_RANGE = (0.01, float(TrafficConfig.model_fields["road_capacity_factor"].metadata[-1].le))  # the schema's bounds


def commuter_share_by_link(scenario: Scenario, city: City) -> np.ndarray:
    """The commuters' share of peak traffic on each link, from its kind."""
    shares = scenario.traffic.commuter_share_of_peak_traffic
    return np.array([shares[k] for k in LINK_KINDS])[city.link_kind]


def _background_for(model: CommuteModel, vehs: list[np.ndarray]) -> np.ndarray:
    """Peak background per link from the commuters' mean peak flows over the days ``vehs``."""
    peak, hours = model.slots.peak, model.slots.hours
    commuters = np.mean([traffic.commuter_peak_vph(model.paths.Pt, v, peak, hours) for v in vehs], axis=0)
    # the background's mean over the peak slots, not its top, stands beside the commuters' peak mean
    shape = traffic.background_vph(np.ones(1), np.asarray(model.scenario.traffic.background_profile))[0, peak].mean()
    return traffic.background_peak_vph(commuter_peak_vph=commuters,
                                       commuter_share=commuter_share_by_link(model.scenario, model.city)) / shape


def _capacity_for_target(model: CommuteModel, vehs: list[np.ndarray], background_peak_vph: np.ndarray, target: float,
                         lo: float = CAPACITY_RANGE[0], hi: float = CAPACITY_RANGE[1], steps: int = 40) -> float:
    """Bisection (on the log) of the road capacity factor so the mean peak extra time over the days ``vehs`` equals ``target``.

    The peak extra time falls as capacity grows, so bisection converges; a target out of reach within
    the schema's bounds gives the bound.
    """
    sc, city, paths, peak = model.scenario, model.city, model.paths, model.slots.peak
    # only the peak slots matter here: each slot's link and OD times depend on that slot's cars alone
    # (the sparse products add each column in the same order), so this equals the full assignment's figure
    vehs_peak = [np.ascontiguousarray(v[:, peak]) for v in vehs]
    background = traffic.background_vph(background_peak_vph, np.asarray(sc.traffic.background_profile))[:, peak]
    all_peak = np.arange(len(peak))

    def pet(factor: float) -> float:
        values = []
        for v in vehs_peak:
            roads = traffic.load_roads(paths=paths, od_slot_vehicles=v, slot_hours=model.slots.hours,
                                       background_vph=background, link_t0_min=city.link_t0_min,
                                       link_capacity_vph=city.link_capacity_vph * factor, cfg=sc.traffic)
            values.append(peak_extra_time(v, roads.od_min, paths.t0_min, all_peak))
        return float(np.mean(values))

    lo, hi = max(lo, CAPACITY_RANGE[0]), min(hi, CAPACITY_RANGE[1])
    if pet(hi) >= target:
        return hi
    if pet(lo) <= target:
        return lo
    for _ in range(steps):
        mid = float(np.sqrt(lo * hi))
        if pet(mid) > target:
            lo = mid
        else:
            hi = mid
    return float(np.sqrt(lo * hi))


def _aim(model: CommuteModel, vehs: list[np.ndarray], riders: list[np.ndarray], *, bracket: tuple[float, float] = CAPACITY_RANGE,
         steps: int = 40) -> None:
    """Re-aim the background, the road capacity factor and the transit places on the days' commuter cars
    ``vehs`` and transit riders ``riders`` (network x slot), and give them to the model."""
    cal, t_cfg = model.calibration, model.scenario.traffic
    cal.background_peak_vph = _background_for(model, vehs)
    if t_cfg.calibrate_road_capacity:
        cal.road_capacity_factor = _capacity_for_target(model, vehs, cal.background_peak_vph, t_cfg.target_peak_extra_time,
                                                        lo=bracket[0], hi=bracket[1], steps=steps)
    if t_cfg.calibrate_transit_capacity:
        target = np.array([t_cfg.transit_peak_load_target[k] for k in TRANSIT_NETWORKS])
        cal.transit_capacity_per_hour = traffic.capacity_for_peak_load(riders_per_slot=np.mean(riders, axis=0),
                                                                       slot_hours=model.slots.hours, target_load=target)
    model.set_roads(background_peak_vph=cal.background_peak_vph, road_capacity_factor=cal.road_capacity_factor,
                    transit_capacity_per_hour=cal.transit_capacity_per_hour)


def calibrate(scenario: Scenario, city: City, population: Population) -> Calibration:
    """Calibrate routes, constants, background traffic, starting times and quit hazards (see module doc)."""
    base = baseline_policy(scenario)
    m_cfg, t_cfg = base.mode, base.traffic
    S = m_cfg.n_slots
    ff = city.free_flow_routes
    init = Calibration(
        routes=ff, asc=np.zeros((len(SEGMENTS), len(MODES))), background_peak_vph=np.zeros(city.n_links),
        road_capacity_factor=t_cfg.road_capacity_factor,
        transit_capacity_per_hour=np.array([t_cfg.transit_capacity_per_hour[k] for k in TRANSIT_NETWORKS]), h0=np.zeros(4),
        return_prob=adoption.steady_state_return_probability(base),
        learnt_car_min=np.repeat(ff.od_t0_min[:, None] * (1 + t_cfg.target_peak_extra_time), S, axis=1),
        learnt_crowd=np.ones((len(TRANSIT_NETWORKS), S)))
    m = CommuteModel(base, init, city=city, population=population)
    pop = population
    m.plan_week(0)
    office_frac = 1.0 - m.remote_days / 5.0
    cc = base.calibration  # numerical settings
    step = max(1, int(np.ceil(pop.n_workers / cc.sample_workers)))
    idx = np.arange(0, pop.n_workers, step)
    w = pop.weight[idx] * office_frac[idx] * step
    seg = m.segment[idx]
    targets = np.array([[m_cfg.segment_targets[s][k] for k in MODES] for s in SEGMENTS])
    present = np.bincount(seg, weights=w, minlength=len(SEGMENTS)) > 0
    rows = (m.od_local[idx][:, None] * S + np.arange(S)[None, :]).ravel()
    n_od = len(m.active_od)
    err, iterations, pet, link_cost = np.inf, 0, 0.0, None
    for outer in range(cc.rounds):
        if m_cfg.calibrate_constants:
            for _ in range(m_cfg.calibration_iterations):
                shares = mode_choice.segment_shares(m.mode_probabilities(idx), seg, w)
                err = float(np.abs(shares - targets)[present].max())
                iterations += 1
                if err < cc.split_tolerance:
                    break
                m.calibration.asc = mode_choice.update_constants(m.calibration.asc, shares, targets, present)
        prob = m.mode_probabilities(idx)
        p_car_slot = m.slot_probabilities(np.full(len(idx), CAR, np.int8), idx)
        veh = np.bincount(rows, weights=((w * prob[:, CAR] / m_cfg.car_occupancy)[:, None] * p_car_slot).ravel(),
                          minlength=n_od * S).reshape(n_od, S)
        p_tr_slot = m.slot_probabilities(np.full(len(idx), TRANSIT, np.int8), idx)
        riders_by_slot = (w * prob[:, TRANSIT])[:, None] * p_tr_slot
        network = m.options.transit_network[idx]
        riders = np.stack([riders_by_slot[network == k].sum(axis=0) for k in range(len(TRANSIT_NETWORKS))])
        _aim(m, [veh], [riders])
        load = traffic.transit_load(riders_per_slot=riders, slot_hours=m.slots.hours,
                                    capacity_per_hour=m.transit_capacity_per_hour, capacity_factor=1.0)
        if outer < cc.reroute_rounds:
            # fixed routes: shortest at the peak link times, averaged over rounds (method of successive averages)
            peak_cost = _roads(m, veh).link_min[:, m.slots.peak].mean(axis=1)
            link_cost = peak_cost if link_cost is None else link_cost + (peak_cost - link_cost) / (outer + 1)
            noise = 1.0 + t_cfg.route_spread * m.keyed.uniform(-1, "route_noise", (city.n_zones, city.n_links))
            m.calibration.routes = routes = city.routes(link_cost, noise)
            m.use_routes(routes)
            m.slot = m.preferred_slot.copy()
            m.expected.car_min = _roads(m, veh * 0).od_min  # rebuilt below
            continue
        od_min = _roads(m, veh).od_min
        pet = peak_extra_time(veh, od_min, m.paths.t0_min, m.slots.peak)
        change = float(np.abs(od_min - m.expected.car_min).max())
        # damped update of the times workers expect, so constants and congestion settle together
        m.expected.car_min = m.expected.car_min + cc.time_damping * (od_min - m.expected.car_min)
        m.expected.crowd = traffic.transit_crowding(load, m_cfg.crowding_beta, m_cfg.crowding_threshold)
        log.debug("calibration round %d: split error %.4f, peak extra time %.3f, max time change %.2f min",
                  outer, err, pet, change)
        if change < cc.converged_minutes and err < cc.converged_split:
            break
    final_shares, h0, warm_pet, threshold, final_vehs = _warm_up(m, targets, present, idx, seg, w)
    report = {
        "segment_targets": {s: dict(zip(MODES, targets[i].round(4).tolist())) for i, s in enumerate(SEGMENTS)},
        "segment_warm_up": {s: dict(zip(MODES, final_shares[i].round(4).tolist())) for i, s in enumerate(SEGMENTS)},
        "asc": {s: dict(zip(MODES, m.calibration.asc[i].round(4).tolist())) for i, s in enumerate(SEGMENTS)},
        "constant_iterations": iterations,
        "calibration_rounds": outer + 1,
        **_roads_report(m, final_vehs),
        "expected_peak_extra_time": round(pet, 4),
        "warm_up_weeks": cc.warm_up_weeks,
        "warm_up_peak_extra_time": round(warm_pet, 4),
        "return_to_office_monthly": dict(zip(SIZE_CLASSES, init.return_prob.round(5).tolist())),
        "quit_h0_daily": dict(zip(wellbeing.CELLS, h0.tolist())),
        "high_stress_threshold": round(threshold, 4),
    }
    # the model learns times on the OD pairs somebody uses; the calibration hands on every pair
    learnt_full = np.repeat(m.routes.od_t0_min[:, None], S, axis=1)
    learnt_full[m.active_od] = m.expected.car_min
    cal = m.calibration
    return Calibration(routes=m.routes, asc=cal.asc, background_peak_vph=cal.background_peak_vph,
                       road_capacity_factor=cal.road_capacity_factor, transit_capacity_per_hour=cal.transit_capacity_per_hour, h0=h0,
                       return_prob=init.return_prob, learnt_car_min=learnt_full, learnt_crowd=m.expected.crowd,
                       initial_mode=m.mode.copy(), initial_slot=m.slot.copy(), initial_stress=m.stress.copy(),
                       high_stress_threshold=threshold, report=report)




def _roads_report(m: CommuteModel, vehs: list[np.ndarray]) -> dict:
    """What the calibration fixed on the roads and trains, and the commuters' share of peak vehicle-km by link kind."""
    cal, city, peak = m.calibration, m.city, m.slots.peak
    commuters = np.mean([traffic.commuter_peak_vph(m.paths.Pt, v, peak, m.slots.hours) for v in vehs], axis=0) * city.link_km
    background = traffic.background_vph(cal.background_peak_vph, np.asarray(m.scenario.traffic.background_profile))
    background = background[:, peak].mean(axis=1) * city.link_km
    share = {}
    for k, kind in enumerate(LINK_KINDS):
        on = city.link_kind == k
        total = commuters[on].sum() + background[on].sum()
        if total > 0:
            share[kind] = round(float(commuters[on].sum() / total), 4)
    return {"road_capacity_factor": round(float(cal.road_capacity_factor), 5),
            "commuter_share_of_peak_vkm": share,
            "transit_capacity_per_hour": dict(zip(TRANSIT_NETWORKS, np.round(cal.transit_capacity_per_hour, 1).tolist()))}


def _warm_up(m: CommuteModel, targets: np.ndarray, present: np.ndarray, idx: np.ndarray, seg: np.ndarray, w_idx: np.ndarray):
    """Run the baseline a few weeks: re-aim the background and the constants, measure the quit hazard.

    After every week, the last one included (so the run starts from a background aimed at the
    latest realized flows), the background traffic is re-aimed by bisection on that week's realized
    flows and the constants are steered by the shares workers would choose now. Each re-aim lags
    the workers' response to it (habits change a quarter of the workers a week), so the warm-up
    needs enough weeks to settle: with 8 weeks (and no re-aim after the last), a 10% sample (seed
    42) started the year 1.3 points below the 30% peak-congestion target and averaged 27.2% over
    the year; with 12 weeks it averages 30.2% (benchmarks/sampling.py has the figures by scale).

    Returns the last week's realized segment shares, h0 per cell (4,), the last week's mean peak
    extra time (before its re-aim), the high-stress threshold and the last week's commuter cars by day.
    """
    sc, pop = m.scenario, m.population
    wb, w = sc.wellbeing, pop.weight
    m.calibration.h0 = np.zeros(4)  # nobody quits while calibrating
    shares = np.zeros_like(targets)
    weeks = sc.calibration.warm_up_weeks
    for week in range(weeks):
        trips = np.zeros(targets.size)
        mult_sum, pet, vehs, riders = np.zeros(4), [], [], []
        for _ in range(5):
            weekday = m.calendar.weekday(m.day)
            m.step()
            vehs.append(m.car_vehicles_od_slot)
            riders.append(m.transit_riders_network_slot)
            office = ~m.remote_t[weekday]
            trips += np.bincount(m.segment[office].astype(np.int64) * len(MODES) + m.mode[office],
                                 weights=w[office], minlength=targets.size)
            if week == weeks - 1:  # the quit hazard is measured on the last week
                cell = wellbeing.hazard_cell(m.woman, m.child_group)
                mult = np.exp(wb.quit_stress_coef * m.stress)
                tot = np.bincount(cell, weights=w, minlength=4)
                mult_sum += np.divide(np.bincount(cell, weights=w * mult, minlength=4), tot, out=np.zeros(4), where=tot > 0)
            pet.append(m.metrics.rows[-1]["peak_extra_time"])
        trips = trips.reshape(targets.shape)
        tot = trips.sum(axis=1, keepdims=True)
        shares = np.divide(trips, tot, out=np.zeros_like(trips), where=tot > 0)
        # realized (sampled) flows are lumpier than expected ones: re-aim background, capacity and places on them
        factor = m.calibration.road_capacity_factor
        _aim(m, vehs, riders, bracket=(factor / 2, factor * 2), steps=16)
        if sc.mode.calibrate_constants:
            # steer what workers would choose now (habits follow), not the habit-lagged trips
            now = mode_choice.segment_shares(m.mode_probabilities(idx), seg, w_idx)
            m.calibration.asc = mode_choice.update_constants(m.calibration.asc, now, targets, present)
            log.debug("warm-up week %d: car share now %s, realized %s", week, now[:, 0].round(3), shares[:, 0].round(3))
        log.debug("warm-up week %d: peak extra time %.4f, road capacity factor now %.5f", week, np.mean(pet),
                  m.calibration.road_capacity_factor)
    h0 = wellbeing.base_hazard(mult_sum / 5.0, wb)
    threshold = wellbeing.high_stress_threshold(m.stress, w, wb.target_high_stress_share)
    return shares, h0, float(np.mean(pet)), threshold, vehs
