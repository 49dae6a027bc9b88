"""run.py elasticities: paired runs on the baseline's calibration, arc elasticities against their ranges."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from sim import elasticities
from sim.behaviour.mode_choice import TRANSIT
from sim.cli import main
from sim.model import CommuteModel
from sim.prepare import prepare
from sim.scenario.load import load_scenario

from .conftest import BASELINE, TINY

WIDE = ["calibration.elasticities.car_km_car_time=[-5, 0]", "calibration.elasticities.transit_trips_fare=[-5, 0]"]


def _cli(*extra: str, out) -> int:
    args = ["elasticities", str(BASELINE), "--days", "20", "--quiet", "--out", str(out)]
    for o in [*TINY, *extra]:
        args += ["--set", o]
    return main(args)


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    out = tmp_path_factory.mktemp("elasticities")
    code = _cli(*WIDE, out=out)
    return code, json.loads((out / "elasticities.json").read_text(encoding="utf-8"))


def test_the_command_writes_both_elasticities_with_their_ranges_and_sources(measured):
    code, data = measured
    assert code == 0  # inside the (wide) ranges
    assert {"scenario", "seed", "scale", "days", "workers_sampled", "beta_time_per_min", "beta_cost_per_eur",
            "elasticities"} <= set(data)
    assert data["days"] == 20 and data["scenario"] == "grid_city"
    assert set(data["elasticities"]) == {"car_km_car_time", "transit_trips_fare"}
    for e in data["elasticities"].values():
        assert {"quantity", "step", "q0", "q1", "elasticity", "analytic_start", "low", "high", "inside", "source",
                "by_segment"} <= set(e)
        assert (e["low"], e["high"]) == (-5, 0) and e["inside"] is True
        assert e["source"] and e["source"] != "-"
        # the arc elasticity is what the two totals say
        assert e["elasticity"] == pytest.approx(math.log(e["q1"] / e["q0"]) / math.log(1 + e["step"]), rel=1e-12)


def test_dearer_cars_and_dearer_fares_lose_users(measured):
    _, data = measured
    for e in data["elasticities"].values():
        assert e["q1"] < e["q0"]
        assert e["elasticity"] < 0 and e["analytic_start"] < 0


def test_an_elasticity_outside_its_range_exits_1(tmp_path, capsys):
    code = _cli("calibration.elasticities.car_km_car_time=[-0.002, -0.001]", out=tmp_path)
    assert code == 1
    assert "OUTSIDE" in capsys.readouterr().out
    assert json.loads((tmp_path / "elasticities.json").read_text())["elasticities"]["car_km_car_time"]["inside"] is False


def test_a_bad_scenario_path_exits_2_with_one_message(tmp_path, capsys):
    missing = tmp_path / "nope.yaml"
    assert main(["elasticities", str(missing), "--quiet", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "nope.yaml" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_a_range_low_above_high_exits_2_naming_the_key(tmp_path, capsys):
    assert _cli("calibration.elasticities.transit_trips_fare=[-0.1, -0.6]", out=tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "transit_trips_fare" in err and "low < high" in err


def test_arc_elasticity():
    assert elasticities.arc(100.0, 90.0, 0.1) == pytest.approx(math.log(0.9) / math.log(1.1))
    assert elasticities.arc(0.0, 1.0, 0.1) is None


@pytest.fixture(scope="module")
def tiny_inputs():
    sc = load_scenario(BASELINE, TINY, days=20)  # the same calibration inputs as the command tests: one calibration
    return sc, prepare(sc)


def test_slower_cars_add_the_step_to_every_workers_own_car_time(tiny_inputs):
    sc, inputs = tiny_inputs
    model = CommuteModel(sc, inputs.calibration, city=inputs.city, population=inputs.population)
    before = elasticities.baseline_car_min(model).copy()
    extra = elasticities.slow_cars(model, 0.05)
    np.testing.assert_allclose(extra, 0.05 * before)
    np.testing.assert_allclose(elasticities.baseline_car_min(model), 1.05 * before)


def test_the_fare_step_raises_every_riders_fare_by_the_same_share(tiny_inputs):
    sc, inputs = tiny_inputs
    base = CommuteModel(sc, inputs.calibration, city=inputs.city, population=inputs.population)
    dear = CommuteModel(elasticities.fare_scenario(sc, 0.1), inputs.calibration, city=inputs.city,
                        population=inputs.population)
    np.testing.assert_allclose(dear.options.cost_terms_t[TRANSIT], 1.1 * base.options.cost_terms_t[TRANSIT])
    # and nothing else
    np.testing.assert_array_equal(np.delete(dear.options.cost_terms_t, TRANSIT, axis=0),
                                  np.delete(base.options.cost_terms_t, TRANSIT, axis=0))


def test_the_report_shows_the_elasticities_of_the_folder(report_runs, measured, tmp_path):
    from sim.outputs.report import write_report
    _, data = measured
    folder = tmp_path / "run"
    shutil.copytree(report_runs[0], folder)
    without = (write_report([folder], tmp_path / "without.html"), (tmp_path / "without.html").read_text())[1]
    (folder / "elasticities.json").write_text(json.dumps(data), encoding="utf-8")
    write_report([folder], tmp_path / "with.html")
    html = (tmp_path / "with.html").read_text()
    assert "Commuter car-km with respect to car travel time" in html
    assert "Transit trips with respect to the fare" in html
    assert "Commuter car-km with respect to car travel time" not in without


@pytest.mark.slow
def test_a_year_of_the_grid_measures_about_the_logit_elasticity(tmp_path):
    """Over a year habits have adjusted: the measured car-time elasticity is close to the logit's beta*T*(1-P)
    (the roads' feedback and the adjustment weeks make it a little smaller in size)."""
    sc = load_scenario(BASELINE, ["city.grid_size=9", "population.workers_internal=8000",
                                  "population.workers_inbound=2000"])
    e = elasticities.measure(sc)["elasticities"]["car_km_car_time"]
    assert 0.6 <= e["elasticity"] / e["analytic_start"] <= 1.1
