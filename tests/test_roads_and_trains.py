"""Background traffic, road capacity, transit networks and motorbikes: what the calibration fixes and how it binds."""

from __future__ import annotations

import numpy as np
import pytest

from sim.behaviour import commute, mode_choice, traffic
from sim.behaviour.mode_choice import CAR, MOTO, TRANSIT
from sim.calibration import commuter_share_by_link
from sim.prepare import build_model
from sim.scenario.schema import LINK_KINDS, TRANSIT_NETWORKS

from .conftest import run_small, small


@pytest.fixture(scope="module")
def baseline():
    return run_small(days=10, counterfactual=False)


def test_background_leaves_commuters_their_share_of_peak_traffic(baseline):
    """On the baseline's last calibration week the commuters' share of peak vehicle-km by link kind is the
    configured share (the background was set from it)."""
    m, _ = baseline
    cal = m.calibration
    share_cfg = m.scenario.traffic.commuter_share_of_peak_traffic
    report = cal.report["commuter_share_of_peak_vkm"]
    for kind, value in report.items():
        assert value == pytest.approx(share_cfg[kind], abs=0.02), kind
    # recomputed from the run's first day: commuter vehicle-km on the links over the peak slots against the total
    s = commuter_share_by_link(m.scenario, m.city)
    assert np.all(cal.background_peak_vph >= 0) and np.all((s > 0) & (s < 1))
    daily = m.metrics.daily()
    assert 0 < np.mean(daily["peak_vc_max"])


def test_road_capacity_factor_meets_the_congestion_target(baseline):
    m, summary = baseline
    assert 0.01 < m.calibration.road_capacity_factor < 100
    assert summary["calibration"]["warm_up_peak_extra_time"] == pytest.approx(m.scenario.traffic.target_peak_extra_time, abs=0.03)
    assert np.allclose(m.link_capacity_vph, m.city.link_capacity_vph * m.calibration.road_capacity_factor)


def test_transit_runs_full_at_the_peak_and_remote_days_relieve_it(baseline):
    """The places per hour are set so the baseline's busiest slot carries the target load; without
    smart working (more riders) the peak is above it, with everyone remote it is empty."""
    m, summary = baseline
    target = m.scenario.traffic.transit_peak_load_target
    for k in TRANSIT_NETWORKS:
        assert summary["transit_peak_load_by_network"][k] == pytest.approx(target[k], abs=0.08), k
    assert summary["transit_peak_load"] > m.scenario.mode.crowding_threshold  # crowding binds in the baseline
    off = run_small("policy.smart_working=off", days=10, counterfactual=False)[1]
    assert off["transit_peak_load"] > summary["transit_peak_load"]
    remote = run_small("policy.smart_working=all_remote", days=10, counterfactual=False)[1]
    assert remote["transit_peak_load"] < 0.05


def test_transit_networks_are_urban_inside_the_comune_and_regional_across_it():
    home = np.array([True, True, False, False])
    work = np.array([True, False, True, False])
    assert traffic.transit_network(home, work).tolist() == [0, 1, 1, 1]
    assert TRANSIT_NETWORKS[traffic.URBAN] == "urban" and TRANSIT_NETWORKS[traffic.REGIONAL] == "regional"


def test_capacity_for_peak_load_gives_the_target_in_the_busiest_slot():
    riders = np.array([[100.0, 400.0, 250.0], [30.0, 60.0, 90.0]])
    cap = traffic.capacity_for_peak_load(riders_per_slot=riders, slot_hours=0.5, target_load=np.array([1.0, 0.8]))
    load = traffic.transit_load(riders_per_slot=riders, slot_hours=0.5, capacity_per_hour=cap, capacity_factor=1.0)
    assert load.max(axis=1) == pytest.approx([1.0, 0.8])
    # the capacity lever divides the load
    half = traffic.transit_load(riders_per_slot=riders, slot_hours=0.5, capacity_per_hour=cap, capacity_factor=2.0)
    assert half == pytest.approx(load / 2)


def test_motorbike_suffers_its_share_of_the_car_delay():
    """One OD pair, one slot: a car and a motorbike commuter; the motorbike's one-way time is
    (t0 + share*(car - t0))/speed + access, its delay share*(car - t0)/speed, its CO2 its own."""
    sc = small()
    m_cfg = sc.mode.model_copy(update={"moto_congestion_share": 0.4, "moto_speed_factor": 1.25})
    t0, car_now, dist = 20.0, 32.0, 10.0
    opt = mode_choice.options(od_local=np.array([0, 0]), dist_km=np.full(2, dist), free_flow_min=np.full(2, t0),
                              transit_invehicle_min=np.full(2, 25.0), home_in_milan=np.ones(2, bool),
                              work_in_milan=np.ones(2, bool), work_in_area_c=np.zeros(2, bool),
                              car_available=np.ones(2, bool), mode_cfg=m_cfg, city_cfg=sc.city, policy=sc.policy)
    plan = commute.empty_plan(2, n_active_od=1, n_slots=1, n_networks=2)
    commute.update_plan(plan, np.arange(2), mode=np.array([CAR, MOTO], np.int8), slot=np.zeros(2, np.int8),
                        options=opt, paths_t0_min=np.array([t0]), transit_g_per_pkm=np.full(2, 50.0),
                        weight=np.ones(2), moto_g_per_km=100.0, car_occupancy=1.0, transit_access_min=8.0)
    veh, riders = commute.trips_today(plan, np.array([], dtype=np.int64))
    assert veh.tolist() == [[1.0]] and riders.sum() == 0  # the motorbike is not a car on the road
    day = commute.live_day(plan, np.array([], dtype=np.int64), od_min=np.array([[car_now]]), crowd=np.ones((2, 1)),
                           load=np.zeros((2, 1)), od_car_g=np.array([[3000.0]]), evening_factor=1.0,
                           crowding_threshold=0.8, car_occupancy=1.0)
    access = sc.city.car_access_min
    moto_one_way = (t0 + 0.4 * (car_now - t0)) / 1.25 + access
    assert day.round_trip_min[1] == pytest.approx(2 * moto_one_way)
    assert day.round_delay_min[1] == pytest.approx(2 * 0.4 * (car_now - t0) / 1.25)
    assert day.round_delay_min[0] == pytest.approx(2 * (car_now - t0))
    assert day.commute_kg[1] == pytest.approx(2 * dist * 100.0 / 1000.0)  # its own factor, not the car's 3 kg
    assert day.commute_kg[0] == pytest.approx(2 * 3.0)


def test_staggered_hours_relieve_roads_and_trains():
    """Peak spreading: the staggered run's peak delay and transit peak load are below the baseline's."""
    base = run_small(days=10, counterfactual=False)[1]
    stag = run_small("policy.staggered_hours.enabled=true", "policy.staggered_hours.share_of_firms=0.5", days=10,
                     counterfactual=False)[1]
    assert stag["peak_extra_time"] < base["peak_extra_time"]
    assert stag["transit_peak_load"] < base["transit_peak_load"]


def test_link_kinds_are_the_schemas():
    sc = small()
    assert sorted(sc.traffic.commuter_share_of_peak_traffic) == sorted(LINK_KINDS)
    m = build_model(sc)
    assert m.city.link_kind.max() < len(LINK_KINDS)
