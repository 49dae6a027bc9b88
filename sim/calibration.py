"""Calibration of the baseline, done in code at the start of a run.

With the scenario's coefficients and the *baseline* policy (the levers at their defaults), so that a
policy never calibrates its own effect away:

1. return-to-office probabilities that make the Osservatorio adoption shares a steady state
   (:func:`sim.adoption.steady_state_return_probability`);
2. alternative constants of the mode logit, iterated ActivitySim-style (``asc += log(target/share)``)
   until every segment's expected split is within 0.05 points of its target, alternating with
3. an expected traffic assignment (slot probabilities x car probabilities on the fixed paths) whose
   background traffic is scaled by bisection so the morning-peak extra time hits TomTom's figure;
4. a warm-up: the baseline simulated for ``calibration.warm_up_weeks`` weeks, re-aiming the background on the
   realized (sampled) flows and refining the constants after every week; its end state (learnt
   times, modes, slots, stress) is the state workers start the year in;
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
from sim.scenario.schema import MODES, SEGMENTS, SIZE_CLASSES, PolicyConfig, Scenario, TrafficConfig
from sim.world.city import City, Routes
from sim.world.population import Population

log = logging.getLogger(__name__)


@dataclass
class Calibration:
    """What the baseline calibration fixes, shared by a scenario and its counterfactual.

    ``routes``: the fixed car paths (shortest at the baseline's peak times); ``asc``: alternative
    constants (segment x mode); ``background_vc``: non-commute traffic at its peak as a share of
    capacity; ``h0``: base daily quit hazard [men, women]; ``return_prob``: return-to-office
    probability per adoption update and size class; ``learnt_car_min`` (every OD pair x slot),
    ``learnt_crowd`` and the ``initial_*`` arrays: the state the workers start the year in (the end
    of the baseline warm-up; ``initial_mode`` None means a cold start that chooses on day 0);
    ``h0`` is per quit-hazard cell (:data:`sim.behaviour.wellbeing.CELLS`: man, father of a child 0-2,
    woman, mother of a child 0-2); ``high_stress_threshold``: stress points above which a worker counts
    as highly stressed.
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
    high_stress_threshold: float = 7.0
    report: dict = field(default_factory=dict)


def baseline_policy(scenario: Scenario) -> Scenario:
    """The scenario with every lever at its default (the policy the calibration sees)."""
    return scenario.model_copy(update={"policy": PolicyConfig()})


def _roads(model: CommuteModel, veh: np.ndarray, background_vc: float) -> traffic.Roads:
    """The roads with commuter cars ``veh`` (active OD x slot) and the background at ``background_vc``."""
    sc, city = model.scenario, model.city
    bg = traffic.background_vph(city.link_capacity_vph, background_vc, np.asarray(sc.traffic.background_profile))
    return traffic.load_roads(paths=model.paths, od_slot_vehicles=veh, slot_hours=model.slots.hours, background_vph=bg,
                              link_t0_min=city.link_t0_min, link_capacity_vph=city.link_capacity_vph, cfg=sc.traffic)


def _assign(model: CommuteModel, veh: np.ndarray, background_vc: float) -> np.ndarray:
    return _roads(model, veh, background_vc).od_min


BACKGROUND_MAX = float(TrafficConfig.model_fields["background_vc"].metadata[-1].le)  # the largest the schema accepts


def _background_for_target(model: CommuteModel, vehs: list[np.ndarray], target: float, hi: float = BACKGROUND_MAX, steps: int = 40) -> float:
    """Bisection on background_vc so the mean peak extra time over the days ``vehs`` equals ``target``.

    The peak extra time grows with the background, so bisection on [0, hi] converges; if the target
    lies above ``hi``, the bracket is first moved up (doubling, up to the schema's largest
    background, 3).
    """
    sc, city, paths, peak = model.scenario, model.city, model.paths, model.slots.peak
    # only the peak slots matter here: each slot's link and OD times depend on that slot's cars alone
    # (the sparse products add each column in the same order), so this equals the full assignment's figure
    vehs_peak = [np.ascontiguousarray(v[:, peak]) for v in vehs]
    profile = np.asarray(sc.traffic.background_profile)
    all_peak = np.arange(len(peak))

    def pet(bg: float) -> float:
        background = traffic.background_vph(city.link_capacity_vph, bg, profile)[:, peak]
        values = []
        for v in vehs_peak:
            roads = traffic.load_roads(paths=paths, od_slot_vehicles=v, slot_hours=model.slots.hours,
                                       background_vph=background, link_t0_min=city.link_t0_min,
                                       link_capacity_vph=city.link_capacity_vph, cfg=sc.traffic)
            values.append(peak_extra_time(v, roads.od_min, paths.t0_min, all_peak))
        return float(np.mean(values))

    lo = 0.0
    if pet(lo) >= target:
        return lo
    while hi < BACKGROUND_MAX and pet(hi) < target:
        lo, hi = hi, min(2 * hi, BACKGROUND_MAX)
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        if pet(mid) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)




