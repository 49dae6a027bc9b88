"""Calibration of the baseline, done in code at the start of a run.

With the scenario's coefficients and the *baseline* policy (the levers at their defaults), so that a
policy never calibrates its own effect away:

1. return-to-office probabilities that make the Osservatorio adoption shares a steady state
   (:func:`sim.adoption.steady_state_return_probability`);
2. alternative constants of the mode logit, iterated ActivitySim-style (``asc += log(target/share)``)
   until every segment's expected split is within 0.05 points of its target, alternating with
3. an expected traffic assignment (slot probabilities x car probabilities on the fixed paths) whose
   background traffic is scaled by bisection so the morning-peak extra time hits TomTom's figure;
   the assigned times become the times workers start the year with;
4. the base quit hazard per gender so the expected quits per 1,000 match the INL-derived targets.
"""

from __future__ import annotations

import logging

import numpy as np

from . import adoption, mode_choice, traffic, wellbeing
from .city import City
from .population import Population
from .schema import MODES, SEGMENTS, PolicyConfig, Scenario

log = logging.getLogger(__name__)
CAR, TRANSIT = 0, 1
MAX_SAMPLE = 200_000  # workers used for the expected shares; enough for 0.1-point precision


def baseline_policy(scenario: Scenario) -> Scenario:
    """The scenario with every lever at its default (the policy the calibration sees)."""
    return scenario.model_copy(update={"policy": PolicyConfig()})


def peak_extra_time(veh: np.ndarray, od_min: np.ndarray, od_t0: np.ndarray, peak_slots: np.ndarray) -> float:
    """Extra car time over free flow in the peak: sum(veh*(t - t0)) / sum(veh*t0)."""
    v = veh[:, peak_slots]
    base = (v * od_t0[:, None]).sum()
    return float((v * (od_min[:, peak_slots] - od_t0[:, None])).sum() / base) if base > 0 else 0.0


def _assign(model, veh: np.ndarray, background_vc: float):
    sc, city = model.scenario, model.city
    bg = traffic.background_vph(city.link_capacity_vph, background_vc, np.asarray(sc.traffic.background_profile))
    vol = traffic.link_volumes(model.path_links_t, veh, model.slot_hours, bg)
    link_min = traffic.bpr_times(city.link_t0_min, vol, city.link_capacity_vph, sc.traffic.bpr_alpha, sc.traffic.bpr_beta)
    return traffic.od_times(city.path_links, link_min, model.intrazonal, city.od_car_t0_min[model.intrazonal])


