"""Air quality (issue 19, item 6): commuter NOx and PM2.5 by link speed, wear, by zone, and in the appraisal."""

from __future__ import annotations

import numpy as np
import pytest

from sim.behaviour.emissions import brake_speed_factor, car_pollutant_g_per_km, tyre_speed_factor
from sim.outputs.appraisal import BENEFITS, appraise
from sim.prepare import build_model
from sim.scenario.load import load_scenario
from sim.scenario.schema import EmissionsConfig, Scenario

from .conftest import ROOT

GRID = ROOT / "scenarios" / "examples" / "grid_city.yaml"
SMALL = ["population.workers_internal=1500", "population.workers_inbound=300", "city.grid_size=5", "scale=1.0", "days=10"]


def _run(*overrides):
    model = build_model(load_scenario(GRID, [*SMALL, *overrides]))
    model.run()
    return model


@pytest.fixture(scope="module")
def base():
    return _run()


def test_nox_per_km_falls_then_rises_with_speed():
    cfg = EmissionsConfig()
    nox = car_pollutant_g_per_km(np.array([5.0, 20.0, 45.0, 80.0, 130.0]), cfg)["nox"]
    assert nox[0] > nox[1] > nox[2] and nox[2] < nox[3] < nox[4]
    # equal to the urban factor at the reference speed
    assert car_pollutant_g_per_km(np.array(cfg.urban_reference_speed_kmh), cfg)["nox"] == pytest.approx(cfg.nox_urban_g_per_km)


def test_wear_speed_corrections_are_continuous_and_falling():
    v = np.array([39.999, 40.0, 90.0, 90.001, 95.0, 95.001])
    t, b = tyre_speed_factor(v), brake_speed_factor(v)
    assert t[0] == pytest.approx(t[1], abs=1e-3) and t[2] == pytest.approx(t[3], abs=2e-3)  # the guidebook rounds its coefficients
    assert b[0] == pytest.approx(b[1], abs=1e-3) and b[4] == pytest.approx(b[5], abs=1e-3)
    assert np.all(np.diff(tyre_speed_factor(np.linspace(0, 150, 50))) <= 0)
    assert np.all(np.diff(brake_speed_factor(np.linspace(0, 150, 50))) <= 0)


def test_by_zone_and_by_link_emissions_add_up_to_the_totals(base):
    s = base.metrics.summary()
    assert s["nox_t"] > 0 and s["pm25_wear_t"] > 0 and s["pm25_t"] == pytest.approx(s["pm25_exhaust_t"] + s["pm25_wear_t"])
    zones = base.metrics.groups()["by_zone"]
    assert sum(zones["nox_emitted_t"]) == pytest.approx(s["nox_t"], rel=1e-9)
    assert sum(zones["pm25_emitted_t"]) == pytest.approx(s["pm25_t"], rel=1e-9)
    links = base.metrics.links()
    assert all(x >= 0 for x in links["nox_kg"]) and sum(links["nox_kg"]) <= s["nox_t"] * 1000 * (1 + 1e-9)


def test_no_cars_no_motorbikes_no_extra_trips_no_pollution():
    m = _run("population.car_available_municipality=0", "population.car_available_outside=0",
             "emissions.extra_trip_km_per_remote_day=0", "emissions.moto_nox_g_per_km=0",
             "emissions.moto_pm25_exhaust_g_per_km=0", "emissions.moto_pm25_wear_g_per_km=0")
    s = m.metrics.summary()
    assert s["car_vkm"] == 0 and s["nox_t"] == 0 and s["pm25_t"] == 0


def test_wear_pm_is_proportional_to_the_wear_factors(base):
    double = _run("emissions.tyre_pm25_g_per_km=0.009", "emissions.brake_pm25_g_per_km=0.0058",
                  "emissions.moto_pm25_wear_g_per_km=0.0068")
    a, b = base.metrics.summary(), double.metrics.summary()
    assert b["car_vkm"] == a["car_vkm"]  # the factors change no choice
    assert b["pm25_wear_t"] == pytest.approx(2 * a["pm25_wear_t"], rel=1e-12)
    assert b["nox_t"] == a["nox_t"]


def _year(**kw):
    y = {"year": 1, "first_date": "2025-01-07", "days": 250, "workers": 1e5, "commute_hours_per_worker": 200,
         "delay_hours": 5e4, "car_vkm": 1e6, "co2_net_t": 1000, "quits_women_per_1000": 4.0, "nox_t": 10.0, "pm25_t": 1.0,
         "adoption_by_size": {"micro": 0.05, "small": 0.08, "medium": 0.2, "large": 0.5, "public": 0.3},
         "transit_pass_urban_share": 0.0, "transit_pass_regional_share": 0.0}
    y.update(kw)
    return y


