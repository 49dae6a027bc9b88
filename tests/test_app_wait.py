"""The app's expected wait (sim/app/wait.py): fitted on earlier runs' manifests, added up for what Run runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from sim.app.runs import SAMPLE_CHOICES, ANSWER_WITHIN_S, default_sample, sampled_workers
from sim.app.wait import CostModel, RunCost, expected_wait, rounds, run_cost
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "milan_baseline.yaml"


def _cost(workers: int, days: float, a: float, b: float, c: float, d: float) -> RunCost:
    return RunCost(workers=workers, days_per_process=days, simulate_s=days * (a + b * workers), write_s=c + d * workers)


@settings(max_examples=50, deadline=None)
@given(a=st.floats(0.0, 0.5), b=st.floats(1e-8, 1e-5), c=st.floats(0.0, 10.0), d=st.floats(0.0, 1e-4))
def test_the_fit_recovers_the_costs_it_was_made_from(a, b, c, d):
    costs = [_cost(w, days, a, b, c, d) for w, days in ((13_810, 500), (69_048, 500), (138_098, 40), (1_380_979, 250))]
    model = CostModel.fit(costs)
    for workers in (5_000, 500_000, 4_000_000):
        assert model.seconds_per_day(workers) == pytest.approx(a + b * workers, rel=1e-6, abs=1e-9)
        assert model.seconds_to_write(workers) == pytest.approx(c + d * workers, rel=1e-6, abs=1e-9)
    assert model.runs_fitted == 4


def test_one_size_only_is_taken_as_proportional_and_no_cost_is_negative():
    model = CostModel.fit([_cost(10_000, 500, 0.05, 1e-6, 3.0, 0.0)] * 3)
    assert model.seconds_per_day(10_000) == pytest.approx(0.06)
    assert model.seconds_per_day(20_000) == pytest.approx(0.12) and model.seconds_per_day(0) == 0.0
    # larger runs cheaper per day than smaller ones (noise): the slope is held at 0, not made negative
    odd = CostModel.fit([_cost(10_000, 500, 0.2, 0.0, 3.0, 0.0), _cost(100_000, 500, 0.1, 0.0, 2.0, 0.0)])
    assert odd.day_s[0] >= 0 and odd.day_s[1] == 0.0 and odd.write_s[1] == 0.0
    assert CostModel.fit([]) is None


def test_seeds_share_the_cores_in_rounds():
    assert [rounds(n, 2) for n in (1, 2, 3, 4, 8)] == [1, 1, 2, 2, 4]
    assert [rounds(n, 1) for n in (1, 2, 4)] == [1, 2, 4]


MODEL = CostModel(day_s=(0.02, 2e-7), write_s=(3.0, 1e-6), runs_fitted=5)


def test_the_wait_adds_up_what_run_runs():
    sc = load_scenario(BASELINE, days=250, scale=0.05)
    w = 69_000

    def wait(**kw):
        return expected_wait(MODEL, sc, workers=w, cores=2, **{"replications": 2, "runs": 1, "calibrated": True, **kw})

    one = wait()
    per_day = 0.02 + 2e-7 * w
    assert one.seconds == pytest.approx(500 * per_day + 3.0 + 1e-6 * w)  # the year and its counterfactual, then the folder
    assert wait(runs=2).seconds == pytest.approx(2 * one.seconds)
    assert wait(replications=4).seconds == pytest.approx(one.seconds + 500 * per_day)  # a second round of seeds
    assert wait(replications=1).seconds == pytest.approx(one.seconds)  # two seeds on two cores: no longer than one
    cold = wait(calibrated=False)
    assert cold.calibrates and cold.seconds == pytest.approx(one.seconds + sc.calibration.warm_up_weeks * 5 * per_day)
    nothing = wait(runs=0, calibrated=False)
    assert nothing.seconds == 0.0 and not nothing.calibrates
    off = expected_wait(MODEL, sc.model_copy(update={"policy": sc.policy.model_copy(update={"smart_working": "off"})}),
                        workers=w, replications=2, runs=1, calibrated=True, cores=2)
    assert off.seconds == pytest.approx(250 * per_day + 3.0 + 1e-6 * w)  # no counterfactual year


def test_a_manifest_without_its_figures_is_not_fitted_on():
    manifest = {"started": "2026-12-02T21:40:32+00:00", "finished": "2026-12-02T21:40:44+00:00", "wall_seconds": 9.1,
                "workers_sampled": 13_810, "days": 250}
    cost = run_cost(manifest, {"policy": {"smart_working": "model"}}, replications=2, cores=2)
    assert cost == RunCost(workers=13_810, days_per_process=500, simulate_s=9.1, write_s=pytest.approx(2.9))
    assert run_cost(manifest, {"policy": {"smart_working": "off"}}, replications=4, cores=2).days_per_process == 500
    for key in manifest:
        assert run_cost({k: v for k, v in manifest.items() if k != key}, {}, 1, 2) is None, key
    assert run_cost({**manifest, "finished": manifest["started"]}, {}, 1, 2).write_s == 0.0  # never negative
    assert run_cost({**manifest, "started": "yesterday"}, {}, 1, 2) is None


def test_the_default_sample_is_the_largest_expected_within_the_limit():
    sc = load_scenario(BASELINE)
    assert default_sample(sc, 2, None) == SAMPLE_CHOICES[0]  # no run to time yet: the smallest
    instant = CostModel(day_s=(0.0, 1e-12), write_s=(0.0, 0.0), runs_fitted=1)
    assert default_sample(sc, 2, instant) == 1.0
    slow = CostModel(day_s=(1.0, 0.0), write_s=(0.0, 0.0), runs_fitted=1)
    assert default_sample(sc, 2, slow) == SAMPLE_CHOICES[0]
    fast = CostModel(day_s=(0.002, 2e-8), write_s=(1.0, 0.0), runs_fitted=1)
    share = default_sample(sc, 2, fast)
    assert share == 0.2  # 20%: about 9.5 s with its baseline; 50%: about 18 s
    sized = sc.model_copy(update={"scale": share})
    within = expected_wait(fast, sized, workers=sampled_workers(sized), replications=2, runs=2, calibrated=True)
    assert within.seconds <= ANSWER_WITHIN_S
    larger = [s for s in SAMPLE_CHOICES if s > share]
    if larger:
        nxt = sc.model_copy(update={"scale": larger[0]})
        assert expected_wait(fast, nxt, workers=sampled_workers(nxt), replications=2, runs=2,
                             calibrated=True).seconds > ANSWER_WITHIN_S
