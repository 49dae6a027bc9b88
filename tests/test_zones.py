"""Outputs by real zone: the by-place tables (by zone, Municipio, comune) and the maps drawn from polygons.

Run on the small grid city labelled like Milan (tests/zones_city.py): NIL in Municipi, comuni of two
provinces, a MultiPolygon zone and a zone without residents.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from matplotlib.figure import Figure
from shapely.geometry import box

from sim.behaviour.mode_choice import CAR
from sim.outputs.maps import NO_WORKERS, ZONE_METRICS, milan_zones, zone_map
from sim.outputs.plots import zone_map_figure, _Run
from sim.outputs.zones import read_geometry
from tests.zones_city import milan_like_run
SUMS = ("workers", "workers_sampled", "car_trips", "car_vkm", "co2_commute_t", "co2_home_t")


@pytest.fixture(scope="module")
def milan_run(tmp_path_factory):
    """A 5-day run on the Milan-like grid, as a model and as a results folder."""
    return milan_like_run(tmp_path_factory.mktemp("zones") / "milan_like")


def _table(folder: Path, name: str) -> dict:
    return pq.read_table(folder / f"{name}.parquet").to_pydict()


# ------------------------------------------------------------------------------------------ tables
def test_by_zone_names_every_zone_and_adds_up_to_the_summary(milan_run):
    model, folder, empty = milan_run
    z = _table(folder, "by_zone")
    city = model.city
    assert len(z["zone"]) == city.n_zones
    for col in ("zone_id", "zone_name", "municipio", "comune", "province", "car_share", "workers_sampled"):
        assert col in z, col
    assert z["zone_id"] == city.zone_code and z["zone_name"] == city.names
    assert z["municipio"] == city.municipio.tolist() and z["comune"] == city.comune
    assert z["zone_id"][0] != "cell_0_0" and any(c.startswith("NIL_") for c in z["zone_id"])
    summary = json.loads((folder / "summary.json").read_text())
    assert sum(z["workers"]) == pytest.approx(summary["workers"], rel=1e-12)
    assert sum(z["workers_sampled"]) == summary["workers_sampled"]
    assert z["workers"][empty] == 0 and z["workers_sampled"][empty] == 0


def test_car_share_is_each_zones_car_trips_over_its_trips(milan_run):
    model, folder, _ = milan_run
    z = _table(folder, "by_zone")
    pop, trips = model.population, model.metrics.mode_trips
    share = np.array(z["car_share"])
    assert ((share >= 0) & (share <= 1)).all()
    checked = 0
    for zone in range(model.city.n_zones):  # zone by zone, from each resident's office trips by mode
        live_here = pop.home == zone
        all_trips = float((pop.weight[live_here][:, None] * trips[live_here]).sum())
        if all_trips == 0:
            assert share[zone] == 0
            continue
        car = float((pop.weight[live_here] * trips[live_here, CAR]).sum())
        assert share[zone] == pytest.approx(car / all_trips, rel=1e-12)
        assert z["car_trips"][zone] == pytest.approx(car, rel=1e-12)
        checked += 1
    assert checked > 20
    assert 0 < min(s for s, w in zip(share, z["workers"]) if w > 0) < max(share)  # shares differ by zone


@pytest.mark.parametrize("table, key", [("by_municipio", "municipio"), ("by_comune", "comune")])
def test_groups_add_up_to_their_zones_and_shares_are_ratios_of_totals(milan_run, table, key):
    _, folder, _ = milan_run
    z, g = _table(folder, "by_zone"), _table(folder, table)
    if key == "municipio":
        zone_group = [m if m > 0 else None for m in z["municipio"]]
        labels = g["municipio"]
        assert labels == sorted(labels) and set(labels) <= set(range(1, 10))
    else:  # a comune within its province
        zone_group = [("Milano", "MI") if m > 0 else ((c, p) if c else None)
                      for m, c, p in zip(z["municipio"], z["comune"], z["province"])]
        labels = list(zip(g["comune"], g["province"]))
        assert labels[0] == ("Milano", "MI") and g["zones"][0] == sum(m > 0 for m in z["municipio"])
        assert g["zone_names"][0] == f"{g['zones'][0]} zones"
        provinces = [p for _, p in labels[1:]]
        assert provinces == sorted(provinces, key=lambda p: (p != "MI", p))  # the province of Milan first
    assert sorted(labels, key=str) == sorted({x for x in zone_group if x is not None}, key=str)
    means_differ = False
    for i, label in enumerate(labels):
        rows = [j for j, x in enumerate(zone_group) if x == label]
        assert g["zones"][i] == len(rows)
        for col in SUMS:
            assert g[col][i] == pytest.approx(sum(z[col][j] for j in rows), rel=1e-9, abs=1e-9), (label, col)
        w = np.array([z["workers_employed"][j] for j in rows])
        remote = np.array([z["remote_share"][j] for j in rows])
        # a group's remote share is its workers' remote days over their workdays: the mean weighted by the
        # employed workers (a vacant position, between a quitter and the new hire, works no day)
        assert g["remote_share"][i] == pytest.approx((w * remote).sum() / w.sum(), rel=1e-9)
        car = np.array([z["car_trips"][j] for j in rows])
        assert g["car_share"][i] == pytest.approx(car.sum() / sum(z["car_trips"][j] / z["car_share"][j]
                                                                 for j in rows if z["car_share"][j] > 0), rel=1e-9)
        means_differ |= abs(g["remote_share"][i] - remote[w > 0].mean()) > 1e-6
    assert means_differ  # the test can tell a ratio of totals from a mean of the zones' means
    assert sum(g["workers"]) == pytest.approx(sum(w for w, x in zip(z["workers"], zone_group) if x is not None))


def test_the_grid_city_has_no_municipio_or_comune_tables(report_runs):
    base, _ = report_runs
    assert not (base / "by_municipio.parquet").exists() and not (base / "by_comune.parquet").exists()
    z = _table(base, "by_zone")
    assert set(z["municipio"]) == {0} and set(z["comune"]) == {""}
    assert z["zone_id"] == z["zone_name"] and "cell_3_3" in z["zone_id"]


# ------------------------------------------------------------------------------------------ maps
def _zone_collections(ax):
    return [c for c in ax.collections if c.get_gid() in ("zones", "no_data")]


def test_maps_draw_one_patch_per_zone_with_a_unit_and_no_data_hatched(milan_run):
    model, folder, empty = milan_run
    run = _Run(folder, json.loads((folder / "summary.json").read_text()), "milan_like")
    fig, zm = zone_map_figure(run, "car_share")
    with_polygon = sum(g is not None for g in model.city.geometry)
    main = zm.axes[0]
    assert sum(len(c.get_paths()) for c in _zone_collections(main)) == with_polygon
    grey = [c for c in main.collections if c.get_gid() == "no_data"]
    assert zm.no_data == len(grey[0].get_paths()) >= 1  # at least the zone without residents
    assert ZONE_METRICS["car_share"].no_data_label in [t.get_text() for t in zm.legend.get_texts()]
    assert "Comune di Milano" in [t.get_text() for t in zm.legend.get_texts()]
    assert zm.colorbar.ax.get_ylabel() == f"car share ({ZONE_METRICS['car_share'].unit})"
    coloured = next(c for c in main.collections if c.get_gid() == "zones")
    z = _table(folder, "by_zone")
    lived_in = (np.array(z["workers_sampled"]) > 0) & np.array([g is not None for g in model.city.geometry])
    assert sorted(coloured.get_array()) == pytest.approx(sorted(100 * np.array(z["car_share"])[lived_in]))
    # the MultiPolygon zone is one patch with both of its parts
    codes = [p.codes for c in _zone_collections(main) for p in c.get_paths()]
    assert sum((c == 1).sum() == 2 for c in codes) == 1  # MOVETO twice: two rings


def test_a_share_of_no_trips_is_no_data_not_zero(tmp_path):
    model, folder, _ = milan_like_run(tmp_path / "all_remote", days=2, overrides=("policy.smart_working=all_remote",))
    z = _table(folder, "by_zone")
    lived_in = np.array(z["workers"]) > 0
    assert lived_in.sum() > 20 and set(np.array(z["car_share"])[lived_in]) == {0.0}  # the table: no car trips
    assert np.isnan(ZONE_METRICS["car_share"].values(z)).all()  # the map: nobody commuted, no share to show
    remote = ZONE_METRICS["remote_share"].values(z)
    assert (remote[lived_in] == 100).all() and np.isnan(remote[~lived_in]).all()


def test_every_run_has_its_maps_by_home_zone(milan_run):
    _, folder, _ = milan_run
    for name in ("map_remote_share.png", "map_car_share.png", "congestion_map.png"):
        assert (folder / "plots" / name).read_bytes().startswith(b"\x89PNG"), name


def _ring_city(n_nil: int = 4):
    """Four 1-km NIL in the middle of a ring of 10-km comuni, one comune without data."""
    nil = [box(x, y, x + 1, y + 1) for x in (-1, 0) for y in (-1, 0)][:n_nil]
    comuni = [box(x, y, x + 10, y + 10) for x in (-15, -5, 5) for y in (-15, -5, 5) if (x, y) != (-5, -5)]
    geoms = nil + comuni + [None]  # a gateway: not drawn
    values = np.r_[np.linspace(10, 40, n_nil), np.linspace(20, 60, len(comuni)), 5.0]
    values[n_nil + 2] = np.nan
    milan = np.r_[np.ones(n_nil, bool), np.zeros(len(comuni) + 1, bool)]
    return geoms, values, milan


def test_a_small_comune_di_milano_gets_its_own_panel():
    geoms, values, milan = _ring_city()
    fig = Figure(figsize=(8, 4), layout="constrained")
    zm = zone_map(fig, geoms=geoms, values=values, unit="% of trips", label="car share", milan=milan)
    assert len(zm.axes) == 2 and zm.axes[1].get_title(loc="left") == "Comune di Milano"
    x0, x1 = zm.axes[1].get_xlim()
    assert -1.2 < x0 < -1 and 1 < x1 < 1.2  # framed on the NIL
    for ax in zm.axes:  # both panels draw every zone with a polygon (12), the one without data hatched
        assert sum(len(c.get_paths()) for c in _zone_collections(ax)) == 12
    assert zm.no_data == 1
    lo, hi = zm.colorbar.mappable.norm.vmin, zm.colorbar.mappable.norm.vmax
    assert (lo, hi) == (0.0, 60.0)  # shares start at 0; the gateway's value is not on the map
    one = Figure(layout="constrained")
    assert len(zone_map(one, geoms=geoms, values=values, unit="%", label="x", milan=milan, zoom=False).axes) == 1
    nothing_missing = Figure(layout="constrained")
    full = zone_map(nothing_missing, geoms=geoms, values=np.nan_to_num(values), unit="%", label="x", milan=milan)
    assert full.no_data == 0 and NO_WORKERS not in [t.get_text() for t in full.legend.get_texts()]


def test_diverging_maps_are_centred_on_zero():
    geoms, values, milan = _ring_city()
    fig = Figure(layout="constrained")
    zm = zone_map(fig, geoms=geoms, values=values - 30, unit="pp", label="change", milan=milan, diverging=True)
    norm = zm.colorbar.mappable.norm
    assert norm.vmin == -norm.vmax == -30.0  # |60 - 30| is the largest change drawn


def test_milan_zones_are_the_nil_or_the_grids_municipality():
    assert milan_zones({"municipio": [0, 3, 9], "kind": ["hinterland"] * 3}).tolist() == [False, True, True]
    assert milan_zones({"municipio": [0, 0, 0], "kind": ["core", "municipality", "gateway"]}).tolist() == \
        [True, True, False]
    assert read_geometry(None) == []


def test_a_comune_name_is_one_row_per_province():
    from sim.outputs.zones import comune_groups

    class City:  # two zones that each stand for "12 comuni", in two provinces; a comune of two zones
        municipio = np.array([1, 2, 0, 0, 0, 0])
        comune = ["Milano", "Milano", "12 comuni", "12 comuni", "Monza", "Monza"]
        province = ["MI", "MI", "BG", "PV", "MB", "MB"]
        names = ["Duomo", "Brera", "rest of BG", "rest of PV", "Monza centro", "Monza nord"]

    g = comune_groups(City())
    assert g.columns["comune"] == ["Milano", "12 comuni", "Monza", "12 comuni"]
    assert g.columns["province"] == ["MI", "BG", "MB", "PV"]
    assert g.of_zone.tolist() == [0, 0, 1, 3, 2, 2] and g.zones.tolist() == [2, 1, 2, 1]
    assert g.columns["zone_names"] == ["Duomo; Brera", "rest of BG", "Monza centro; Monza nord", "rest of PV"]