def calibrate(scenario: Scenario, city: City, population: Population) -> Calibration:
    """Calibrate routes, constants, background traffic, starting times and quit hazards (see module doc)."""
    base = baseline_policy(scenario)
    m_cfg, t_cfg = base.mode, base.traffic
    S = m_cfg.n_slots
    ff = city.free_flow_routes
    init = Calibration(
        routes=ff, asc=np.zeros((len(SEGMENTS), len(MODES))), background_vc=t_cfg.background_vc, h0=np.zeros(4),
        return_prob=adoption.steady_state_return_probability(base),
        learnt_car_min=np.repeat(ff.od_t0_min[:, None] * (1 + t_cfg.target_peak_extra_time), S, axis=1),
        learnt_crowd=np.ones(S))
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
        riders = ((w * prob[:, TRANSIT])[:, None] * p_tr_slot).sum(axis=0) / m.slots.hours
        load = riders / t_cfg.transit_capacity_per_hour
        if t_cfg.calibrate_background:
            m.calibration.background_vc = _background_for_target(m, [veh], t_cfg.target_peak_extra_time)
        if outer < cc.reroute_rounds:
            # fixed routes: shortest at the peak link times, averaged over rounds (method of successive averages)
            peak_cost = _roads(m, veh, m.calibration.background_vc).link_min[:, m.slots.peak].mean(axis=1)
            link_cost = peak_cost if link_cost is None else link_cost + (peak_cost - link_cost) / (outer + 1)
            noise = 1.0 + t_cfg.route_spread * m.keyed.uniform(-1, "route_noise", (city.n_zones, city.n_links))
            m.calibration.routes = routes = city.routes(link_cost, noise)
            m.use_routes(routes)
            m.slot = m.preferred_slot.copy()
            m.expected.car_min = _assign(m, veh * 0, m.calibration.background_vc)  # rebuilt below
            continue
        od_min = _assign(m, veh, m.calibration.background_vc)
        pet = peak_extra_time(veh, od_min, m.paths.t0_min, m.slots.peak)
        change = float(np.abs(od_min - m.expected.car_min).max())
        # damped update of the times workers expect, so constants and congestion settle together
        m.expected.car_min = m.expected.car_min + cc.time_damping * (od_min - m.expected.car_min)
        m.expected.crowd = traffic.transit_crowding(load, m_cfg.crowding_beta, m_cfg.crowding_threshold)
        log.debug("calibration round %d: split error %.4f, peak extra time %.3f, max time change %.2f min",
                  outer, err, pet, change)
        if change < cc.converged_minutes and err < cc.converged_split:
            break
    final_shares, h0, warm_pet, threshold = _warm_up(m, targets, present, idx, seg, w)
    report = {
        "segment_targets": {s: dict(zip(MODES, targets[i].round(4).tolist())) for i, s in enumerate(SEGMENTS)},
        "segment_warm_up": {s: dict(zip(MODES, final_shares[i].round(4).tolist())) for i, s in enumerate(SEGMENTS)},
        "asc": {s: dict(zip(MODES, m.calibration.asc[i].round(4).tolist())) for i, s in enumerate(SEGMENTS)},
        "constant_iterations": iterations,
        "calibration_rounds": outer + 1,
        "background_vc": round(m.calibration.background_vc, 5),
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
    return Calibration(routes=m.routes, asc=m.calibration.asc, background_vc=m.calibration.background_vc, h0=h0,
                       return_prob=init.return_prob, learnt_car_min=learnt_full, learnt_crowd=m.expected.crowd,
                       initial_mode=m.mode.copy(), initial_slot=m.slot.copy(), initial_stress=m.stress.copy(),
                       high_stress_threshold=threshold, report=report)




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
    extra time (before its re-aim) and the high-stress threshold.
    """
    sc, pop = m.scenario, m.population
    wb, w = sc.wellbeing, pop.weight
    m.calibration.h0 = np.zeros(4)  # nobody quits while calibrating
    m.set_background(m.calibration.background_vc)
    shares = np.zeros_like(targets)
    weeks = sc.calibration.warm_up_weeks
    for week in range(weeks):
        trips = np.zeros(targets.size)
        mult_sum, pet, vehs = np.zeros(4), [], []
        for _ in range(5):
            weekday = m.calendar.weekday(m.day)
            m.step()
            vehs.append(m.car_vehicles_od_slot)
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
        if sc.traffic.calibrate_background:
            # realized (sampled) flows are lumpier than expected ones: re-aim the background on them
            bg = _background_for_target(m, vehs, sc.traffic.target_peak_extra_time,
                                        hi=2 * m.calibration.background_vc + 0.2, steps=16)
            m.calibration.background_vc = bg
            m.set_background(bg)
        if sc.mode.calibrate_constants:
            # steer what workers would choose now (habits follow), not the habit-lagged trips
            now = mode_choice.segment_shares(m.mode_probabilities(idx), seg, w_idx)
            m.calibration.asc = mode_choice.update_constants(m.calibration.asc, now, targets, present)
            log.debug("warm-up week %d: car share now %s, realized %s", week, now[:, 0].round(3), shares[:, 0].round(3))
        log.debug("warm-up week %d: peak extra time %.4f, background v/c now %.5f", week, np.mean(pet), m.calibration.background_vc)
    h0 = wellbeing.base_hazard(mult_sum / 5.0, wb)
    threshold = wellbeing.high_stress_threshold(m.stress, w, wb.target_high_stress_share)
    return shares, h0, float(np.mean(pet)), threshold
