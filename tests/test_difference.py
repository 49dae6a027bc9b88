"""Difference maps by home zone: policy minus baseline from two results folders, zones with too few
sampled workers hatched, and the report's section with more than one run."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from sim.outputs.difference import (DIFFERENCE_METRICS, ZoneMismatch, difference_figure, group_differences,
                                    zone_difference)
from sim.outputs.maps import MIN_SAMPLED_WORKERS, TOO_FEW
from sim.outputs.report import write_report
from tests.zones_city import milan_like_run


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The Milan-like grid, 10 days: the baseline and a remote-days floor of 2 (same seed)."""
    root = tmp_path_factory.mktemp("difference")
    _, base, _ = milan_like_run(root / "base", days=10, scale=1.0)
    _, floor, _ = milan_like_run(root / "floor", days=10, scale=1.0, overrides=("policy.remote_days.floor=2",))
    return base, floor


def _zones(folder):
    return pq.read_table(folder / "by_zone.parquet").to_pydict()


def test_the_difference_is_the_policy_minus_the_baseline_zone_by_zone(two_runs):
    b, p = (_zones(f) for f in two_runs)
    diff, too_few = zone_difference(b, p, "remote_share")
    sampled = np.minimum(b["workers_sampled"], p["workers_sampled"])
    assert (too_few == (sampled < MIN_SAMPLED_WORKERS)).all() and too_few.any() and (~too_few).sum() > 10
    ok = np.array(b["workers"]) > 0
    assert diff[ok] == pytest.approx(100 * (np.array(p["remote_share"]) - np.array(b["remote_share"]))[ok])
    assert np.isnan(diff[~ok]).all()
    # a floor of two remote days never lowers a zone's remote share, and raises it in almost every zone
    # with enough workers to tell (not where every allowed resident already works two days at home)
    assert (diff[~too_few] >= 0).all() and np.mean(diff[~too_few] > 0) > 0.9
    car, _ = zone_difference(b, p, "car_trips_per_worker")
    per_worker = lambda t: np.array(t["car_trips"])[ok] / np.array(t["workers"])[ok]  # noqa: E731
    assert car[ok] == pytest.approx(per_worker(p) - per_worker(b))
    assert np.nansum(car[~too_few] * np.array(b["workers"])[~too_few]) < 0  # fewer car commutes overall
    with pytest.raises(ZoneMismatch, match="not on the same zones"):
        zone_difference(b, {**p, "zone_id": list(reversed(p["zone_id"]))}, "remote_share")


def test_difference_maps_hatch_the_zones_with_too_few_workers(two_runs):
    b, p = (_zones(f) for f in two_runs)
    _, too_few = zone_difference(b, p, "mean_stress")
    fig = difference_figure(b, p, "mean_stress", base_label="baseline", other_label="floor 2")
    ax = next(a for a in fig.axes if any(c.get_gid() == "zones" for c in a.collections))
    drawn = np.array([g is not None for g in (b["geometry_wkb"])])
    grey = next(c for c in ax.collections if c.get_gid() == "no_data")
    coloured = next(c for c in ax.collections if c.get_gid() == "zones")
    assert len(grey.get_paths()) == (too_few & drawn).sum() and len(coloured.get_paths()) == (~too_few & drawn).sum()
    assert coloured.norm.vmin == -coloured.norm.vmax  # centred on no change
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert TOO_FEW.format(n=MIN_SAMPLED_WORKERS) in labels
    assert any(a.get_ylabel() == "change in mean stress (points on the 0-10 scale)" for a in fig.axes)
    share = difference_figure(b, p, "remote_share", base_label="baseline", other_label="floor 2")
    assert any(a.get_ylabel() == "change in remote share (percentage points)" for a in share.axes)


def test_the_report_has_difference_maps_only_with_two_runs(two_runs, tmp_path):
    page = write_report(list(two_runs), tmp_path / "two.html").read_text(encoding="utf-8")
    assert '<section id="differences">' in page and 'href="#differences"' in page
    for key in DIFFERENCE_METRICS:
        assert f"difference_{key}.png" in page, key
    assert "By Municipio, floor minus base" in page
    one = write_report([two_runs[0]], tmp_path / "one.html").read_text(encoding="utf-8")
    assert 'id="differences"' not in one


def test_municipio_differences_are_of_the_groups_totals(two_runs):
    b, p = (pq.read_table(f / "by_municipio.parquet").to_pydict() for f in two_runs)
    rows = group_differences(b, p, "municipio")
    assert [r["municipio"] for r in rows] == b["municipio"]
    for i, r in enumerate(rows):
        assert r["remote_share"] == pytest.approx(100 * (p["remote_share"][i] - b["remote_share"][i]))
        per = [t["car_trips"][i] / t["workers"][i] for t in (p, b)]
        assert r["car_trips_per_worker"] == pytest.approx(per[0] - per[1])
        assert r["remote_share"] > 0  # the floor raises every Municipio's remote share
