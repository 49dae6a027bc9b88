"""Runs over years: state kept across years, levers that start later, the reference on timed levers."""

from __future__ import annotations

import numpy as np
import pytest

from sim.prepare import build_model, prepare
from sim.reference import run_reference
from sim.scenario.load import load_scenario

from .conftest import BASELINE, SMALL, small
from .test_reference import _assert_same_run, _scenario

YEAR_2 = "2026-01-06"  # the run starts 2025-01-06: the second year of the run starts here
LEVERS_FROM_YEAR_2 = ["policy.sme_support.enabled=true", f"policy.sme_support.start={YEAR_2}",
                      "policy.corporate_welfare.enabled=true", f"policy.corporate_welfare.start={YEAR_2}",
                      "policy.flexible_hours.enabled=true", f"policy.flexible_hours.start={YEAR_2}",
                      "policy.staggered_hours.enabled=true", f"policy.staggered_hours.start={YEAR_2}",
                      "policy.remote_days.floor=3", f"policy.remote_days.start={YEAR_2}"]


def _two_years(*overrides):
    return load_scenario(BASELINE, [*SMALL, "scale=0.5", *overrides], years=2)


@pytest.fixture(scope="module")
def two_year_runs():
    base_sc = _two_years()
    inputs = prepare(base_sc)  # one calibration for both: the baseline's
    base = build_model(base_sc, inputs)
    base.run()
    pol = build_model(_two_years(*LEVERS_FROM_YEAR_2), inputs)
    pol.run()
    return base, pol


def test_a_lever_starting_in_year_two_has_no_effect_in_year_one(two_year_runs):
    base, pol = two_year_runs
    b, p = base.metrics.daily(), pol.metrics.daily()
    year = np.array(b["year"])
    assert set(year.tolist()) == {0, 1} and b["year"] == p["year"]
    first = int((year == 0).sum())
    for key in b:
        assert b[key][:first] == p[key][:first], f"year 1 differs in {key}"
    # and it acts in year 2: more SME adoption, a floor of remote days, welfare cover
    assert np.mean(p["allowed_small"][first:]) > np.mean(b["allowed_small"][first:])
    assert np.mean(p["remote_share"][first:]) > np.mean(b["remote_share"][first:])
    assert np.any(pol.welfare_cut > 0) and not np.any(base.welfare_cut > 0)


def test_state_carries_across_years(two_year_runs):
    """Year 2 starts from year 1's end: no reset of stress, adoption or learnt times at the boundary."""
    base, _ = two_year_runs
    d = base.metrics.daily()
    year = np.array(d["year"])
    last, first = int(np.nonzero(year == 0)[0][-1]), int(np.nonzero(year == 1)[0][0])
    assert first == last + 1
    # stress is an exponential average: one day moves it by at most 1/memory of the gap to the day's strain
    jump = abs(d["mean_stress"][first] - d["mean_stress"][last])
    typical = np.median(np.abs(np.diff(d["mean_stress"])))
    assert jump < 10 * typical + 1e-9
    assert abs(d["allowed_small"][first] - d["allowed_small"][last]) < 0.05


@pytest.mark.slow
def test_reference_follows_ramping_levers_and_holidays():
    """Levers that start mid-run, ramp and end; the run crosses Easter Monday (the week opens on a Tuesday)."""
    overrides = ["start=2025-04-01",
                 "policy.sme_support.enabled=true", "policy.sme_support.start=2025-04-10", "policy.sme_support.ramp_months=1",
                 "policy.sme_support.firms_per_year=100",
                 "policy.corporate_welfare.enabled=true", "policy.corporate_welfare.start=2025-04-08",
                 "policy.corporate_welfare.ramp_months=0.5", "policy.corporate_welfare.end=2025-05-12",
                 "policy.flexible_hours.enabled=true", "policy.flexible_hours.start=2025-04-15",
                 "policy.flexible_hours.ramp_months=1",
                 "policy.staggered_hours.enabled=true", "policy.staggered_hours.start=2025-04-22",
                 "policy.staggered_hours.ramp_months=0.7",
                 "policy.remote_days.floor=3", "policy.remote_days.cap=4", "policy.remote_days.start=2025-04-08",
                 "policy.remote_days.ramp_months=1"]
    days = 40
    sc = _scenario(overrides, days=days)
    fast = build_model(sc)
    fast.run(days)
    ref, _ = run_reference(sc, fast.calibration, days, city=fast.city, population=fast.population)
    _assert_same_run(fast, ref, days)
    assert 0 < fast.levels["flexible_hours"] <= 1 and fast.levels["corporate_welfare"] == 0.0  # ramped; ended
    assert fast.enrolled.sum() == 100 and [f.enrolled for f in ref.firm_list] == fast.enrolled.tolist()



