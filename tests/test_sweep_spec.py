"""Sweep files: validation (exit 2, file and key named, nothing written), designs, point ids, SLURM script."""

from __future__ import annotations

import itertools

import pytest
import yaml

from sim.cli import main
from sim.scenario.load import ScenarioError
from sim.sweep.spec import load_sweep, point_id

from .sweep_helpers import ROOT, write_sweep

EXAMPLES = sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml"))


def _bad(tmp_path, capsys, **fields):
    path = write_sweep(tmp_path, **fields)
    out = tmp_path / "out"
    code = main(["sweep", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert not out.exists(), "nothing may be written on bad input"
    assert str(path) in err
    return err


def test_examples_cover_every_design_and_validate():
    designs = {load_sweep(p).spec.design.type for p in EXAMPLES}
    assert designs == {"grid", "lhs", "sobol"}


def test_unknown_top_level_key(tmp_path, capsys):
    err = _bad(tmp_path, capsys, desing={"type": "grid"})
    assert "desing" in err and "unknown key" in err


def test_unknown_parameter_key(tmp_path, capsys):
    err = _bad(tmp_path, capsys, parameters=[{"path": "policy.area_c_charge_eur", "levles": [1, 2]}])
    assert "parameters[0]" in err and "levles" in err


def test_parameter_path_not_in_scenario(tmp_path, capsys):
    err = _bad(tmp_path, capsys, parameters=[{"path": "policy.area_c_charg_eur", "levels": [1, 2]}])
    assert "parameters[0] (policy.area_c_charg_eur)" in err
    assert "area_c_charg_eur" in err and "did you mean 'area_c_charge_eur'" in err


def test_parameter_value_out_of_schema_range(tmp_path, capsys):
    err = _bad(tmp_path, capsys, parameters=[{"path": "policy.transit_fare_eur", "range": [1, 80]}],
               design={"type": "lhs", "samples": 4})
    assert "policy.transit_fare_eur" in err and "80" in err and "less than or equal to 50" in err


def test_range_and_levels_both_given(tmp_path, capsys):
    err = _bad(tmp_path, capsys, parameters=[{"path": "policy.transit_fare_eur", "range": [1, 2], "levels": [1]}])
    assert "parameters[0]" in err and "exactly one of 'levels' or 'range'" in err


def test_grid_range_needs_n(tmp_path, capsys):
    err = _bad(tmp_path, capsys, parameters=[{"path": "policy.transit_fare_eur", "range": [1, 2]}])
    assert "grid needs 'levels'" in err


def test_sobol_needs_power_of_two(tmp_path, capsys):
    err = _bad(tmp_path, capsys, design={"type": "sobol", "base_samples": 10})
    assert "design" in err and "power of 2" in err


def test_unknown_output(tmp_path, capsys):
    err = _bad(tmp_path, capsys, outputs=["car_km"])
    assert "outputs" in err and "car_km" in err
    assert "did you mean 'car_vkm'?" in err and "modal_split.{car|transit|bike|walk|moto}" in err
    # a section is not one KPI: its KPIs are named with dots
    err = _bad(tmp_path, capsys, outputs=["modal_split"])
    assert "unknown summary key 'modal_split'" in err and "did you mean 'modal_split.car'?" in err


def test_bad_base_override(tmp_path, capsys):
    err = _bad(tmp_path, capsys, base_overrides={"city.grid_size": 6})
    assert "base_overrides" in err and "city.grid_size" in err and "odd" in err


def test_missing_base_file(tmp_path, capsys):
    err = _bad(tmp_path, capsys, base="nope.yaml")
    assert "base" in err and "nope.yaml" in err


def test_yaml_syntax_error(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nparameters: [\n", encoding="utf-8")
    assert main(["sweep", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "YAML syntax error" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_bad_shard_argument(tmp_path, capsys):
    path = write_sweep(tmp_path)
    assert main(["sweep", str(path), "--shard", "4/4", "--out", str(tmp_path / "o")]) == 2
    assert "--shard 4/4" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_folder_of_another_sweep_refused(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "sweep.json").write_text('{"name": "other", "fingerprint": "0000", "n_runs": 3}')
    path = write_sweep(tmp_path)
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    assert "holds another sweep" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ designs
def test_grid_is_the_product_of_levels_times_seeds(tmp_path):
    sw = load_sweep(write_sweep(tmp_path, seeds=3, parameters=[
        {"path": "policy.area_c_charge_eur", "levels": [0, 5, 10]},
        {"path": "policy.sme_support.enabled", "levels": [False, True]},
        {"path": "policy.transit_fare_eur", "range": [1.0, 3.0], "n": 5},
        {"path": "policy.remote_days.cap", "range": [2, 4], "integer": True}]))
    points = sw.design_points()
    assert len(points) == 3 * 2 * 5 * 3
    assert len(sw.runs()) == len(points) * 3
    combos = {tuple(p.values()) for p in points}
    assert combos == set(itertools.product([0, 5, 10], [False, True], [1.0, 1.5, 2.0, 2.5, 3.0], [2, 3, 4]))
    assert sw.seeds == [42, 43, 44]
    assert [r.index for r in sw.runs()] == list(range(len(sw.runs())))


def test_lhs_size_bounds_and_strata(tmp_path):
    sw = load_sweep(write_sweep(tmp_path, seeds=1, design={"type": "lhs", "samples": 20, "seed": 3}, parameters=[
        {"path": "policy.area_c_charge_eur", "range": [2, 12]},
        {"path": "policy.remote_days.cap", "range": [1, 5], "integer": True},
        {"path": "policy.smart_working", "levels": ["modelled", "off"]}]))
    pts = sw.design_points()
    assert len(pts) == 20
    charges = sorted(p["policy.area_c_charge_eur"] for p in pts)
    assert all(2 <= c <= 12 for c in charges)
    # Latin hypercube: one value in each of the 20 equal strata
    assert sorted(int((c - 2) / 10 * 20) for c in charges) == list(range(20))
    assert {p["policy.remote_days.cap"] for p in pts} == {1, 2, 3, 4, 5}
    assert {p["policy.smart_working"] for p in pts} == {"modelled", "off"}
    assert sw.design_points() == pts, "the design is deterministic"


@pytest.mark.parametrize("second_order, per_n", [(True, lambda d: 2 * d + 2), (False, lambda d: d + 2)])
def test_sobol_saltelli_size_and_bounds(tmp_path, second_order, per_n):
    params = [{"path": "policy.area_c_charge_eur", "range": [0, 20]},
              {"path": "policy.transit_fare_eur", "range": [1, 4]},
              {"path": "remote_days.preferred_days", "range": [0.5, 3.5]}]
    sw = load_sweep(write_sweep(tmp_path, seeds=2, parameters=params,
                                design={"type": "sobol", "base_samples": 8, "second_order": second_order}))
    pts = sw.design_points()
    assert len(pts) == 8 * per_n(3)
    assert len(sw.runs()) == 2 * len(pts)
    for p, spec in zip(("policy.area_c_charge_eur", "policy.transit_fare_eur", "remote_days.preferred_days"), params):
        lo, hi = spec["range"]
        assert all(lo <= x[p] <= hi for x in pts)


def test_point_id_depends_only_on_values_and_seed():
    a = point_id({"x.y": 1.5, "a.b": True}, 3)
    assert a == point_id({"a.b": True, "x.y": 1.5}, 3)
    assert a != point_id({"x.y": 1.5, "a.b": True}, 4)
    assert a != point_id({"x.y": 1.5000000001, "a.b": True}, 3)


def test_validate_rejects_combination_only_at_run_time(tmp_path):
    # floor 3 with cap 2 is invalid only together: the file is valid, the run fails (recorded)
    sw = load_sweep(write_sweep(tmp_path, parameters=[{"path": "policy.remote_days.floor", "levels": [0, 3]},
                                                      {"path": "policy.remote_days.cap", "levels": [2, 5]}]))
    assert len(sw.runs()) == 8
    from sim.sweep.spec import build_scenario
    with pytest.raises(ScenarioError, match="floor"):
        build_scenario(sw.base, {"policy.remote_days.floor": 3, "policy.remote_days.cap": 2})


def test_slurm_script(tmp_path, capsys):
    path = write_sweep(tmp_path, slurm={"shards": 3, "cpus_per_task": 2, "time": "00:10:00", "partition": "short"})
    out = tmp_path / "o"
    assert main(["sweep", str(path), "--slurm-script", "--out", str(out)]) == 0
    script = capsys.readouterr().out
    assert script.startswith("#!/bin/bash")
    assert "#SBATCH --array=0-2" in script and "#SBATCH --cpus-per-task=2" in script
    assert "#SBATCH --time=00:10:00" in script and "#SBATCH --partition=short" in script
    assert '--shard "${SLURM_ARRAY_TASK_ID}/3"' in script and f"--out {out.resolve()}" in script
    assert (out / "logs").is_dir()
    assert main(["sweep", str(path), "--slurm-script", "--shards", "5", "--out", str(out)]) == 0
    assert "#SBATCH --array=0-4" in capsys.readouterr().out


def test_sweep_json_round_trip(tmp_path):
    sw = load_sweep(write_sweep(tmp_path))
    d = sw.describe()
    assert d["n_runs"] == 12 and d["design"] == "grid"
    yaml.safe_dump(d)  # plain data


def test_validate_command_checks_sweep_files(tmp_path, capsys):
    good = write_sweep(tmp_path, name="good")
    bad = write_sweep(tmp_path, name="bad", outputs=["nope"])
    assert main(["validate", str(good), str(bad)]) == 2
    cap = capsys.readouterr()
    assert f"ok: {good} (sweep good: 12 runs, grid design)" in cap.out
    assert str(bad) in cap.err and "outputs" in cap.err


def test_hours_saved_needs_the_counterfactual(tmp_path, capsys):
    err = _bad(tmp_path, capsys, outputs=["hours_saved_per_worker"], counterfactual=False)
    assert "counterfactual: true" in err


def test_cluster_block_makes_a_dask_jobqueue_job_script(tmp_path):
    pytest.importorskip("dask_jobqueue")
    from sim.sweep.executors import _jobqueue_cluster
    sw = load_sweep(write_sweep(tmp_path, cluster={
        "kind": "slurm", "jobs": 3, "cores": 2, "processes": 2, "memory": "4GB", "walltime": "01:00:00",
        "queue": "short", "interface": "lo", "job_extra_directives": ["--exclusive"]}))
    cluster = _jobqueue_cluster(sw.spec.cluster)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in ("#SBATCH -p short", "#SBATCH -t 01:00:00", "#SBATCH --exclusive", "#SBATCH --cpus-per-task=2"):
        assert line in script