def _background_for_target(model, veh: np.ndarray, target: float) -> float:
    """Bisection on background_vc so the peak extra time equals ``target`` (monotone in background)."""
    t0 = model.city.od_car_t0_min
    lo, hi = 0.0, 3.0
    if peak_extra_time(veh, _assign(model, veh, lo), t0, model.peak_slots) >= target:
        return lo
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if peak_extra_time(veh, _assign(model, veh, mid), t0, model.peak_slots) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def calibrate(scenario: Scenario, city: City, population: Population):
    """Calibrate constants, background traffic, starting times and quit hazards (see module doc)."""
    from .model import Calibration, CommuteModel

    base = baseline_policy(scenario)
    m_cfg, t_cfg = base.mode, base.traffic
    S = m_cfg.n_slots
    init = Calibration(
        asc=np.zeros((len(SEGMENTS), len(MODES))), background_vc=t_cfg.background_vc, h0=np.zeros(2),
        return_prob=adoption.steady_state_return_probability(base),
        learnt_car_min=np.repeat(city.od_car_t0_min[:, None] * (1 + t_cfg.target_peak_extra_time), S, axis=1),
        learnt_crowd=np.ones(S))
    m = CommuteModel(base, city, population, calibration=init, firm_agents=False)
    pop = population
    m.plan_week(0)
    office_frac = 1.0 - m.remote_days / 5.0
    step = max(1, int(np.ceil(pop.n_workers / MAX_SAMPLE)))
    idx = np.arange(0, pop.n_workers, step)
    w = pop.weight[idx] * office_frac[idx] * step
    seg = m.segment[idx]
    targets = np.array([[m_cfg.segment_targets[s][k] for k in MODES] for s in SEGMENTS])
    present = np.bincount(seg, weights=w, minlength=len(SEGMENTS)) > 0
    od = m.od[idx]
    rows = (od[:, None] * S + np.arange(S)[None, :]).ravel()
    n_od = city.n_zones ** 2
    err, iterations, pet = np.inf, 0, 0.0
    for outer in range(12):
        if m_cfg.calibrate_constants:
            for _ in range(m_cfg.calibration_iterations):
                shares = mode_choice.segment_shares(m.mode_probabilities(idx), seg, w)
                err = float(np.abs(shares - targets)[present].max())
                iterations += 1
                if err < 5e-4:
                    break
                m.calibration.asc = mode_choice.update_constants(m.calibration.asc, shares, targets, present)
        prob = m.mode_probabilities(idx)
        p_car_slot = m.slot_probabilities(np.full(len(idx), CAR, np.int8), idx)
        veh = np.bincount(rows, weights=((w * prob[:, CAR] / m_cfg.car_occupancy)[:, None] * p_car_slot).ravel(),
                          minlength=n_od * S).reshape(n_od, S)
        p_tr_slot = m.slot_probabilities(np.full(len(idx), TRANSIT, np.int8), idx)
        riders = ((w * prob[:, TRANSIT])[:, None] * p_tr_slot).sum(axis=0) / m.slot_hours
        load = riders / t_cfg.transit_capacity_per_hour
        if t_cfg.calibrate_background:
            m.calibration.background_vc = _background_for_target(m, veh, t_cfg.target_peak_extra_time)
        od_min = _assign(m, veh, m.calibration.background_vc)
        pet = peak_extra_time(veh, od_min, city.od_car_t0_min, m.peak_slots)
        change = float(np.abs(od_min - m.learnt_car_min).max())
        m.learnt_car_min = od_min
        m.learnt_crowd = traffic.transit_crowding(load, m_cfg.crowding_beta)
        log.debug("calibration round %d: split error %.4f, peak extra time %.3f, max time change %.2f min",
                  outer, err, pet, change)
        if change < 0.05 and err < 2e-3:
            break
    final_shares = mode_choice.segment_shares(m.mode_probabilities(idx), seg, w)
    h0 = _quit_hazard(m)
    report = {
        "segment_targets": {s: dict(zip(MODES, targets[i].round(4).tolist())) for i, s in enumerate(SEGMENTS)},
        "segment_expected": {s: dict(zip(MODES, final_shares[i].round(4).tolist())) for i, s in enumerate(SEGMENTS)},
        "asc": {s: dict(zip(MODES, m.calibration.asc[i].round(4).tolist())) for i, s in enumerate(SEGMENTS)},
        "constant_iterations": iterations,
        "background_vc": round(m.calibration.background_vc, 5),
        "expected_peak_extra_time": round(pet, 4),
        "return_to_office_monthly": dict(zip(("micro", "small", "medium", "large", "public"), init.return_prob.round(5).tolist())),
        "quit_h0_daily": {"men": float(h0[0]), "women": float(h0[1])},
    }
    return Calibration(asc=m.calibration.asc, background_vc=m.calibration.background_vc, h0=h0,
                       return_prob=init.return_prob, learnt_car_min=m.learnt_car_min, learnt_crowd=m.learnt_crowd,
                       report=report)


def _quit_hazard(m) -> np.ndarray:
    """h0 from each worker's expected stress and conflict over an average week of the baseline."""
    sc, pop = m.scenario, m.population
    wb = sc.wellbeing
    m.plan_week(0)
    times = m.one_way_times(m.slot)
    one_way = times[np.arange(pop.n_workers), m.mode]
    delay = np.where(m.mode == CAR, m.learnt_car_min[m.od, m.slot] - m.city.od_car_t0_min[m.od], 0.0)
    ev = sc.traffic.evening_factor
    rt_h = (2 * one_way - delay + ev * delay) / 60.0
    dl_h = (1 + ev) * delay / 60.0
    crowd = np.where(m.mode == TRANSIT, np.maximum(0.0, (m.learnt_crowd[m.slot] - 1.0) / max(sc.mode.crowding_beta, 1e-9)), 0.0)
    office = np.zeros(pop.n_workers, bool)
    c_off = wellbeing.conflict(pop.caregiver, office, m.welfare_cut, wb)
    c_rem = wellbeing.conflict(pop.caregiver, ~office, m.welfare_cut, wb)
    s_off = wellbeing.daily_strain(pop.base_stress, rt_h, dl_h, crowd, c_off, office, m.remote_days, wb)
    zeros = np.zeros(pop.n_workers)
    s_rem = wellbeing.daily_strain(pop.base_stress, zeros, zeros, zeros, c_rem, ~office, m.remote_days, wb)
    f = m.remote_days / 5.0
    stress = (1 - f) * s_off + f * s_rem
    conf = (1 - f) * c_off + f * c_rem
    return wellbeing.calibrate_h0(wellbeing.hazard_multiplier(stress, conf, pop.caregiver, wb), pop.woman, pop.weight, wb)
