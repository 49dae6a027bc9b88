"""The app's logic without a browser: levers read from the schema, lever errors in the schema's words,
runs against the baseline with the right KPI directions, reuse of an earlier baseline, the city map,
the live model and ``run.py app``'s bad input."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from pydantic import BaseModel

pytest.importorskip("solara", reason="the app extra is not installed: pip install -e '.[app]'")

from sim.app.levers import NOT_CONTROLS, apply_levers, changed_levers, lever_values, levers, mark_edited, scenario_files  # noqa: E402
from sim.app.live import live_figure, live_model, remote_today_by_zone, series  # noqa: E402
from sim.app.runs import (baseline_for, cost_model, expected_wait_of, find_run, list_runs, map_figure,  # noqa: E402
                          run_against_baseline, zone_map_data)
from sim.outputs.kpis import HEADLINE, label  # noqa: E402
from sim.outputs.maps import NO_WORKERS  # noqa: E402
from sim.outputs.zones import zone_geometry  # noqa: E402
from sim.scenario.load import load_scenario  # noqa: E402
from sim.scenario.schema import PolicyConfig  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "milan_baseline.yaml"


def _leaves(model: type[BaseModel], prefix: str) -> list[str]:
    out = []
    for key, info in model.model_fields.items():
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            out += _leaves(info.annotation, f"{prefix}.{key}")
        elif key not in NOT_CONTROLS:  # a lever's timing and the SME cap are written in scenario files
            out.append(f"{prefix}.{key}")
    return out


def test_every_policy_key_is_a_lever_with_the_schemas_words():
    by_path = {lv.path: lv for lv in levers()}
    assert list(by_path) == _leaves(PolicyConfig, "policy")
    assert "policy.sme_support.start" not in by_path and "policy.sme_support.innovation_multiplier" in by_path
    fare = by_path["policy.transit_fare_eur"]
    info = PolicyConfig.model_fields["transit_fare_eur"]
    assert (fare.kind, fare.unit, fare.meaning, fare.source) == ("float", "EUR/trip", info.description,
                                                                 info.json_schema_extra["source"])
    assert (fare.minimum, fare.maximum) == (0, 50)
    assert by_path["policy.remote_days.floor"].kind == "int"
    assert (by_path["policy.remote_days.floor"].minimum, by_path["policy.remote_days.floor"].maximum) == (0, 5)
    assert by_path["policy.sme_support.enabled"].kind == "switch"
    assert by_path["policy.smart_working"].choices == typing.get_args(PolicyConfig.model_fields["smart_working"].annotation)
    assert by_path["policy.sme_support.classes"].choices == ("micro", "small", "medium")
    cap = by_path["policy.transit_capacity_factor"]  # gt=0: the slider starts one step above 0
    assert cap.min_exclusive and cap.slider_min == pytest.approx(cap.step) and cap.range_text() == ">0 to 10"


def test_slider_steps_hold_every_default_exactly():
    # a slider whose grid misses the default would move the value on its own when the page is drawn
    for lv in levers():
        if lv.kind == "float":
            assert lv.default / lv.step == pytest.approx(round(lv.default / lv.step), abs=1e-9), lv.path


def test_scenario_files_put_the_baseline_first_and_leave_sweeps_out():
    files = scenario_files(ROOT / "scenarios")
    assert files[0].name == "milan_baseline.yaml"
    assert not any("sweeps" in p.parts for p in files)
    assert {p.name for p in files} >= {"sme_support.yaml", "staggered_hours.yaml", "all_remote.yaml"}


def test_bad_lever_values_get_the_schemas_message_next_to_their_lever():
    values = lever_values(load_scenario(BASELINE))
    bad = {**values, "policy.transit_fare_eur": "-1", "policy.area_c_charge_eur": "abc"}
    sc, errors = apply_levers(BASELINE, bad)
    assert sc is None
    assert errors == {"policy.transit_fare_eur": "input should be greater than or equal to 0; got -1",
                      "policy.area_c_charge_eur": "input should be a valid number, unable to parse string as a number; got 'abc'"}
    # a check across two levers goes to the lever its message names first
    sc, errors = apply_levers(BASELINE, {**values, "policy.remote_days.floor": 3, "policy.remote_days.cap": 2})
    assert errors == {"policy.remote_days.floor": "policy.remote_days.floor (3) must not exceed policy.remote_days.cap (2)"}
    # the run's size
    sc, errors = apply_levers(BASELINE, values, scale=0)
    assert errors == {"run": "input should be greater than 0; got 0"}


def test_valid_levers_give_the_scenario_and_an_edited_name():
    file_values = lever_values(load_scenario(BASELINE))
    values = {**file_values, "policy.remote_days.floor": "2", "policy.sme_support.classes": ["micro"]}
    sc, errors = apply_levers(BASELINE, values, seed=7, days=10, scale=0.01)
    assert errors == {} and sc.policy.remote_days.floor == 2 and sc.policy.sme_support.classes == ["micro"]
    assert (sc.seed, sc.days, sc.scale) == (7, 10, 0.01)
    changed = changed_levers(file_values, values, sc)
    assert changed == {"policy.remote_days.floor": (0, 2), "policy.sme_support.classes": (["micro", "small", "medium"], ["micro"])}
    edited = mark_edited(sc, changed)
    assert edited.name == "milan_baseline_edited" and "policy.remote_days.floor: 0 -> 2" in edited.description
    assert mark_edited(sc, {}) is sc


def test_the_baseline_is_milan_at_the_same_seed_and_size_or_the_same_city_without_levers():
    sme = load_scenario(ROOT / "scenarios" / "sme_support.yaml", seed=9, days=20, scale=0.02)
    base = baseline_for(sme)
    assert (base.name, base.seed, base.days, base.scale) == ("milan_baseline", 9, 20, 0.02)
    assert not base.policy.sme_support.enabled
    csv = load_scenario(ROOT / "scenarios" / "examples" / "csv_city.yaml", scale=0.5, days=5)
    csv_base = baseline_for(csv)
    assert csv_base.city == csv.city and csv_base.policy == PolicyConfig()
    assert csv_base.name == csv.name + "_default_levers"


@pytest.fixture(scope="module")
def floor_run(tmp_path_factory):
    """A remote-days floor of 2 against the baseline: 0.5% sample, 20 workdays."""
    results = tmp_path_factory.mktemp("results")
    values = {**lever_values(load_scenario(BASELINE)), "policy.remote_days.floor": 2}
    sc, errors = apply_levers(BASELINE, values, days=20, scale=0.005)
    assert not errors
    seen = []
    res = run_against_baseline(sc, results, progress=lambda frac, what: seen.append((frac, what)))
    return results, sc, res, seen


def test_a_remote_days_floor_moves_the_cards_the_expected_way(floor_run):
    _, _, res, seen = floor_run
    cards = {c["kpi"]: c for c in res.cards}
    assert cards["remote_share"]["direction"] == 1 and cards["remote_share"]["diff"] > 0
    for kpi in ("car_vkm", "co2_commute_t", "commute_hours_per_worker", "delay_hours"):
        assert cards[kpi]["direction"] == -1 and cards[kpi]["verdict"] == 1, kpi
    assert cards["co2_home_t"]["direction"] == 1 and cards["co2_home_t"]["verdict"] == -1
    assert list(cards) == [k for k in HEADLINE if k in cards]  # in the headline order
    assert all(c["label"] == label(k) for k, c in cards.items())  # the report's words (the KPI registry's)
    c = cards["car_vkm"]
    assert c["diff"] == pytest.approx(c["value"] - c["baseline"]) and c["diff_pct"] == pytest.approx(100 * c["diff"] / c["baseline"])
    assert not res.baseline_reused and res.folder != res.baseline_folder
    fracs = [f for f, _ in seen]
    assert fracs == sorted(fracs) and fracs[-1] == 1.0 and seen[-1][1] == "done"
    assert any("baseline" in what for _, what in seen)


def test_an_earlier_baseline_is_found_and_reused(floor_run):
    results, sc, res, _ = floor_run
    assert find_run(results, baseline_for(sc), 1) == res.baseline_folder
    assert find_run(results, baseline_for(sc), 2) is None  # other replications: not the same baseline
    assert find_run(results, baseline_for(sc).model_copy(update={"seed": 43}), 1) is None
    names = {r.folder for r in list_runs(results)}
    assert names == {res.folder, res.baseline_folder}
    # the baseline itself, asked for again: nothing runs, nothing is written, every card is unchanged
    again = run_against_baseline(baseline_for(sc), results)
    assert again.baseline_reused and again.folder == again.baseline_folder == res.baseline_folder
    assert {c["direction"] for c in again.cards} == {0} and len(again.cards) == len(HEADLINE)
    assert {r.folder for r in list_runs(results)} == names


def test_the_expected_wait_is_fitted_on_the_runs_of_this_machine(floor_run, tmp_path):
    results, sc, res, _ = floor_run
    assert cost_model(tmp_path) is None and expected_wait_of(sc, tmp_path, 1, None) is None  # no run yet: not known
    model = cost_model(results)
    assert model.runs_fitted == len(list_runs(results)) == 2
    again = expected_wait_of(sc, results, 1, model)  # the baseline is there: only the scenario runs again
    assert again.runs == 1 and not again.calibrates  # the floor run cached its calibration
    fresh = expected_wait_of(sc, results, 2, model)  # no baseline of 2 seeds: it runs too
    assert fresh.runs == 2 and fresh.seconds > again.seconds
    assert expected_wait_of(baseline_for(sc), results, 1, model).seconds == 0.0  # that very run is there
    # fitted on the floor run's two folders, the estimate of doing it all again is of the measured wait's size
    # (which also holds the imports and the report, not in the fit)
    assert 0.3 * res.seconds < fresh.seconds < 3 * res.seconds


def test_replications_give_the_cards_a_95_percent_interval(tmp_path):
    values = {**lever_values(load_scenario(BASELINE)), "policy.remote_days.floor": 2}
    # 15 workdays: three weeks of the calendar (10 from 7 January 2025 hold only two planned weeks, one of four
    # days, and two seeds' t interval, t = 12.7, then reached just below 0 though both seeds' differences were > 0)
    sc, _ = apply_levers(BASELINE, values, days=15, scale=0.002)
    res = run_against_baseline(sc, tmp_path, replications=2)
    card = {c["kpi"]: c for c in res.cards}["remote_share"]
    assert card["ci95_low"] is not None and card["ci95_low"] <= card["diff"] <= card["ci95_high"]
    assert card["ci95_low"] > 0  # two remote days a week for everyone allowed: up in both seeds


def _patches(fig) -> int:
    """Zones drawn on the first map panel: patches of its coloured and hatched collections."""
    ax = next(a for a in fig.axes if any(c.get_gid() in ("zones", "no_data") for c in a.collections))
    return sum(len(c.get_paths()) for c in ax.collections if c.get_gid() in ("zones", "no_data"))


def test_the_city_map_puts_each_zones_value_on_its_polygon(floor_run):
    _, sc, res, _ = floor_run
    data = zone_map_data(res.folder, "remote_share")
    zones = pq.read_table(res.folder / "by_zone.parquet").to_pydict()
    drawn = np.array([g is not None for g in data.geoms])
    assert len(data.geoms) == len(zones["zone"]) and drawn.sum() > 40
    # each polygon lies where its zone is: around its centroid
    around = [g.bounds[0] <= x <= g.bounds[2] and g.bounds[1] <= y <= g.bounds[3]
              for g, x, y in zip(data.geoms, zones["x_km"], zones["y_km"]) if g is not None]
    assert np.mean(around) > 0.9
    lived_in = np.array(zones["workers"]) > 0
    assert (lived_in & drawn).sum() > 20 and (~lived_in & drawn).any()  # a small run: some zones without residents
    assert data.values[lived_in] == pytest.approx(100 * np.array(zones["remote_share"])[lived_in])
    assert np.isnan(data.values[~lived_in]).all()  # "no data", not 0
    fig = map_figure(data)
    assert _patches(fig) == drawn.sum()
    assert any("(% of worker-days)" in a.get_ylabel() for a in fig.axes)  # the colour bar says its unit
    assert NO_WORKERS in [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    vc = zone_map_data(res.folder, "peak_vc")
    assert np.nanmax(vc.values) > 0 and np.isfinite(vc.values[drawn]).mean() > 0.9  # zones have roads
    with pytest.raises(ValueError, match="map metric must be one of"):
        zone_map_data(res.folder, "nope")


def test_the_city_map_shows_the_change_from_the_baseline(floor_run):
    _, _, res, _ = floor_run
    data = zone_map_data(res.folder, "remote_share", baseline=res.baseline_folder)
    run, base = (pq.read_table(f / "by_zone.parquet").to_pydict() for f in (res.folder, res.baseline_folder))
    both = (np.array(run["workers"]) > 0) & (np.array(base["workers"]) > 0)
    change = 100 * (np.array(run["remote_share"]) - np.array(base["remote_share"]))
    assert data.values[both] == pytest.approx(change[both])
    enough = ~data.too_few & both
    assert enough.sum() > 5 and (data.values[enough] > 0).all()  # a floor of 2 remote days: up where it can be told
    fig = map_figure(data)
    assert any(a.get_ylabel() == "change in remote share (percentage points)" for a in fig.axes)
    ax = next(a for a in fig.axes if any(c.get_gid() == "zones" for c in a.collections))
    coloured = next(c for c in ax.collections if c.get_gid() == "zones")
    assert coloured.norm.vmin == -coloured.norm.vmax
    drawn = np.array([g is not None for g in data.geoms])
    assert len(coloured.get_paths()) == (enough & drawn).sum()


def test_the_live_model_stops_after_its_days():
    sc = load_scenario(BASELINE, days=3, scale=0.002)
    m = live_model(sc)
    for _ in range(5):
        m.step()
    assert m.day == 3 and not m.running and len(m.metrics.rows) == 3
    s = series(m)
    assert set(s) == {"remote_share", "car_trip_share", "peak_extra_time", "mean_stress"}
    assert all(len(v) == 3 for v in s.values()) and (0 < s["car_trip_share"]).all() and (s["car_trip_share"] < 1).all()


@pytest.mark.parametrize("smart_working, share", [("all_remote", 1.0), ("off", 0.0)])
def test_the_live_map_at_the_limits(smart_working, share):
    sc = load_scenario(ROOT / "scenarios" / "examples" / "grid_city.yaml", days=2, scale=0.002)  # the grid's cell map
    sc = sc.model_copy(update={"policy": sc.policy.model_copy(update={"smart_working": smart_working})})
    m = live_model(sc)
    m.step()
    today = remote_today_by_zone(m)
    lived_in = np.bincount(m.population.home, minlength=m.city.n_zones) > 0
    assert len(today) == m.city.n_zones and np.isnan(today[~lived_in]).all()  # nobody there: no data, not 0
    assert lived_in.any() and (today[lived_in] == share).all()
    fig = live_figure(m)
    assert len(fig.axes) == 6  # four series, the map and its colour bar
    assert _patches(fig) == sum(g is not None for g in zone_geometry(m.city))


@pytest.mark.parametrize("args, message", [
    (["--port", "0"], "error: --port: expected a port number 1-65535, got 0\n"),
    (["--port", "70000"], "error: --port: expected a port number 1-65535, got 70000\n"),
])
def test_run_py_app_rejects_a_bad_port(args, message):
    out = subprocess.run([sys.executable, str(ROOT / "run.py"), "app", *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stderr == message and out.stdout == ""


def test_run_py_app_rejects_a_taken_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = subprocess.run([sys.executable, str(ROOT / "run.py"), "app", "--port", str(port)],
                             capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stderr.startswith(f"error: --port: 127.0.0.1:{port} is not free")


def test_compare_table_of_several_runs_in_both_languages(tmp_path):
    """Earlier runs: a table of runs x headline KPIs (registry formats), the later runs' change from the first."""
    import re

    from sim.app.page import DEFAULT_REPLICATIONS, RUN_BUDGET_S, compare_lines

    from .conftest import BASELINE as GRID, TINY
    from sim.outputs import kpis
    from sim.runner import run_and_write

    folders = []
    for i, extra in enumerate(([], ["policy.sme_support.enabled=true"], ["policy.area_c_charge_eur=12"])):
        folder, _ = run_and_write(load_scenario(GRID, [*TINY, *extra], days=3), tmp_path / f"r{i}", argv=["test"])
        folders.append(folder)
    for lg in ("en", "it"):
        lines = compare_lines(folders, lg)
        assert len(lines) == 2 + 3  # header, rule, one row per run
        assert kpis.label(kpis.HEADLINE[0], lg) in lines[0]
        assert lines[2].startswith("| `r0`") and lines[3].startswith("| `r1`") and lines[4].startswith("| `r2`")
        assert lines[4].count("<br>") == lines[0].count("|") - 2  # every KPI of a later run has its change
    assert re.search(r"\d,\d", " ".join(compare_lines(folders, "it")[2:]))  # decimal commas in Italian
    assert DEFAULT_REPLICATIONS == 2 and RUN_BUDGET_S > 0
