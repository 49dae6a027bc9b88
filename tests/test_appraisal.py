"""The appraisal in euros: parts add up, discounting, unit values in the report and comparison.json."""

from __future__ import annotations

import json

import pytest

from sim.outputs.appraisal import BENEFITS, COSTS, appraise, co2_price
from sim.scenario.load import load_scenario

from .conftest import BASELINE

KEYS = {"costs_eur", "benefits_eur", "npv_eur", "bcr", "eur_per_t_co2_avoided", "eur_per_hour_saved", "eur_per_woman_kept"}


def _year(year, first_date, *, hours, delay, vkm, co2, quits_w, small, days=250):
    return {"year": year, "first_date": first_date, "days": days, "commute_hours_per_worker": hours,
            "delay_hours": delay, "car_vkm": vkm, "co2_net_t": co2, "quits_women_per_1000": quits_w,
            "adoption_by_size": {"micro": 0.08, "small": small, "medium": 0.08, "large": 0.53, "public": 0.17}}


def _summary(years):
    return {"workers": 1000.0, "by_year": years}


def test_co2_price_interpolates_between_the_eib_years():
    prices = {2025: 165.0, 2030: 250.0}
    assert co2_price(prices, 2027) == pytest.approx(165 + 2 * (250 - 165) / 5)
    assert co2_price(prices, 2020) == 165.0 and co2_price(prices, 2040) == 250.0 and co2_price(prices, 2030) == 250.0


def test_parts_add_up_to_the_npv_and_later_years_are_discounted():
    sc = load_scenario(BASELINE, ["policy.sme_support.enabled=true"])
    base = _summary([_year(1, "2025-01-07", hours=200, delay=5e4, vkm=1e6, co2=1000, quits_w=4.0, small=0.08),
                     _year(2, "2026-01-07", hours=200, delay=5e4, vkm=1e6, co2=1000, quits_w=4.0, small=0.08)])
    # the same saving in both years: year 2 is worth 1/(1+r) of year 1
    run = _summary([_year(1, "2025-01-07", hours=190, delay=4e4, vkm=9e5, co2=900, quits_w=3.0, small=0.10),
                    _year(2, "2026-01-07", hours=190, delay=4e4, vkm=9e5, co2=900, quits_w=3.0, small=0.10)])
    a = appraise(base=base, run=run, scenario=sc)
    assert KEYS <= set(a) and set(a["costs_eur"]) == set(COSTS) and set(a["benefits_eur"]) == set(BENEFITS)
    assert a["npv_eur"] == pytest.approx(sum(a["benefits_eur"].values()) - sum(a["costs_eur"].values()), rel=1e-12)
    assert a["bcr"] == pytest.approx(sum(a["benefits_eur"].values()) / sum(a["costs_eur"].values()))
    y1, y2 = a["by_year"]
    r = sc.appraisal.discount_rate
    assert y2["discount_factor"] == pytest.approx(1 / (1 + r))
    assert y1["benefits_eur"]["commute_time"] == pytest.approx(10 * 1000 * sc.appraisal.value_of_time_eur_per_h)
    assert a["benefits_eur"]["commute_time"] == pytest.approx(y1["benefits_eur"]["commute_time"] * (1 + 1 / (1 + r)))
    # CO2 at each calendar year's price: 2026's is higher than 2025's
    assert y2["benefits_eur"]["co2"] > y1["benefits_eur"]["co2"] > 0
    assert a["co2_avoided_t"] == pytest.approx(200) and a["hours_saved"] == pytest.approx(20_000)
    assert a["eur_per_t_co2_avoided"] == pytest.approx(sum(a["costs_eur"].values()) / 200)
    assert a["costs_eur"]["sme_support"] > 0 and a["costs_eur"]["corporate_welfare"] == 0


def test_a_run_equal_to_its_baseline_costs_and_gains_nothing():
    sc = load_scenario(BASELINE, [])
    same = _summary([_year(1, "2025-01-07", hours=200, delay=5e4, vkm=1e6, co2=1000, quits_w=4.0, small=0.08)])
    a = appraise(base=same, run=same, scenario=sc)
    assert a["npv_eur"] == 0 and a["bcr"] is None and a["eur_per_t_co2_avoided"] is None
    assert all(v == 0 for v in a["costs_eur"].values()) and all(v == 0 for v in a["benefits_eur"].values())


def test_welfare_costs_follow_the_levers_start():
    """A welfare lever starting half-way through the year costs about half of a lever on all year."""
    y = [_year(1, "2025-01-07", hours=200, delay=5e4, vkm=1e6, co2=1000, quits_w=4.0, small=0.08)]
    full = appraise(base=_summary(y), run=_summary(y),
                    scenario=load_scenario(BASELINE, ["policy.corporate_welfare.enabled=true"]))
    half = appraise(base=_summary(y), run=_summary(y),
                    scenario=load_scenario(BASELINE, ["policy.corporate_welfare.enabled=true",
                                                      "policy.corporate_welfare.start=2025-07-07"]))
    ratio = half["costs_eur"]["corporate_welfare"] / full["costs_eur"]["corporate_welfare"]
    assert 0.45 < ratio < 0.55


def test_comparison_json_and_report_carry_the_appraisal(report_runs, tmp_path):
    from sim.outputs.compare import read_sources, write_comparison
    from sim.outputs.report import write_report
    base, sme = report_runs
    table = write_comparison(tmp_path, read_sources([base, sme]))
    block = json.loads((tmp_path / "comparison.json").read_text(encoding="utf-8"))["appraisal"]["sme_on"]
    assert KEYS <= set(block)
    assert block["npv_eur"] == pytest.approx(sum(block["benefits_eur"].values()) - sum(block["costs_eur"].values()))
    assert "appraisal sme_on vs baseline" in table
    html = write_report([base, sme], tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="appraisal"' in html and "Costs and benefits" in html
    for needle in ("appraisal.value_of_time_eur_per_h", "EIB Group Climate Bank Roadmap", "Boushey &amp; Glynn 2012",
                   "Guide to Cost-Benefit Analysis"):
        assert needle in html, needle
