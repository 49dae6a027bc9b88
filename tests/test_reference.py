"""The fast model and the per-agent reference (the executable specification) give the same results.

Both are built from the same inputs (scenario, city, population, the calibration of the fast model's
constructor, the keyed random numbers) and run for the same days; the discrete state at the end must
be identical and every daily series equal to 1e-9. The cases switch on every lever and branch the
rules have: adoption with SME support, corporate welfare, staggered and flexible hours, quits and
replacements, transit crowding, a remote-day floor above the employer's cap (isolation strain), a
cold start, and the two limit regimes.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sim.model import CommuteModel
from sim.prepare import build_model
from sim.reference import ReferenceModel, run_reference
from sim.scenario.load import load_scenario
from sim.scenario.schema import parse_clock

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "examples" / "grid_city.yaml"
TEST_SIZE = ["population.workers_internal=3000", "population.workers_inbound=600", "city.grid_size=7", "scale=1.0"]
DAYS = 60
RTOL = ATOL = 1e-9

CASES = {
    "baseline": [],
    "sme_support_and_welfare": ["policy.sme_support.enabled=true", "policy.corporate_welfare.enabled=true"],
    # many quits (replacements), shifted and flexible start times
    "hours_and_quits": ["policy.staggered_hours.enabled=true", "policy.flexible_hours.enabled=true",
                        "wellbeing.target_quits_women_per_1000=200", "wellbeing.target_quits_men_per_1000=100"],
    # crowded trains (load above 0.8), four remote days for the allowed (over the employers' cap of 2);
    # transit CO2 at the average factors, some heat from centralised heating, days in and out of the
    # heating season (which ends on 15 April)
    "crowding_and_floor": ["policy.transit_capacity_factor=0.003", "policy.remote_days.floor=4",
                           "policy.sme_support.enabled=true", "emissions.transit_accounting=average",
                           "emissions.centralised_heating_factor=0.2", "start=2025-03-03"],
    # employer-paid transit passes ramping in from the fourth week (the options remade as coverage grows)
    "transit_pass": ["policy.welfare_transit_pass.enabled=true", "policy.welfare_transit_pass.share_of_employers=0.6",
                     "policy.welfare_transit_pass.start=2025-01-27", "policy.welfare_transit_pass.ramp_months=1"],
}


def _scenario(overrides, days=DAYS):
    return load_scenario(BASELINE, [*TEST_SIZE, f"days={days}", *overrides])


def _snapshot(cal) -> dict:
    """Copies of every array of a calibration (to prove the runs leave it untouched)."""
    r = cal.routes
    arrays = {
        "path_links.data": r.path_links.data, "path_links.indices": r.path_links.indices,
        "path_links.indptr": r.path_links.indptr,
        "od_km": r.od_km, "od_t0_min": r.od_t0_min, "asc": cal.asc,
        "background_peak_vph": cal.background_peak_vph, "road_capacity_factor": np.array(cal.road_capacity_factor),
        "transit_capacity_per_hour": cal.transit_capacity_per_hour,
        "h0": cal.h0, "return_prob": cal.return_prob, "learnt_car_min": cal.learnt_car_min,
        "learnt_crowd": cal.learnt_crowd, "initial_mode": cal.initial_mode, "initial_slot": cal.initial_slot,
        "initial_stress": cal.initial_stress,
    }
    return {k: None if v is None else np.array(v, copy=True) for k, v in arrays.items()}


def _assert_unchanged(before: dict, cal, who: str) -> None:
    after = _snapshot(cal)
    for k, v in before.items():
        if v is None:
            assert after[k] is None, f"{who} set calibration.{k}"
        else:
            assert_array_equal(after[k], v, err_msg=f"{who} modified calibration.{k} in place")


def _assert_same_run(fast: CommuteModel, ref: ReferenceModel, days: int) -> None:
    state = ref.state()
    # discrete state: identical
    assert_array_equal(np.array(state["mode"]), fast.mode, err_msg="mode")
    assert_array_equal(np.array(state["slot"]), fast.slot, err_msg="departure slot")
    assert_array_equal(np.array(state["remote_days"]), fast.remote_days, err_msg="remote days")
    assert_array_equal(np.array(state["remote_mask"], dtype=bool), fast.remote_mask, err_msg="remote weekdays")
    assert_array_equal(np.array(state["adopted"]), fast.adopted, err_msg="adopting firms")
    # continuous state
    assert_allclose(np.array(state["stress"]), fast.stress, rtol=RTOL, atol=ATOL, err_msg="stress")
    # the fast model keeps learnt times only for the OD pairs somebody commutes on
    assert_allclose(np.array(ref.learnt_car_min)[fast.active_od], fast.learnt_car_min, rtol=RTOL, atol=ATOL,
                    err_msg="learnt car times")
    assert_allclose(np.array(ref.learnt_crowd), fast.learnt_crowd, rtol=RTOL, atol=ATOL, err_msg="learnt crowding")
    # every daily series
    f, r = fast.metrics.daily(), ref.daily()
    assert len(fast.metrics.rows) == len(ref.rows) == days
    assert set(f) == set(r), f"series only in one model: {set(f) ^ set(r)}"
    for key in f:
        if isinstance(f[key][0], (str, bool)):
            assert f[key] == r[key], key
        else:
            assert_allclose(np.array(r[key], dtype=float), np.array(f[key], dtype=float), rtol=RTOL, atol=ATOL,
                            err_msg=f"daily series {key}")


@pytest.mark.parametrize("case", list(CASES))
def test_reference_matches_fast_model(case):
    sc = _scenario(CASES[case])
    fast = build_model(sc)
    cal = fast.calibration
    before = _snapshot(cal)
    adopted_at_start = fast.adopted.copy()
    fast.run(DAYS)
    _assert_unchanged(before, cal, "the fast model's run")
    ref, seconds = run_reference(sc, cal, DAYS, city=fast.city, population=fast.population)
    assert seconds > 0
    _assert_unchanged(before, cal, "the reference model")
    _assert_same_run(fast, ref, DAYS)

    # the case exercises what it is meant to
    d = fast.metrics.daily()
    assert np.any(fast.adopted != adopted_at_start), "adoption never moved"
    assert 0 < np.mean(d["remote_share"]) < 1
    if case == "hours_and_quits":
        assert sum(d["quits_women"]) > 0 and sum(d["quits_men"]) > 0
        usual = {float(parse_clock(t, "")) for t in sc.mode.work_start.values()}
        assert set(fast.work_start_min.tolist()) - usual, "nobody's start of work was shifted"
        assert np.any(fast.window_min > 0)
    if case == "sme_support_and_welfare":
        assert np.any(fast.welfare_cut > 0)
    if case == "crowding_and_floor":
        assert max(d["transit_peak_load"]) > 0.8 and fast.learnt_crowd.max() > 1.0
        assert fast.remote_days.max() == 4 > sc.adoption.max_remote_days["large"]


def test_reference_matches_on_a_cold_start():
    """Without the calibration's initial state everybody chooses on day 0 and stress starts at the strain."""
    sc = _scenario([], days=15)
    warm = build_model(sc)
    cold_cal = dataclasses.replace(warm.calibration, initial_mode=None, initial_slot=None, initial_stress=None)
    fast = CommuteModel(sc, cold_cal, city=warm.city, population=warm.population)
    assert not fast.started_warm
    fast.run(15)
    ref = ReferenceModel(sc, cold_cal, city=fast.city, population=fast.population)
    assert not ref.started_warm
    ref.run(15)
    _assert_same_run(fast, ref, 15)


