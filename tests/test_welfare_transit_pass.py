"""Welfare unbundled (issue 15, item 5): corporate welfare alone leaves travel alone; the employer-paid
transit pass makes transit free for covered workers, lowering car use the more employers pay it; and the
Area C trips KPI (item 7) counts the cars arriving at a workplace in the core."""

from __future__ import annotations

import numpy as np
import pytest

from sim.behaviour import mode_choice
from sim.behaviour.mode_choice import CAR, TRANSIT
from sim.outputs.appraisal import appraise
from sim.scenario.load import load_scenario
from sim.scenario.schema import WORKDAYS_PER_YEAR, Scenario

from .conftest import BASELINE, ROOT, run_small

DAYS = 20
PASS = "policy.welfare_transit_pass"


def _run(*overrides: str):
    return run_small(*overrides, days=DAYS, counterfactual=False)


def _pass(share: float, *more: str):
    return _run(f"{PASS}.enabled=true", f"{PASS}.share_of_employers={share}", *more)[1]


def test_corporate_welfare_alone_changes_car_km_by_less_than_a_thousandth():
    _, base = _run()
    _, welfare = _run("policy.corporate_welfare.enabled=true")
    assert welfare["mean_stress"] < base["mean_stress"]  # it does act, on work-family conflict
    assert abs(welfare["car_vkm"] - base["car_vkm"]) <= 1e-3 * base["car_vkm"]


def test_shipped_welfare_scenario_switches_on_welfare_only():
    welfare = load_scenario(ROOT / "scenarios" / "corporate_welfare.yaml")
    flexible = load_scenario(ROOT / "scenarios" / "flexible_hours.yaml")
    passes = load_scenario(ROOT / "scenarios" / "welfare_transit_pass.yaml")
    default = Scenario().policy
    assert welfare.policy.corporate_welfare.enabled and not welfare.policy.flexible_hours.enabled
    assert welfare.policy.model_copy(update={"corporate_welfare": default.corporate_welfare}) == \
        load_scenario(ROOT / "scenarios" / "milan_baseline.yaml").policy
    # the flexible hours that were bundled with welfare, now on their own, with the same values
    fh = flexible.policy.flexible_hours
    assert fh.enabled and (fh.window_minutes, fh.share_of_workers) == (45, 0.5)
    assert not flexible.policy.corporate_welfare.enabled
    assert passes.policy.welfare_transit_pass.enabled and 0 < passes.policy.welfare_transit_pass.share_of_employers < 1


def test_pass_share_zero_or_lever_off_is_the_baseline_exactly():
    _, base = _run()
    assert _pass(0.0) == base
    assert _run(f"{PASS}.share_of_employers=0.7")[1] == base  # the share without the lever: nothing
    assert base["transit_pass_urban_share"] == base["transit_pass_regional_share"] == 0.0


def test_transit_pass_lowers_car_share_and_raises_transit_share():
    _, base = _run()
    s = _pass(0.5)
    assert s["modal_split"]["car"] < base["modal_split"]["car"]
    assert s["modal_split"]["transit"] > base["modal_split"]["transit"]
    assert s["car_vkm"] < base["car_vkm"]
    assert s["transit_pass_urban_share"] > 0 and s["transit_pass_regional_share"] > 0


def test_more_employers_paying_the_pass_means_a_lower_car_share():
    car = [_pass(share)["modal_split"]["car"] for share in (0.0, 0.25, 0.5, 1.0)]
    assert all(a > b for a, b in zip(car, car[1:])), car
    holders = [_pass(share)["transit_pass_urban_share"] for share in (0.0, 0.25, 0.5, 1.0)]
    assert all(a < b for a, b in zip(holders, holders[1:])), holders


def test_an_employer_pays_for_all_its_workers_or_none_and_more_share_covers_a_superset():
    rng = np.random.default_rng(3)
    u_firm = rng.random(50)
    worker_firm = rng.integers(0, 50, 2000)
    tp = Scenario.model_validate({"policy": {"welfare_transit_pass": {"enabled": True, "share_of_employers": 0.4}}}) \
        .policy.welfare_transit_pass
    half = mode_choice.transit_pass_covered(transit_pass=tp, worker_firm=worker_firm, firm_u_pass=u_firm, level=0.5)
    full = mode_choice.transit_pass_covered(transit_pass=tp, worker_firm=worker_firm, firm_u_pass=u_firm, level=1.0)
    assert not (half & ~full).any() and full.sum() > half.sum() > 0
    for f in range(50):  # all of a firm's workers, or none
        assert len(set(full[worker_firm == f])) <= 1
    assert full.mean() == pytest.approx(np.mean(u_firm[worker_firm] < 0.4))
    off = Scenario().policy.welfare_transit_pass
    assert not mode_choice.transit_pass_covered(transit_pass=off, worker_firm=worker_firm, firm_u_pass=u_firm,
                                                level=1.0).any()


