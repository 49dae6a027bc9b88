"""CO2 accounting: a remote day's home energy per household, marginal or average transit, the net CO2
split by season and the break-even by season at the car occupancy.

The figures of docs/validation.md ("A remote day's CO2") are recomputed here from the default
scenario's factors by plain arithmetic, independently of sim.behaviour.emissions.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.behaviour import emissions
from sim.outputs import co2_table
from sim.scenario.load import load_scenario

from .conftest import ROOT, run_small

MILAN = ROOT / "scenarios" / "milan_baseline.yaml"


@pytest.fixture(scope="module")
def milan():
    return load_scenario(MILAN)


def _by_hand(e, occ):
    """Home kg and break-even km of each household of the table, from the factors (heating, other)."""
    ws = e.workstation_kwh * e.grid_kg_per_kwh
    rest = e.home_electricity_kwh * e.grid_kg_per_kwh
    heat = e.home_heating_kwh * e.gas_kg_per_kwh
    c = e.centralised_heating_factor
    p_milan = e.one_person_share_milan + (1 - e.one_person_share_milan) * (1 - e.other_adult_home_share)
    p_out = e.one_person_share_outside + (1 - e.one_person_share_outside) * (1 - e.other_adult_home_share)
    a_milan, a_out = 1 - e.centralised_share_milan, 1 - e.centralised_share_outside
    home = {
        "heating": [ws + rest + heat, ws + rest + c * heat, ws,
                    ws + p_milan * (rest + heat * (a_milan + (1 - a_milan) * c)),
                    ws + p_out * (rest + heat * (a_out + (1 - a_out) * c))],
        "other": [ws + rest, ws + rest, ws, ws + p_milan * rest, ws + p_out * rest],
    }
    extra = e.extra_trip_km_per_remote_day * e.car_urban_g_per_km / 1000
    car_kg_per_km = {1.0: 2 * e.car_urban_g_per_km / 1000, occ: 2 * e.car_urban_g_per_km / 1000 / occ}
    return home, extra, car_kg_per_km


def test_the_table_recomputed_by_hand(milan):
    e, occ = milan.emissions, milan.mode.car_occupancy
    home, extra, per_km = _by_hand(e, occ)
    rows = co2_table.rows(milan)
    assert [r.season for r in rows] == ["heating"] * 5 + ["other"] * 5
    km = co2_table.REFERENCE_KM
    for i, r in enumerate(rows):
        h = home[r.season][i % 5]
        assert r.home_kg == pytest.approx(h, rel=1e-12)
        assert r.break_even_1 == pytest.approx((h + extra) / per_km[1.0], rel=1e-12)
        assert r.break_even_occ == pytest.approx((h + extra) / per_km[occ], rel=1e-12)
        assert r.net_car_1 == pytest.approx(h + extra - km * per_km[1.0], rel=1e-12)
        assert r.net_car_occ == pytest.approx(h + extra - km * per_km[occ], rel=1e-12)
        assert r.net_transit_marginal == pytest.approx(h - 2 * km * e.transit_marginal_g_per_pkm / 1000, rel=1e-12)
        assert r.net_transit_average == pytest.approx(h - 2 * km * e.transit_g_per_pkm / 1000, rel=1e-12)


def test_the_table_in_the_docs_is_the_one_the_code_makes(milan):
    doc = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    assert co2_table.markdown(milan) in doc, "regenerate: python -m sim.outputs.co2_table scenarios/milan_baseline.yaml"


def test_home_energy_orders_and_limits(milan):
    """A home heated anyway (someone at home, centralised heating with factor 0) costs only the
    workstation; outside the heating season the heating type does not matter; the expected household
    lies between the pure cases."""
    e = milan.emissions
    ws = e.workstation_kwh * e.grid_kg_per_kwh
    assert emissions.home_kg_per_remote_day(True, e, empty=0.0) == pytest.approx(ws)
    assert emissions.home_kg_per_remote_day(False, e, autonomous=0.0) == emissions.home_kg_per_remote_day(False, e)
    hh = emissions.household_shares(in_milan=np.array([True, False]), cfg=e)
    lo, hi = emissions.home_kg_per_remote_day(True, e, empty=0.0), emissions.home_kg_per_remote_day(True, e)
    mid = emissions.home_kg_per_remote_day(True, e, empty=hh.empty, autonomous=hh.autonomous)
    assert np.all((lo < mid) & (mid < hi))
    assert np.all((0 < hh.empty) & (hh.empty < 1) & (0 < hh.autonomous) & (hh.autonomous < 1))


def test_break_even_scales_with_occupancy_and_season(milan):
    e = milan.emissions
    home_h, home_o = emissions.home_kg_per_remote_day(True, e), emissions.home_kg_per_remote_day(False, e)
    for home in (home_h, home_o):
        assert emissions.break_even_km(home_kg=home, cfg=e, car_occupancy=2.0) == pytest.approx(
            2 * emissions.break_even_km(home_kg=home, cfg=e, car_occupancy=1.0))
    assert emissions.break_even_km(home_kg=home_h, cfg=e) > emissions.break_even_km(home_kg=home_o, cfg=e)


def test_transit_factor_by_accounting(milan):
    e = milan.emissions
    gateway = np.array([True, False])
    avg = emissions.transit_g_per_pkm(from_gateway=gateway, cfg=co2_table.replace_accounting(e, "average"))
    assert avg.tolist() == [e.regional_rail_g_per_pkm, e.transit_g_per_pkm]
    marg = emissions.transit_g_per_pkm(from_gateway=gateway, cfg=co2_table.replace_accounting(e, "marginal"))
    assert marg.tolist() == [e.transit_marginal_g_per_pkm] * 2
    assert e.transit_accounting == "marginal" and e.transit_marginal_g_per_pkm == 0.0  # the defaults


def test_bad_accounting_is_refused():
    from sim.scenario.load import ScenarioError

    with pytest.raises(ScenarioError, match="transit_accounting"):
        load_scenario(MILAN, ["emissions.transit_accounting=typical"])


# ------------------------------------------------------------------------------ in a run
SPANS_SEASONS = ("start=2025-04-01",)  # 20 workdays across the end of the heating season (15 April)


def test_net_co2_by_season_adds_up_to_the_net_co2():
    s = run_small(*SPANS_SEASONS, counterfactual=False)[1]
    heat, other = s["co2_net_heating_season_t"], s["co2_net_other_t"]
    assert heat > 0 and other > 0  # the period spans both
    assert heat + other == pytest.approx(s["co2_net_t"], rel=1e-12)
    for year in s["by_year"]:
        assert year["co2_net_heating_season_t"] + year["co2_net_other_t"] == pytest.approx(year["co2_net_t"], rel=1e-12)
    assert s["transit_accounting"] == "marginal"
    assert s["break_even_km_heating"] > s["break_even_km"] > s["break_even_km_other"] > 0


def test_accounting_changes_the_co2_counted_not_the_choices():
    """Average transit CO2 counts more commuting CO2 than the marginal 0 g/pkm, with the same trips; with
    every factor equal the two accountings are the same run."""
    marginal = run_small(*SPANS_SEASONS, counterfactual=False)[1]
    average = run_small(*SPANS_SEASONS, "emissions.transit_accounting=average", counterfactual=False)[1]
    assert average["car_vkm"] == marginal["car_vkm"]
    assert average["modal_split"] == marginal["modal_split"]
    assert average["co2_home_t"] == marginal["co2_home_t"]
    assert average["co2_commute_t"] > marginal["co2_commute_t"]
    assert average["transit_accounting"] == "average"
    same = ["emissions.transit_marginal_g_per_pkm=40", "emissions.transit_g_per_pkm=40",
            "emissions.regional_rail_g_per_pkm=40"]
    a = run_small(*SPANS_SEASONS, *same, "emissions.transit_accounting=average", counterfactual=False)[1]
    m = run_small(*SPANS_SEASONS, *same, counterfactual=False)[1]
    assert a["co2_commute_t"] == m["co2_commute_t"]


@pytest.mark.parametrize("start, heating", [("2025-01-07", True), ("2025-05-06", False)])
def test_home_co2_of_a_run_is_the_expected_household_by_hand(start, heating):
    """Each worker's home CO2 over a run inside one season is their remote days times the kg of their
    expected household, computed by hand from where they live (plus the extra car trips of car owners)."""
    from sim.prepare import build_model

    from .conftest import small

    sc = small(f"start={start}", days=10)
    m = build_model(sc)
    m.run()
    assert all(r["heating_season"] == heating for r in m.metrics.rows)
    e = sc.emissions
    in_milan = m.city.in_milan[m.population.home]
    alone = np.where(in_milan, e.one_person_share_milan, e.one_person_share_outside)
    empty = alone + (1 - alone) * (1 - e.other_adult_home_share)
    aut = 1 - np.where(in_milan, e.centralised_share_milan, e.centralised_share_outside)
    heat = e.home_heating_kwh * e.gas_kg_per_kwh * (aut + (1 - aut) * e.centralised_heating_factor) if heating else 0.0
    kg = e.workstation_kwh * e.grid_kg_per_kwh + empty * (e.home_electricity_kwh * e.grid_kg_per_kwh + heat)
    kg = kg + m.population.car_available * e.extra_trip_km_per_remote_day * e.car_urban_g_per_km / 1000
    days = m.metrics.remote_days
    assert days.sum() > 0
    np.testing.assert_allclose(m.metrics.co2_home_kg, days * kg, rtol=1e-12, atol=1e-12)