@pytest.mark.parametrize("hold", ["modes", "modes_and_slots"])
def test_reference_matches_with_choices_held(hold):
    """Held travel choices (the decomposition's runs): modes (and slots) stay the calibration's, the rest moves."""
    sc = _scenario(["policy.staggered_hours.enabled=true", "policy.sme_support.enabled=true"], days=30)
    warm = build_model(sc)
    cal = warm.calibration
    fast = CommuteModel(sc, cal, city=warm.city, population=warm.population, hold_choices=hold)
    fast.run(30)
    ref = ReferenceModel(sc, cal, city=fast.city, population=fast.population, hold_choices=hold)
    ref.run(30)
    _assert_same_run(fast, ref, 30)
    assert_array_equal(fast.mode, cal.initial_mode)
    if hold == "modes_and_slots":
        assert_array_equal(fast.slot, cal.initial_slot)
    else:  # staggered starts move the departures of those who reviewed
        assert np.any(fast.slot != cal.initial_slot)
    warm.run(30)  # choices free: some modes change
    assert np.any(warm.mode != cal.initial_mode)


def test_hold_choices_refuses_an_unknown_value():
    sc = _scenario([], days=5)
    warm = build_model(sc)
    with pytest.raises(ValueError, match="hold_choices"):
        CommuteModel(sc, warm.calibration, city=warm.city, population=warm.population, hold_choices="slots")