def test_baseline_trend_moves_the_targets_by_year():
    from sim.behaviour import adoption
    sc = load_scenario(BASELINE, [*SMALL])
    tele = sc.population.teleworkable_share_by_class()
    t0, t3 = adoption.target_firm_share(sc, 0), adoption.target_firm_share(sc, 3)
    for k, cls in enumerate(("micro", "small", "medium", "large", "public")):
        trend = sc.adoption.trend_per_year[cls]
        assert t0[k] == pytest.approx(sc.adoption.target_allowed_share[cls] / tele[cls])
        assert (t3[k] < t0[k]) if trend < 0 else (t3[k] > t0[k])  # SMEs fall, large firms and the PA rise
    # the return to the office rises where the target falls (a lower steady state)
    r0, r3 = adoption.steady_state_return_probability(sc, 0), adoption.steady_state_return_probability(sc, 3)
    assert r3[1] > r0[1] and r3[4] < r0[4]
    # never above the teleworkable share
    steep = load_scenario(BASELINE, [*SMALL, "adoption.trend_per_year.large=0.5"])
    assert adoption.target_firm_share(steep, 10)[3] == pytest.approx(1.0)


def test_the_trend_shows_in_a_two_year_run():
    """Micro firms (a thousand on the small city: enough for a stable share) with a falling trend and without."""
    flat_set = [f"adoption.trend_per_year.{k}=0" for k in ("micro", "small", "medium", "large", "public")]
    inputs = prepare(_two_years())
    runs = {}
    for name, micro in (("flat", "0"), ("falling", "-0.4")):
        runs[name] = build_model(_two_years(*flat_set, f"adoption.trend_per_year.micro={micro}"), inputs)
        runs[name].run()
    f, d = runs["flat"].metrics.daily(), runs["falling"].metrics.daily()
    year = np.array(f["year"])
    first = int((year == 0).sum())
    assert f["allowed_micro"][:first] == d["allowed_micro"][:first]  # the trend starts in year 2
    assert np.mean(d["allowed_micro"][first:]) < np.mean(f["allowed_micro"][first:]) - 0.005


@pytest.mark.slow
def test_reference_follows_the_trend_into_year_two():
    """A run of a year and two months on the small test city: the trend's second year, fast model = reference."""
    days = 290
    sc = _scenario(["adoption.trend_per_year.public=0.4", "adoption.trend_per_year.small=-0.4"], days=days)
    fast = build_model(sc)
    fast.run(days)
    ref, _ = run_reference(sc, fast.calibration, days, city=fast.city, population=fast.population)
    _assert_same_run(fast, ref, days)
    assert max(fast.metrics.daily()["year"]) == 1


def test_year_one_kpis_equal_the_baselines_and_years_add_up(two_year_runs):
    base, pol = two_year_runs
    yb, yp = base.metrics.by_year(), pol.metrics.by_year()
    assert [y["year"] for y in yb] == [1, 2] and yb[1]["first_date"] >= "2026-01-06"
    assert yb[0] == yp[0]  # every KPI of year 1, exactly
    assert yp[1]["adoption_by_size"]["small"] > yb[1]["adoption_by_size"]["small"]
    whole = base.metrics.summary()
    assert sum(y["days"] for y in yb) == whole["days"]
    for key in ("car_vkm", "co2_commute_t", "co2_home_t", "delay_hours", "car_vehicle_hours"):
        assert sum(y[key] for y in yb) == pytest.approx(whole[key], rel=1e-12), key
    assert sum(y["mean_stress"] * y["days"] for y in yb) / whole["days"] == pytest.approx(whole["mean_stress"], rel=1e-12)
    # the remote share is remote worker-days over employed worker-days (a vacant position is nobody): the years
    # weighted by their employed worker-days (from the daily table) give the whole run's
    employed = [sum(r["women_employed"] + r["men_employed"] for r in base.metrics.rows if r["year"] == y["year"] - 1)
                for y in yb]
    assert (sum(y["remote_share"] * e for y, e in zip(yb, employed)) / sum(employed)
            == pytest.approx(whole["remote_share"], rel=1e-12))
    assert min(y["remote_share"] for y in yb) < whole["remote_share"] < max(y["remote_share"] for y in yb)
    for seg in whole["modal_split_by_segment"]:
        assert sum(yb[0]["modal_split_by_segment"][seg].values()) == pytest.approx(1.0)


