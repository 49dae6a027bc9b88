"""Sub-models on their own: properties that must hold for any input (Hypothesis) and sourced figures."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.behaviour import adoption, emissions, mode_choice, remote_days, traffic, wellbeing
from sim.rng import KeyedRNG
from sim.scenario.schema import EmissionsConfig, Scenario, WellbeingConfig
from sim.world.calendar import workdays_from

SETTINGS = settings(max_examples=60, deadline=None)


# ----------------------------------------------------------------------------- random numbers
def test_keyed_draws_do_not_depend_on_order():
    rng = KeyedRNG(42)
    a = rng.uniform(3, "mode", 100)
    rng.uniform(3, "slot", 1000)  # another stream drawn in between
    b = rng.uniform(3, "mode", 100)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, rng.uniform(4, "mode", 100))
    assert not np.array_equal(a, KeyedRNG(43).uniform(3, "mode", 100))
    # worker i's draw is the same whatever the population size
    assert np.array_equal(rng.uniform(3, "mode", 50), a[:50])


# ----------------------------------------------------------------------------- remote days
@SETTINGS
@given(n=st.integers(1, 200), cap=st.integers(0, 5), floor=st.integers(0, 5), pref=st.floats(0, 5), seed=st.integers(0, 2**31))
def test_remote_days_within_bounds_and_weekdays_match(n, cap, floor, pref, seed):
    floor = min(floor, cap)
    rng = KeyedRNG(seed)
    allowed = rng.uniform(0, "mode", n) < 0.6
    firm_cap = rng.generator(0, "slot").integers(0, 6, n)
    days = remote_days.remote_day_count(allowed, firm_cap, rng.uniform(0, "quit", n) < 0.3, np.full(n, pref),
                                        rng.normal(0, "remote_pref", n), pref, 0.5, 0.3, 0.9, floor, cap)
    assert days.min() >= 0 and days.max() <= cap
    assert np.all(days[~allowed] == 0)
    assert np.all(days[allowed] >= floor)
    mask = remote_days.remote_weekdays(days, np.log([1.3, 0.8, 0.9, 0.8, 1.6]), rng.gumbel(0, "remote_weekday", (n, 5)))
    assert np.array_equal(mask.sum(axis=1), days)


def test_monday_and_friday_are_preferred():
    rng = KeyedRNG(1)
    n = 20000
    days = np.full(n, 2, dtype=np.int8)
    mask = remote_days.remote_weekdays(days, np.log([1.3, 0.8, 0.9, 0.8, 1.6]), rng.gumbel(0, "remote_weekday", (n, 5)))
    share = mask.mean(axis=0)
    assert share[4] > share[0] > max(share[1], share[2], share[3])


# ----------------------------------------------------------------------------- choice
@SETTINGS
@given(util=arrays(np.float64, (30, 5), elements=st.floats(-20, 20)), u=arrays(np.float64, 30, elements=st.floats(0, 0.999999)))
def test_choice_is_a_valid_alternative_and_probabilities_sum_to_one(util, u):
    avail = np.ones_like(util, dtype=bool)
    avail[:, 3] = False
    p = mode_choice.probabilities(np.where(avail, util, -np.inf))
    assert np.allclose(p.sum(axis=1), 1.0)
    assert np.all(p[:, 3] == 0)
    k = mode_choice.choose(p, u)
    assert np.all((k >= 0) & (k < 5)) and not np.any(k == 3)


def test_choice_frequencies_match_probabilities():
    p = np.tile([0.1, 0.2, 0.3, 0.15, 0.25], (200000, 1))
    k = mode_choice.choose(p, KeyedRNG(5).uniform(0, "mode", 200000))
    assert np.allclose(np.bincount(k, minlength=5) / 200000, p[0], atol=0.005)


def test_constant_update_moves_shares_to_targets():
    rng = KeyedRNG(3)
    util = rng.normal(0, "mode", (5000, 5))
    seg = (rng.uniform(0, "slot", 5000) * 4).astype(np.int8)
    w = np.ones(5000)
    targets = np.array([[0.16, 0.47, 0.12, 0.18, 0.07], [0.63, 0.3, 0.01, 0.01, 0.05]] * 2)
    asc = np.zeros((4, 5))
    for _ in range(30):
        shares = mode_choice.segment_shares(mode_choice.probabilities(util + asc[seg]), seg, w)
        asc = mode_choice.update_constants(asc, shares, targets, np.ones(4, bool))
    shares = mode_choice.segment_shares(mode_choice.probabilities(util + asc[seg]), seg, w)
    assert np.abs(shares - targets).max() < 1e-3
    assert np.all(asc[:, mode_choice.WALK] == 0)


@SETTINGS
@given(shift=st.floats(-60, 60))
def test_later_start_moves_departures_later(shift):
    slots = 6 * 60 + 30 + 15 * (np.arange(14) + 0.5)
    times = np.full((1, 14), 30.0)
    u0 = mode_choice.slot_utilities(times, slots, np.array([540.0]), np.array([0.0]), -0.05, -0.03, -0.12, 1.0)
    u1 = mode_choice.slot_utilities(times, slots, np.array([540.0 + shift]), np.array([0.0]), -0.05, -0.03, -0.12, 1.0)
    m0 = (mode_choice.probabilities(u0) * slots).sum()
    m1 = (mode_choice.probabilities(u1) * slots).sum()
    assert (m1 - m0) * np.sign(shift) >= -1e-9


# ----------------------------------------------------------------------------- traffic
@SETTINGS
@given(v=arrays(np.float64, (8, 3), elements=st.floats(0, 20000)), extra=st.floats(1, 5000))
def test_bpr_is_free_flow_at_zero_and_increasing(v, extra):
    t0 = np.linspace(1, 8, 8)
    cap = np.full(8, 6000.0)
    t = traffic.bpr_times(t0, v, cap, 0.15, 4.0)
    assert np.all(t >= t0[:, None])
    assert np.all(traffic.bpr_times(t0, v + extra, cap, 0.15, 4.0) > t)
    assert np.allclose(traffic.bpr_times(t0, np.zeros((8, 3)), cap, 0.15, 4.0), t0[:, None])
    # the BPR formula itself: t0*(1 + 0.15) at v = c
    assert traffic.bpr_times(np.array([10.0]), np.array([[6000.0]]), np.array([6000.0]), 0.15, 4.0)[0, 0] == pytest.approx(11.5)


# ----------------------------------------------------------------------------- adoption
def test_targets_are_the_steady_state_of_the_diffusion():
    sc = Scenario()
    a = adoption.target_firm_share(sc)
    r = adoption.steady_state_return_probability(sc)
    p, _ = adoption.policy_rates(sc, r)
    inflow = (1 - a) * adoption.adopt_probability(p, sc.adoption.bass_q_per_year, a,
                                                  adoption.updates_per_year(sc.adoption.workdays_per_month))
    assert np.allclose(inflow, a * r)


@given(st.integers(5, 31), st.floats(0.0, 2.0), st.floats(0.0, 2.0), st.floats(0.0, 1.0))
def test_a_years_adoption_does_not_depend_on_the_update_interval(workdays_per_month, p, q, share):
    """Compounded over a year's updates (one every ``workdays_per_month`` of the 250 workdays), the chance
    of adopting at a fixed class share is ``1 - exp(-(p + q*share))`` whatever the interval (a rate per
    year divided by a hard-coded 12 months would make a 10-day interval diffuse 2.1x faster)."""
    updates = 250 / workdays_per_month
    per_update = adoption.adopt_probability(np.array([p]), q, np.array([share]), adoption.updates_per_year(workdays_per_month))
    assert 1 - (1 - per_update[0]) ** updates == pytest.approx(1 - np.exp(-(p + q * share)), rel=1e-9, abs=1e-12)


def test_sme_lever_raises_only_supported_rates():
    sc = Scenario.model_validate({"policy": {"sme_support": {"enabled": True}}})
    r = adoption.steady_state_return_probability(sc)
    p, r2 = adoption.policy_rates(sc, r)
    assert np.all(p[:3] > sc.adoption.bass_p_per_year) and np.all(p[3:] == sc.adoption.bass_p_per_year)
    assert np.all(r2[:3] < r[:3]) and np.all(r2[3:] == r[3:])


# ----------------------------------------------------------------------------- emissions
def test_car_factor_equals_urban_average_at_reference_speed():
    cfg = EmissionsConfig()
    assert emissions.car_g_per_km(np.array([cfg.urban_reference_speed_kmh]), cfg)[0] == pytest.approx(235.6)
    v = np.array([10.0, 20.0, 60.0, 130.0])
    g = emissions.car_g_per_km(v, cfg)
    assert g[0] > g[1] > g[2] and g[3] > g[2]  # stop-and-go worst, 50-80 km/h best


def test_break_even_commute_is_where_iea_puts_it():
    """IEA 2020: a remote day saves CO2 for car commuters beyond ~6 km one way."""
    cfg = EmissionsConfig()
    share = emissions.heating_fraction(cfg, workdays_from(dt.date(2025, 1, 6), 250, (12, 7)))
    d = emissions.break_even_km(cfg, share)
    assert 5.0 <= d <= 7.0
    # the definition: at the break-even distance the saving is zero
    home = (1 - share) * emissions.home_kg_per_remote_day(False, cfg) + share * emissions.home_kg_per_remote_day(True, cfg)
    saving = 2 * d * cfg.car_urban_g_per_km / 1000 - home - emissions.extra_trip_kg_per_remote_day(cfg)
    assert saving == pytest.approx(0.0, abs=1e-12)


def test_heating_season_is_climate_zone_e():
    import datetime as dt
    cfg = EmissionsConfig()
    assert emissions.in_heating_season(dt.date(2025, 1, 10), cfg)
    assert emissions.in_heating_season(dt.date(2025, 10, 15), cfg)
    assert emissions.in_heating_season(dt.date(2025, 4, 15), cfg)
    assert not emissions.in_heating_season(dt.date(2025, 4, 16), cfg)
    assert not emissions.in_heating_season(dt.date(2025, 7, 1), cfg)
    assert emissions.home_kg_per_remote_day(True, cfg) > emissions.home_kg_per_remote_day(False, cfg)


# ----------------------------------------------------------------------------- wellbeing
@SETTINGS
@given(commute_h=st.floats(0, 4), extra=st.floats(0.01, 2))
def test_strain_grows_with_commute_and_stays_on_scale(commute_h, extra):
    cfg = WellbeingConfig()
    one = np.ones(1)
    args = (np.zeros(1), np.zeros(1), np.ones(1), np.zeros(1, bool), np.zeros(1))
    s0 = wellbeing.daily_strain(3 * one, commute_h * one, *args, cfg)
    s1 = wellbeing.daily_strain(3 * one, (commute_h + extra) * one, *args, cfg)
    assert s1 >= s0 and 0 <= s0 <= wellbeing.STRESS_MAX and s1 <= wellbeing.STRESS_MAX


def test_welfare_and_remote_days_cut_conflict():
    cfg = WellbeingConfig()
    cg = np.array([True])
    office = wellbeing.conflict(cg, np.array([False]), np.array([0.0]), cfg)
    assert wellbeing.conflict(cg, np.array([True]), np.array([0.0]), cfg) < office
    assert wellbeing.conflict(cg, np.array([False]), np.array([0.35]), cfg) < office
    assert wellbeing.conflict(~cg, np.array([False]), np.array([0.0]), cfg) < office


def test_two_remote_days_cut_quits_by_about_a_third():
    """Bloom, Han & Liang 2024: two WFH days a week cut quit rates by one third."""
    cfg = WellbeingConfig()
    rng = KeyedRNG(11)
    n = 20000
    caregiver = rng.uniform(0, "worker_caregiver", n) < 0.25
    base = np.clip(2.5 + rng.normal(0, "worker_base_stress", n), 0, None)
    commute_h = np.clip(1.0 + 0.4 * rng.normal(0, "mode", n), 0.2, None)  # round trip, Milan-like
    delay_h = 0.2 * commute_h

    def mean_hazard(remote_days_week: int) -> float:
        f = remote_days_week / 5
        zero = np.zeros(n)
        off = np.zeros(n, bool)
        c_off = wellbeing.conflict(caregiver, off, zero, cfg)
        c_rem = wellbeing.conflict(caregiver, ~off, zero, cfg)
        s_off = wellbeing.daily_strain(base, commute_h, delay_h, zero, c_off, off, np.full(n, remote_days_week), cfg)
        s_rem = wellbeing.daily_strain(base, zero, zero, zero, c_rem, ~off, np.full(n, remote_days_week), cfg)
        stress = (1 - f) * s_off + f * s_rem  # the EWMA's long-run mean
        h = (1 - f) * wellbeing.hazard_multiplier(stress, c_off, caregiver, cfg) + f * wellbeing.hazard_multiplier(stress, c_rem, caregiver, cfg)
        return float(h.mean())

    ratio = mean_hazard(2) / mean_hazard(0)
    assert 0.55 <= ratio <= 0.80, ratio