def test_a_covered_worker_pays_no_transit_fare_and_nothing_else_changes():
    sc = Scenario()
    n = 4
    kw = dict(od_local=np.arange(n), dist_km=np.array([3.0, 8.0, 20.0, 35.0]), free_flow_min=np.full(n, 20.0),
              transit_invehicle_min=np.full(n, 30.0), home_in_milan=np.array([True, True, False, False]),
              work_in_milan=np.array([True, True, True, False]), work_in_area_c=np.array([True, False, False, False]),
              car_available=np.ones(n, bool), mode_cfg=sc.mode, city_cfg=sc.city, policy=sc.policy)
    plain = mode_choice.options(**kw)
    covered = np.array([True, False, True, False])
    paid = mode_choice.options(**kw, transit_pass=covered)
    assert np.all(paid.cost_terms_t[TRANSIT, covered] == 0.0)
    assert np.all(paid.cost_terms_t[TRANSIT, ~covered] == plain.cost_terms_t[TRANSIT, ~covered])
    # the fare it replaces: 2 x (urban fare + regional per-km fare beyond the Comune), times the cost coefficient
    fare = 2 * (sc.policy.transit_fare_eur + np.array([0.0, 0.0, sc.mode.regional_fare_per_km * 20.0, 0.0]))
    assert plain.cost_terms_t[TRANSIT, :3] == pytest.approx(sc.mode.beta_cost_per_eur * fare[:3])
    others = [k for k in range(5) if k != TRANSIT]
    assert np.array_equal(paid.cost_terms_t[others], plain.cost_terms_t[others])


def test_pass_cost_in_the_appraisal_is_holders_times_the_pass_prices():
    sc = load_scenario(BASELINE, [f"{PASS}.enabled=true"])
    ap = sc.appraisal
    year = {"year": 1, "first_date": "2025-01-07", "days": 125, "commute_hours_per_worker": 100.0,
            "delay_hours": 1e4, "car_vkm": 1e6, "co2_net_t": 500.0, "quits_women_per_1000": 4.0,
            "adoption_by_size": {"micro": 0.1, "small": 0.1, "medium": 0.1, "large": 0.5, "public": 0.2}}
    base = {"workers": 10_000.0, "by_year": [{**year, "transit_pass_urban_share": 0.0, "transit_pass_regional_share": 0.0}]}
    run = {"workers": 10_000.0, "by_year": [{**year, "transit_pass_urban_share": 0.1, "transit_pass_regional_share": 0.05}]}
    a = appraise(base=base, run=run, scenario=sc)
    # 1,000 urban and 500 integrated passes held over half a working year
    expected = (1000 * ap.transit_pass_urban_eur_per_year + 500 * ap.transit_pass_regional_eur_per_year) * 125 / 250
    assert a["costs_eur"]["welfare_transit_pass"] == pytest.approx(expected)
    assert ap.transit_pass_urban_eur_per_year == 330.0  # ATM's ordinary annual urban pass
    # a summary written before the lever existed counts no passes
    old = {"workers": 10_000.0, "by_year": [year]}
    assert appraise(base=old, run=old, scenario=sc)["costs_eur"]["welfare_transit_pass"] == 0.0


def test_car_trips_to_area_c_counts_the_cars_arriving_in_the_core():
    model, s = _run()
    pop, sc = model.population, model.scenario
    core = model.city.in_area_c[pop.work]
    assert 0 < core.mean() < 1
    car_days = model.metrics.mode_trips[:, CAR]  # office days by car per position (20 January days: nobody on leave)
    expected = float((pop.weight * car_days * core).sum()) / sc.mode.car_occupancy * WORKDAYS_PER_YEAR / DAYS
    assert s["car_trips_to_area_c"] == pytest.approx(expected, rel=1e-9)
    assert s["car_vehicle_hours"] > 0
    # a dearer Area C: fewer cars into the core
    _, dear = _run("policy.area_c_charge_eur=30")
    assert dear["car_trips_to_area_c"] < s["car_trips_to_area_c"]