def test_yearly_parquet_has_a_row_per_year_and_every_kpi(tmp_path):
    import pyarrow.parquet as pq

    from sim.outputs.replications import flatten_kpis
    from sim.runner import run_and_write
    sc = load_scenario(BASELINE, [*SMALL, "scale=0.2", "start=2025-11-03"], days=60)  # a year of the run is 12 months from the start
    path, summary = run_and_write(sc, tmp_path / "run", argv=["test"])
    table = pq.read_table(path / "yearly.parquet").to_pydict()
    assert table["year"] == [1] and table["days"] == [60]
    assert set(flatten_kpis(summary)) <= set(table)  # every whole-run KPI has its yearly column
    assert table["car_vkm"][0] == pytest.approx(summary["car_vkm"])
    assert summary["by_year"][0]["first_date"] == "2025-11-03"


@pytest.fixture(scope="module")
def two_year_folder(tmp_path_factory):
    from sim.runner import run_and_write
    from .conftest import TINY
    sc = load_scenario(BASELINE, [*TINY, "scale=0.3", "policy.sme_support.enabled=true",
                                  f"policy.sme_support.start={YEAR_2}", "policy.sme_support.ramp_months=6"], years=2)
    path, summary = run_and_write(sc, tmp_path_factory.mktemp("horizon") / "two_years", argv=["test"])
    return path, summary


@pytest.mark.slow
def test_a_run_over_years_leads_its_report_with_the_trajectory(two_year_folder):
    import pyarrow.parquet as pq
    path, summary = two_year_folder
    assert pq.read_table(path / "yearly.parquet").to_pydict()["year"] == [1, 2]
    assert (path / "plots" / "trajectory_by_year.png").stat().st_size > 10_000
    html = (path / "report.html").read_text(encoding="utf-8")
    assert html.index('id="trajectory"') < html.index('id="what"') < html.index('id="kpis"')
    assert "SME support from 6 January 2026" in html  # the lever named as the catalogue does (timed_lever.*)
    assert f"Year 2 ({summary['by_year'][1]['first_date'][:4]})" in html


def test_a_one_year_run_has_no_trajectory(report_runs):
    base, _ = report_runs
    assert not (base / "plots" / "trajectory_by_year.png").exists()
    assert 'id="trajectory"' not in (base / "report.html").read_text(encoding="utf-8")


def test_a_capped_sme_programme_supports_at_most_its_firms_a_year():
    inputs = prepare(small(days=120))
    runs = {}
    for name, extra in (("off", []), ("cap0", ["policy.sme_support.enabled=true", "policy.sme_support.firms_per_year=0"]),
                        ("cap", ["policy.sme_support.enabled=true", "policy.sme_support.firms_per_year=150"]),
                        ("all", ["policy.sme_support.enabled=true"])):
        runs[name] = build_model(small(*extra, days=120), inputs)
        runs[name].run()
    assert runs["cap0"].metrics.daily() == runs["off"].metrics.daily()  # no firm supported: no effect at all
    assert runs["cap"].enrolled.sum() == 150 and not runs["all"].enrolled.any()  # one year: one intake
    sme = runs["cap"].population.firm_class <= 2
    assert sme[runs["cap"].enrolled].all()
    adopted = {k: m.adopted[sme].sum() for k, m in runs.items()}
    assert adopted["off"] < adopted["cap"] < adopted["all"]
