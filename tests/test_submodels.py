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



@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), day=st.integers(-1, 2000), stream=st.sampled_from(["quit_reason", "hire_gender", "mode"]),
       n=st.integers(1, 3000), data=st.data())
def test_draws_made_directly_at_rows_are_the_elements_of_the_whole_array(seed, day, stream, n, data):
    """uniform (every keyed array) and uniform_at (today's quitters' reasons, today's hires, the weekly reviewers) are
    numpy's Philox array element by element, at any row."""
    rows = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=50)), dtype=np.int64)
    rng = KeyedRNG(seed)
    whole = rng.uniform(day, stream, n)
    assert np.array_equal(whole, rng.generator(day, stream).random(n))  # numpy's own Philox loop
    assert np.array_equal(rng.uniform_at(day, stream, rows), whole[rows])
    k = 1 + n % 5
    assert np.array_equal(rng.gumbel(day, stream, (n, k), rows=rows), rng.gumbel(day, stream, (n, k))[rows])
    # the normal draws at rows are the inverse normal CDF of those uniforms: the same whichever rows are asked
    both = rng.normal_at(day, stream, np.r_[rows, np.arange(n)])
    assert np.array_equal(both[:len(rows)], both[len(rows):][rows])


def test_draws_made_directly_at_rows_past_the_first_block_of_a_large_array():
    rng = KeyedRNG(7)
    rows = np.array([0, 3, 4, 1_000_003, 1_380_977])
    numpy_loop = rng.generator(120, "quit_reason").random(1_380_978)
    assert np.array_equal(rng.uniform_at(120, "quit_reason", rows), numpy_loop[rows])
    assert np.array_equal(rng.uniform(120, "quit_reason", (1_380_978 // 6, 6)).reshape(-1), numpy_loop[:1_380_978 // 6 * 6])


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
    """IEA 2020: a remote day saves CO2 for car commuters beyond ~6 km one way (a driver alone in the
    car, alone at home with autonomous heating: the IEA's per-worker accounting)."""
    cfg = EmissionsConfig()
    share = emissions.heating_fraction(cfg, workdays_from(dt.date(2025, 1, 6), 250, (12, 7)))
    home = (1 - share) * emissions.home_kg_per_remote_day(False, cfg) + share * emissions.home_kg_per_remote_day(True, cfg)
    d = emissions.break_even_km(home_kg=home, cfg=cfg)
    assert 5.0 <= d <= 7.0
    # the definition: at the break-even distance the saving is zero
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
def _strain(cfg, *, mode, commute_h, delay_h=0.0, remote=False, remote_days=0, conflict=0.0, weight=1.0, employed=True):
    one = np.ones(1)
    return wellbeing.strain_today(base=3 * one, mode=np.array([mode]), round_trip_min=60 * commute_h * one,
                                  round_delay_min=60 * delay_h * one, crowd_excess=0 * one, conflict=conflict * one,
                                  remote=np.array([remote]), remote_days_week=np.array([remote_days]),
                                  weight=weight * one, employed=np.array([employed]), cfg=cfg)


@SETTINGS
@given(commute_h=st.floats(0, 4), extra=st.floats(0.01, 2), mode=st.integers(0, 4))
def test_strain_grows_with_commute_and_stays_on_scale(commute_h, extra, mode):
    cfg = WellbeingConfig()
    s0 = _strain(cfg, mode=mode, commute_h=commute_h, conflict=1.0).total[0]
    s1 = _strain(cfg, mode=mode, commute_h=commute_h + extra, conflict=1.0).total[0]
    assert s1 >= s0 and 0 <= s0 <= wellbeing.STRESS_MAX and s1 <= wellbeing.STRESS_MAX


def test_an_hour_walking_or_cycling_strains_less_than_an_hour_in_traffic():
    cfg = WellbeingConfig()
    car_jam = _strain(cfg, mode=mode_choice.CAR, commute_h=1.0, delay_h=0.3).total[0]
    car = _strain(cfg, mode=mode_choice.CAR, commute_h=1.0).total[0]
    bike = _strain(cfg, mode=mode_choice.BIKE, commute_h=1.0).total[0]
    walk = _strain(cfg, mode=mode_choice.WALK, commute_h=1.0).total[0]
    assert walk < car and bike < car < car_jam


def test_strain_is_the_sum_of_its_components():
    cfg = WellbeingConfig()
    s = _strain(cfg, mode=mode_choice.TRANSIT, commute_h=1.2, conflict=1.5)
    assert s.part_sums.shape == (len(wellbeing.COMPONENTS),)
    assert s.total[0] == pytest.approx(3 + 1.2 * cfg.strain_transit_per_hour + 1.5 * (1 + 1.2 * cfg.conflict_per_commute_hour))
    assert s.part_sums.sum() == pytest.approx(s.total[0])  # on the scale: the clip does nothing
    # the components' sums are weighted, and a vacant position adds nothing to them (its strain is still made)
    heavy = _strain(cfg, mode=mode_choice.TRANSIT, commute_h=1.2, conflict=1.5, weight=40.0)
    assert heavy.part_sums == pytest.approx(40.0 * s.part_sums)
    vacant = _strain(cfg, mode=mode_choice.TRANSIT, commute_h=1.2, conflict=1.5, employed=False)
    assert vacant.total[0] == s.total[0] and not vacant.part_sums.any()
    home = _strain(cfg, mode=mode_choice.CAR, commute_h=0.0, remote=True, remote_days=5, conflict=1.5)
    iso = wellbeing.COMPONENTS.index("isolation")
    assert home.part_sums[iso] == pytest.approx(cfg.w_isolation_per_day * (5 - cfg.isolation_free_days))
    assert home.part_sums[wellbeing.COMPONENTS.index("conflict")] == pytest.approx(1.5 * cfg.remote_conflict_factor)


def _conflict(cfg, child, dependant=False, flexible=False, cut=0.0):
    return wellbeing.personal_conflict(child_group=np.array([child]), dependant=np.array([dependant]),
                                       flexible=np.array([flexible]), welfare_cut=np.array([cut]), cfg=cfg)[0]


def test_conflict_by_care_group_and_levers():
    cfg = WellbeingConfig()
    none, u3, c35, c614 = (_conflict(cfg, k) for k in range(4))
    assert none < c614 < u3 and c35 == u3
    assert _conflict(cfg, 0, dependant=True) > none
    assert _conflict(cfg, 1, flexible=True) < u3
    # childcare acts on parents of children aged 0-5 only
    assert _conflict(cfg, 1, cut=0.35) < u3 and _conflict(cfg, 2, cut=0.35) < c35
    assert _conflict(cfg, 3, cut=0.35) == c614 and _conflict(cfg, 0, dependant=True, cut=0.35) == _conflict(cfg, 0, dependant=True)


def test_welfare_coverage_grows_with_the_employer_size():
    sc = Scenario.model_validate({"policy": {"corporate_welfare": {"enabled": True}}})
    n = 50_000
    u = KeyedRNG(3).uniform(0, "worker_welfare", n)
    covered = {k: float(np.mean(wellbeing.welfare_conflict_cut(welfare=sc.policy.corporate_welfare,
                                                                worker_class=np.full(n, i), u_welfare=u) > 0))
               for i, k in enumerate(("micro", "small", "medium", "large", "public"))}
    assert covered["micro"] < covered["small"] < covered["medium"] < covered["large"]
    assert covered["large"] == pytest.approx(0.55, abs=0.01)
    off = wellbeing.welfare_conflict_cut(welfare=Scenario().policy.corporate_welfare, worker_class=np.full(n, 3), u_welfare=u)
    assert not off.any()


def test_caregiving_counts_once_in_the_quit_hazard():
    """At equal stress a caregiver (other than a parent of a child 0-2, whose base hazard is INL's) quits
    exactly as often as a worker without care duties: caregiving acts through the conflict in stress."""
    cfg = WellbeingConfig()
    h0 = np.array([1e-4, 2e-5, 1.2e-4, 3e-4])
    stress = np.full(4, 5.0)
    woman = np.array([True, True, True, True])
    child = np.array([0, 2, 3, 0])  # none, 3-5, 6-14, none (with a dependant: not an input of the hazard)
    p = wellbeing.quit_probability(h0=h0, cell=wellbeing.hazard_cell(woman, child), stress=stress, cfg=cfg)
    assert np.all(p == p[0])
    mother = wellbeing.quit_probability(h0=h0, cell=wellbeing.hazard_cell(woman[:1], np.array([1])), stress=stress[:1], cfg=cfg)
    assert mother[0] > p[0]
    higher = wellbeing.quit_probability(h0=h0, cell=np.array([2]), stress=np.array([6.0]), cfg=cfg)
    assert higher[0] > p[0]


@SETTINGS
@given(mult=arrays(np.float64, 4, elements=st.floats(0.5, 20)))
def test_base_hazard_hits_each_cells_target(mult):
    cfg = WellbeingConfig()
    h0 = wellbeing.base_hazard(mult, cfg)
    yearly = -np.expm1(-h0 * mult) * 250 * 1000  # expected quits per 1,000 a year at the mean multiplier
    np.testing.assert_allclose(yearly, wellbeing.cell_targets_per_1000(cfg), rtol=1e-9)


def test_quit_reasons_follow_the_inl_shares():
    cfg = WellbeingConfig()
    n = 200_000
    u = KeyedRNG(5).uniform(0, "quit_reason", n)
    r = wellbeing.draw_reasons(u, np.full(n, 3), wellbeing.reason_shares(cfg))  # mothers of a child 0-2
    assert np.mean(r == 0) == pytest.approx(cfg.care_share_mothers_u3, abs=0.005)
    assert np.mean(r == 1) == pytest.approx(cfg.job_to_job_share_mothers_u3, abs=0.005)
    r = wellbeing.draw_reasons(u, np.full(n, 1), wellbeing.reason_shares(cfg))  # fathers
    assert np.mean(r == 1) == pytest.approx(cfg.job_to_job_share_fathers_u3, abs=0.005)


def test_high_stress_threshold_leaves_the_target_share_above():
    rng = KeyedRNG(9)
    stress = 5 + rng.normal(0, "mode", 20_000)
    weight = 1 + rng.uniform(0, "slot", 20_000)
    thr = wellbeing.high_stress_threshold(stress, weight, 0.22)
    assert np.sum(weight[stress > thr]) / weight.sum() == pytest.approx(0.22, abs=0.001)


def test_care_groups_follow_the_istat_margins():
    from sim.world.population import care_groups
    cfg = Scenario().population
    n = 400_000
    rng = KeyedRNG(4)
    woman = rng.uniform(0, "worker_gender", n) < 0.5
    child, dep = care_groups(cfg, woman, u_child=rng.uniform(0, "worker_caregiver", n), u_dependant=rng.uniform(0, "worker_dependant", n))
    for g, sel in (("women", woman), ("men", ~woman)):
        for k, age in enumerate(("0-2", "3-5", "6-14"), start=1):
            assert np.mean(child[sel] == k) == pytest.approx(cfg.youngest_child_share[g][age], abs=0.003)
        assert np.mean(dep[sel]) == pytest.approx(cfg.other_dependant_share[g], abs=0.003)


def test_two_remote_days_lower_the_quit_hazard_of_commuters():
    """Direction only: the size of the effect is a validation against Bloom et al. 2024 (docs/validation.md)."""
    cfg = WellbeingConfig()
    rng = KeyedRNG(11)
    n = 20000
    child = (rng.uniform(0, "worker_caregiver", n) * 4).astype(np.int64)
    base = np.clip(2.5 + rng.normal(0, "worker_base_stress", n), 0, None)
    commute_h = np.clip(1.0 + 0.4 * rng.normal(0, "mode", n), 0.2, None)
    conflict = wellbeing.personal_conflict(child_group=child, dependant=np.zeros(n, bool), flexible=np.zeros(n, bool),
                                           welfare_cut=np.zeros(n), cfg=cfg)
    h0 = np.full(4, 1e-4)

    def mean_hazard(remote_days_week: int) -> float:
        f = remote_days_week / 5
        kw = dict(base=base, mode=np.zeros(n, np.int64), round_delay_min=12 * commute_h, crowd_excess=np.zeros(n),
                  conflict=conflict, remote_days_week=np.full(n, remote_days_week), weight=np.ones(n),
                  employed=np.ones(n, bool), cfg=cfg)
        s_off = wellbeing.strain_today(round_trip_min=60 * commute_h, remote=np.zeros(n, bool), **kw).total
        s_rem = wellbeing.strain_today(round_trip_min=0 * commute_h, remote=np.ones(n, bool), **kw).total
        stress = (1 - f) * s_off + f * s_rem  # the EWMA's long-run mean
        p = wellbeing.quit_probability(h0=h0, cell=wellbeing.hazard_cell(np.zeros(n, bool), child), stress=stress, cfg=cfg)
        return float(p.mean())

    assert mean_hazard(2) < mean_hazard(0)