@pytest.mark.parametrize("regime", ["off", "all_remote"])
def test_reference_matches_in_the_limit_regimes(regime):
    sc = _scenario([f"policy.smart_working='{regime}'"], days=10)
    fast = build_model(sc)
    fast.run(10)
    ref = ReferenceModel(sc, fast.calibration, city=fast.city, population=fast.population)
    ref.run(10)
    _assert_same_run(fast, ref, 10)
    assert all(x == (1.0 if regime == "all_remote" else 0.0) for x in ref.daily()["remote_share"])


def _module_file(name: str) -> Path | None:
    """The source file of module ``sim.x.y`` (its ``__init__.py`` for a package), None if not a module of sim."""
    base = ROOT / Path(*name.split("."))
    for f in (base.with_suffix(".py"), base / "__init__.py"):
        if f.is_file():
            return f
    return None


def _imports(name: str) -> set[str]:
    """Modules of ``sim`` that module ``name`` imports at run time, anywhere in it (inside functions too;
    imports under ``if TYPE_CHECKING:`` excluded); ``from pkg import mod`` counts ``pkg`` and ``pkg.mod``."""
    tree = ast.parse(_module_file(name).read_text(encoding="utf-8"))
    type_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
                 for n in ast.walk(node)}
    package = name if _module_file(name).name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            if not base.startswith("sim"):
                continue
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names if _module_file(f"{base}.{a.name}"))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("sim."))
    return {m for m in found if _module_file(m)}


def _transitive_imports(name: str) -> set[str]:
    seen, todo = set(), [name]
    while todo:
        for m in _imports(todo.pop()) - seen:
            seen.add(m)
            todo.append(m)
    return seen


def test_reference_does_not_use_the_fast_rules():
    """The specification imports inputs only (city, population, rng, schema), directly or through anything it imports."""
    used = _transitive_imports("sim.reference")
    assert "sim.world.city" in used, "no sim imports found: the check is broken"
    forbidden = {m for m in used if m.startswith(("sim.behaviour", "sim.outputs"))
                 or m in {"sim.model", "sim.agents", "sim.calibration", "sim.prepare", "sim.trace"}}
    assert not forbidden, f"sim/reference.py reaches the fast rules: {sorted(forbidden)}"


def test_the_import_check_sees_imports_inside_functions_and_through_others():
    """The check would see a path from the reference if there were one: the CLI imports the runner only
    inside functions, and the runner reaches the rules only through the model."""
    assert "sim.runner" in _imports("sim.cli")
    assert "sim.behaviour.mode_choice" not in _imports("sim.prepare")
    assert {"sim.behaviour.mode_choice", "sim.outputs.metrics"} <= _transitive_imports("sim.prepare")
