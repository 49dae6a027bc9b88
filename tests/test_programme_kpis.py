"""The Comune's programme KPIs computed by the model: SME smart-working uptake and corporate-welfare coverage."""

from __future__ import annotations

import numpy as np

from sim.scenario.schema import SIZE_CLASSES

from .conftest import run_small


def _summary(*overrides: str, days: int = 10) -> dict:
    return run_small(*overrides, days=days, counterfactual=False)[1]


def test_welfare_coverage_follows_the_lever():
    assert _summary()["welfare_coverage_share"] == 0.0  # no programme, nobody covered
    model, s = run_small("policy.corporate_welfare.enabled=true", days=10, counterfactual=False)
    pop, cov = model.population, model.scenario.policy.corporate_welfare.coverage
    # the coverage of each worker's employer size class, averaged over the workers (a binomial share of ~10,000)
    expected = float(np.average([getattr(cov, SIZE_CLASSES[c]) for c in pop.worker_class], weights=pop.weight))
    assert abs(s["welfare_coverage_share"] - expected) < 0.02, (s["welfare_coverage_share"], expected)
    everyone = [f"policy.corporate_welfare.coverage.{k}=0.8" for k in SIZE_CLASSES]
    more = _summary("policy.corporate_welfare.enabled=true", *everyone)
    assert abs(more["welfare_coverage_share"] - 0.8) < 0.02 and more["welfare_coverage_share"] > s["welfare_coverage_share"]


def test_sme_uptake_at_the_targets_and_at_the_limits():
    s = _summary()
    # the Osservatorio's 8% of SME workers allowed (the baseline's adoption.target_allowed_share)
    assert 0.04 < s["sme_allowed_share"] < 0.12, s["sme_allowed_share"]
    assert 0.0 < s["sme_firms_adopting_share"] < 0.5
    sizes = [s["adoption_by_size"][k] for k in ("micro", "small", "medium")]
    assert min(sizes) - 1e-9 <= s["sme_allowed_share"] <= max(sizes) + 1e-9  # a weighted mean of the classes
    off = _summary("policy.smart_working=off")
    assert off["sme_allowed_share"] == 0.0 and off["sme_firms_adopting_share"] == 0.0
    assert _summary("policy.smart_working=all_remote")["sme_firms_adopting_share"] == 1.0


def test_one_most_congested_road_for_the_table_and_the_map():
    """The KPI is the congestion map's darkest road: the highest link of the workday-mean peak v/c."""
    model, s = run_small(days=10, counterfactual=False)
    links = model.metrics.links()
    assert s["peak_vc_max"] == max(links["peak_vc_mean"])
    daily_max = max(model.metrics.daily()["peak_vc_max"])  # the worst single day is higher, or equal
    assert daily_max >= s["peak_vc_max"] > 0
