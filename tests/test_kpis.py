"""The KPI registry (sim/outputs/kpis.py): the keys a run produces are exactly the keys declared, every
declaration is complete, and the numbers are written the way a planner reads them."""

from __future__ import annotations

import math
import re

import pytest

from sim.outputs import kpis
from sim.outputs.kpis import (
    COUNTERFACTUAL,
    DESCRIPTORS,
    HEADLINE,
    KPIS,
    ROOTS,
    format_diff,
    format_pct_change,
    format_value,
    format_with_unit,
    label,
    ordered,
    stored_unit,
    unit,
)
from sim.outputs.replications import flatten_kpis
from sim.runner import simulate
from sim.scenario.load import load_scenario
from sim.scenario.schema import MODES, SEGMENTS, SIZE_CLASSES, TRANSIT_NETWORKS, WEEKDAYS

from .conftest import BASELINE, TINY


@pytest.fixture(scope="module")
def runs():
    """A tiny 5-day run (every weekday once) with its counterfactual, and the same without it."""
    sc = load_scenario(BASELINE, TINY, days=5)
    _, with_cf = simulate(sc)
    _, without_cf = simulate(sc, counterfactual=False)
    return with_cf, without_cf


def test_every_kpi_a_run_produces_is_declared_and_every_declared_kpi_is_produced(runs):
    summary, _ = runs
    produced = set(flatten_kpis(summary))
    assert produced - set(KPIS) == set(), "KPIs without a declaration in sim/outputs/kpis.py"
    assert set(KPIS) - produced == set(), "declared KPIs that no run produces"
    # and no top-level key escapes both lists (a new non-numeric section would)
    assert set(summary) - DESCRIPTORS - ROOTS == set()


def test_the_counterfactual_flag_names_exactly_the_kpis_a_run_without_it_lacks(runs):
    with_cf, without_cf = runs
    missing = set(flatten_kpis(with_cf)) - set(flatten_kpis(without_cf))
    assert missing == {k for k, v in KPIS.items() if v.needs_counterfactual}
    assert missing >= {"hours_saved_per_worker"}
    assert set(with_cf["counterfactual"]) == set(COUNTERFACTUAL)


def test_every_declaration_is_complete():
    assert list(HEADLINE) == [k for k in KPIS if KPIS[k].headline]  # declared in headline order
    assert len(HEADLINE) == 16 and len(set(HEADLINE)) == 16
    # the Comune's programme first (issue 17): SME uptake, women, corporate welfare, CO2, hours saved, stress
    first = [HEADLINE.index(k) for k in ("sme_allowed_share", "quits_women_per_1000", "welfare_coverage_share",
                                         "co2_net_t", "hours_saved_per_worker", "mean_stress")]
    assert first == sorted(first) and first[-1] < HEADLINE.index("remote_share")
    labels = [label(k) for k in KPIS]
    assert len(set(labels)) == len(labels), "two KPIs a planner cannot tell apart"
    for k, d in KPIS.items():
        assert d.key == k and d.better in ("lower", "higher", "neutral"), k
        assert d.label["en"] and d.unit["en"] and 0 <= d.decimals <= 4, k
        assert d.unit["en"].startswith("%") == d.share, k  # shares are shown in percent, nothing else is
    assert KPIS["car_vkm"].better == "lower" and KPIS["hours_saved_per_worker"].better == "higher"
    assert KPIS["modal_split.car"].better == "lower" and KPIS["modal_split.bike"].better == "higher"
    n_family = len(MODES) + len(SEGMENTS) * len(MODES) + len(SIZE_CLASSES) + len(WEEKDAYS)
    n_networks = len(TRANSIT_NETWORKS)  # transit_peak_load_by_network.urban / .regional
    assert sum("." in k for k in KPIS) == n_family + n_networks


def test_numbers_as_a_planner_reads_them():
    assert format_value("remote_share", 0.0668) == "6.68%"
    assert format_value("car_vkm", 1210000.0) == "1,210,000"
    assert format_value("co2_net_t", 12345.678) == "12,345.7"
    assert format_value("modal_split.car", 0.4) == "40.00%"
    assert format_value("car_vkm", None) == "n/a" and format_value("car_vkm", math.nan) == "n/a"
    assert format_value("mean_stress", 4.5678, (4.41, 4.72)) == "4.57 (4.41 to 4.72)"
    assert format_diff("remote_share", -0.0052) == "-0.52 pp"
    assert format_diff("car_vkm", 1234.4) == "+1,234" and format_diff("car_vkm", -0.2) == "0"
    assert format_diff("car_vkm", None) == ""
    assert format_pct_change(-10.0) == "-10.0%" and format_pct_change(0.0123) == "+0.012%"
    assert stored_unit("remote_share") == "0-1 of worker-days" and unit("remote_share") == "% of worker-days"
    assert format_with_unit("remote_share", 0.0668) == "6.68% of worker-days"
    assert format_with_unit("car_vkm", 1210000.0) == "1,210,000 vehicle-km, period total"


@pytest.mark.parametrize("key", sorted(KPIS))
def test_no_exponent_at_any_magnitude(key):
    for x in (0.0, 1e-9, 3.2e-5, 0.5, 7.0, 1234.5, 1.21e6, 9.9e11):
        for v in (x, -x):
            for text in (format_value(key, v), format_diff(key, v), format_value(key, v, (v - 1e-6, v + 1e-6))):
                assert "e" not in text.replace("pp", ""), (key, v, text)
                assert not re.match(r"[-+]0(\.0+)?(%| pp)?$", text), (key, v, text)  # no signed zero


def test_undeclared_keys_from_older_folders_still_read():
    assert label("some_new_total") == "some new total" and unit("some_new_total") == "-"
    assert format_value("some_new_total", 1.2e-5) == "0.00001200"
    assert ordered(["zz", "modal_split.car", "workers", "car_vkm", "remote_share"]) == \
        ["remote_share", "car_vkm", "workers", "modal_split.car", "zz"]
    with pytest.raises(KeyError, match="some_new_total: not a declared KPI"):
        kpis.kpi("some_new_total")


def test_an_interval_that_excludes_zero_never_shows_an_end_as_zero():
    assert kpis.format_interval("mean_stress", -0.031, -0.001) == "-0.031 to -0.001"
    assert kpis.format_interval("mean_stress", -0.031, 0.004) == "-0.03 to 0.00"  # includes 0: as it is
    assert kpis.format_interval("mean_stress", 0.12, 0.35) == "+0.12 to +0.35"
    assert kpis.format_interval("remote_share", 0.00001, 0.0002, "it") == "da +0,001 p.p. a +0,020 p.p."