def test_appraisal_values_nox_and_pm25_and_parts_add_up():
    sc = load_scenario(GRID, ["policy.sme_support.enabled=true"])
    base = {**_year(), "by_year": [_year()]}
    run_y = _year(commute_hours_per_worker=190, co2_net_t=900, nox_t=8.0, pm25_t=0.7,
                  adoption_by_size={"micro": 0.07, "small": 0.1, "medium": 0.2, "large": 0.5, "public": 0.3})
    run = {**run_y, "by_year": [run_y]}
    a = appraise(base=base, run=run, scenario=sc)
    assert set(a["benefits_eur"]) == set(BENEFITS)
    assert a["benefits_eur"]["nox"] == pytest.approx(2.0 * sc.appraisal.nox_eur_per_t)
    assert a["benefits_eur"]["pm25"] == pytest.approx(0.3 * sc.appraisal.pm25_eur_per_t)
    assert a["npv_eur"] == pytest.approx(sum(a["benefits_eur"].values()) - sum(a["costs_eur"].values()))
    # co2_price_scale multiplies the CO2 benefit only
    sc2 = Scenario.model_validate({**sc.model_dump(), "appraisal": {**sc.appraisal.model_dump(), "co2_price_scale": 2.0}})
    b = appraise(base=base, run=run, scenario=sc2)
    assert b["benefits_eur"]["co2"] == pytest.approx(2 * a["benefits_eur"]["co2"])
    assert b["benefits_eur"]["nox"] == a["benefits_eur"]["nox"]


def _with_replications(summary: dict, seeds: list[int], values: dict[str, list[float]]) -> dict:
    return {**summary, "replications": {"n": len(seeds), "seeds": seeds,
                                         "kpis": {k: {"mean": float(np.mean(v)), "values": v} for k, v in values.items()}}}


def test_appraisal_intervals_over_paired_seeds_contain_the_mean():
    from sim.outputs.appraisal import text_lines, with_intervals

    sc = load_scenario(GRID, ["policy.sme_support.enabled=true"])
    seeds = [1, 2, 3]
    base = _with_replications(_year(), seeds, {"co2_net_t": [1000.0, 1010.0, 990.0], "nox_t": [10.0, 10.2, 9.9]})
    run = _with_replications(_year(co2_net_t=900, nox_t=8.0, adoption_by_size={"micro": 0.07, "small": 0.1, "medium": 0.2,
                                                                                 "large": 0.5, "public": 0.3}),
                             seeds, {"co2_net_t": [900.0, 905.0, 880.0], "nox_t": [8.0, 8.5, 7.6],
                                     "adoption_by_size.micro": [0.07, 0.072, 0.068]})
    block = with_intervals(appraise(base=base, run=run, scenario=sc), base=base, run=run, scenario=sc)
    assert [p["seed"] for p in block["per_seed"]] == seeds
    iv = block["intervals"]["npv_eur"]
    per = [p["npv_eur"] for p in block["per_seed"]]
    assert iv["ci95_low"] <= iv["mean"] <= iv["ci95_high"] and iv["mean"] == pytest.approx(np.mean(per))
    assert iv["ci95_high"] - iv["ci95_low"] > 0
    # the headline is the seeds' mean, not the first seed's (the folder's own figures): the NPV is linear in
    # the KPIs, so the mean runs' NPV is the mean of the seeds' NPVs, and its parts still add up to it
    first = appraise(base=base, run=run, scenario=sc)["npv_eur"]
    assert block["npv_eur"] == pytest.approx(np.mean(per)) and block["npv_eur"] != pytest.approx(first)
    assert sum(block["benefits_eur"].values()) - sum(block["costs_eur"].values()) == pytest.approx(block["npv_eur"])
    assert "95%" in text_lines("sme", block, "en")[-1]
    # unpaired seeds: no intervals
    other = {**run, "replications": {**run["replications"], "seeds": [7, 8, 9]}}
    assert with_intervals(appraise(base=base, run=other, scenario=sc), base=base, run=other, scenario=sc)["intervals"] is None


def test_appraisal_sweep_validates_and_needs_its_baseline(tmp_path):
    from sim.scenario.load import ScenarioError
    from sim.sweep.spec import load_sweep

    sweep = load_sweep(ROOT / "scenarios" / "sweeps" / "appraisal_sobol.yaml")
    assert sweep.payload()["baseline_overrides"] == {"policy.sme_support.enabled": False}
    text = (ROOT / "scenarios" / "sweeps" / "appraisal_sobol.yaml").read_text(encoding="utf-8")
    text = text.replace("baseline_overrides:\n  policy.sme_support.enabled: false\n", "")
    text = text.replace("base: ../sme_support.yaml", f"base: {ROOT / 'scenarios' / 'sme_support.yaml'}")
    bad = tmp_path / "no_baseline.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match="needs a baseline to appraise each point against"):
        load_sweep(bad)
