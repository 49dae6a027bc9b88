"""Bad scenario input gives one clear message (file, key path, value, what was expected) and exit code 2.

Message checks call :func:`sim.scenario.load_scenario` directly; a handful of representative cases
also go through ``python run.py run`` in a subprocess (exit 2, ``error: `` on stderr, no traceback,
no results folder).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim.scenario.load import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[1]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path, overrides=(), **top_level) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, list(overrides), **top_level)
    return str(info.value)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture
def ok_file(tmp_path) -> Path:
    """A valid minimal scenario that does not mention ``seed`` or ``policy``."""
    return write(tmp_path / "ok.yaml", "name: ok\ndays: 3\n")


# --------------------------------------------------------------------------------------- unknown keys
def test_unknown_top_level_key_suggests_closest(tmp_path):
    f = write(tmp_path / "s.yaml", "name: t\npolcy:\n  area_c_charge_eur: 5\n")
    msg = error_of(f)
    assert msg.startswith(f"{f.resolve()}: polcy: ")
    assert "unknown key 'polcy'" in msg
    assert "did you mean 'policy'?" in msg
    assert "Valid keys here:" in msg and "policy" in msg


def test_unknown_nested_key_suggests_closest(tmp_path):
    f = write(tmp_path / "s.yaml", "name: t\npolicy:\n  area_c_charge: 5\n")
    msg = error_of(f)
    assert msg.startswith(f"{f.resolve()}: policy.area_c_charge: ")
    assert "unknown key 'area_c_charge'" in msg
    assert "did you mean 'area_c_charge_eur'?" in msg
    assert "transit_fare_eur" in msg  # the valid keys of the section are listed


def test_unknown_key_in_parent_names_the_parent_file(tmp_path):
    parent = write(tmp_path / "parent.yaml", "name: p\npolicy:\n  transit_fare: 3\n")
    child = write(tmp_path / "child.yaml", "extends: parent.yaml\nname: c\npolicy:\n  area_c_charge_eur: 5\n")
    msg = error_of(child)
    assert msg.startswith(f"{parent.resolve()}: policy.transit_fare: ")
    assert "did you mean 'transit_fare_eur'?" in msg


def test_bad_value_in_child_section_names_the_child_file(tmp_path):
    write(tmp_path / "parent.yaml", "name: p\npopulation:\n  women_share: 0.4\n")
    child = write(tmp_path / "child.yaml", "extends: parent.yaml\nname: c\npopulation:\n  employment_share: "
                                           "{micro: 0.5, small: 0.17, medium: 0.14, large: 0.26, public: 0.13}\n")
    msg = error_of(child)
    assert msg.startswith(f"{child.resolve()}: population: ")
    assert "must sum to 1, got 1.200000" in msg


def test_set_replacing_a_section_names_set(tmp_path):
    f = write(tmp_path / "s.yaml", "name: t\npolicy:\n  transit_fare_eur: 2\n")
    msg = error_of(f, ["policy={transit_fare: 3}"])
    assert msg.startswith("--set policy={transit_fare: 3}: policy.transit_fare: unknown key")


# --------------------------------------------------------------------------------------- types and ranges
def test_wrong_type(tmp_path):
    f = write(tmp_path / "s.yaml", 'name: t\ndays: "many"\n')
    msg = error_of(f)
    assert msg.startswith(f"{f.resolve()}: days: ")
    assert "valid integer" in msg
    assert "got 'many'" in msg


def test_out_of_range_top_level(tmp_path):
    f = write(tmp_path / "s.yaml", "name: t\nscale: 1.5\n")
    msg = error_of(f)
    assert msg == f"{f.resolve()}: scale: input should be less than or equal to 1; got 1.5"


def test_out_of_range_nested(tmp_path):
    f = write(tmp_path / "s.yaml", "name: t\npolicy:\n  transit_fare_eur: -1\n")
    msg = error_of(f)
    assert msg == f"{f.resolve()}: policy.transit_fare_eur: input should be greater than or equal to 0; got -1"


def test_shares_not_summing_to_one(tmp_path):
    f = write(tmp_path / "s.yaml", "name: t\npopulation:\n  employment_share: "
                                   "{micro: 0.5, small: 0.17, medium: 0.14, large: 0.26, public: 0.13}\n")
    msg = error_of(f)
    assert msg.startswith(f"{f.resolve()}: population")
    assert "population.employment_share must sum to 1" in msg
    assert "got 1.200000" in msg


def test_scale_zero_on_command_line_names_the_option(ok_file):
    msg = error_of(ok_file, scale=0)
    assert msg.startswith("--scale: scale: ")
    assert "greater than 0" in msg
    assert "got 0" in msg


# --------------------------------------------------------------------------------------- files
def test_missing_scenario_file(tmp_path):
    f = tmp_path / "nope.yaml"
    assert error_of(f) == f"{f}: no such scenario file"


def test_yaml_syntax_error_gives_line_and_column(tmp_path):
    f = write(tmp_path / "s.yaml", "name: t\nseed: 1\n  days: 3\n")
    msg = error_of(f)
    assert msg.startswith(f"{f.resolve()}:3:7: YAML syntax error: ")
    assert "(line 3, column 7)" in msg
    assert "mapping values are not allowed here" in msg


def test_empty_file(tmp_path):
    f = write(tmp_path / "s.yaml", "")
    msg = error_of(f)
    assert msg.startswith(f"{f.resolve()}: the file is empty")
    assert "expected a mapping" in msg


def test_top_level_list(tmp_path):
    f = write(tmp_path / "s.yaml", "- name: t\n- seed: 1\n")
    msg = error_of(f)
    assert msg == f"{f.resolve()}: expected a mapping of scenario keys at the top level, got list"


def test_circular_extends_names_both_files(tmp_path):
    a = write(tmp_path / "a.yaml", "extends: b.yaml\nname: a\n")
    b = write(tmp_path / "b.yaml", "extends: a.yaml\nname: b\n")
    msg = error_of(a)
    assert "circular 'extends' chain" in msg
    assert "a.yaml -> b.yaml -> a.yaml" in msg
    assert msg.startswith(f"{b.resolve()}: extends: ")


def test_missing_parent_in_extends(tmp_path):
    f = write(tmp_path / "child.yaml", "extends: nothere.yaml\nname: c\n")
    msg = error_of(f)
    assert msg.startswith(f"{f.resolve()}: extends: ")
    assert "parent scenario file 'nothere.yaml' not found" in msg
    assert str(tmp_path.resolve() / "nothere.yaml") in msg


# --------------------------------------------------------------------------------------- --set
def test_set_unknown_key_names_set(ok_file):
    msg = error_of(ok_file, ["policy.area_c_chrge_eur=3"])
    assert msg.startswith("--set policy.area_c_chrge_eur=3: policy.area_c_chrge_eur: ")
    assert "unknown key 'area_c_chrge_eur'" in msg
    assert "did you mean 'area_c_charge_eur'?" in msg


def test_set_unknown_section_names_set_not_the_file(ok_file):
    # the section 'polcy' does not exist in the file: the message must blame --set
    msg = error_of(ok_file, ["polcy.area_c_charge_eur=3"])
    assert msg.startswith("--set polcy.area_c_charge_eur=3: polcy: ")
    assert "did you mean 'policy'?" in msg


def test_set_wrong_type(ok_file):
    msg = error_of(ok_file, ["policy.sme_support.enabled=maybe"])
    assert msg.startswith("--set policy.sme_support.enabled=maybe: policy.sme_support.enabled: ")
    assert "valid boolean" in msg
    assert "got 'maybe'" in msg


def test_set_without_equals(ok_file):
    msg = error_of(ok_file, ["days"])
    assert msg == "--set days: expected key.path=value, e.g. --set policy.area_c_charge_eur=10"


def test_set_empty_key_and_empty_value(ok_file):
    assert "'' is not a key path" in error_of(ok_file, ["=3"])
    assert error_of(ok_file, ["days="]) == "--set days=: no value given for days; expected key.path=value"


def test_set_invalid_yaml_value(ok_file):
    msg = error_of(ok_file, ["days=[1"])
    assert msg.startswith("--set days=[1: value '[1' is not valid YAML")


def test_set_through_a_scalar_in_the_file():
    msg = error_of(ROOT / "scenarios" / "milan_baseline.yaml", ["seed.x=1"])
    assert msg == "--set seed.x=1: seed is a value, not a section; cannot set seed.x"


def test_set_through_a_scalar_left_at_its_default(ok_file):
    # 'seed' is not in the file (schema default): the error still names --set, the key and the value
    msg = error_of(ok_file, ["seed.x=1"])
    assert msg.startswith("--set seed.x=1: seed: ")
    assert "valid integer" in msg
    assert "got {'x': 1}" in msg


# --------------------------------------------------------------------------------------- positive cases
def test_extends_chain_deep_merges(tmp_path):
    write(tmp_path / "base" / "grand.yaml",
          "name: grand\nseed: 7\ndays: 10\n"
          "policy:\n  area_c_charge_eur: 9\n  transit_fare_eur: 3\n"
          "  sme_support:\n    enabled: true\n    innovation_multiplier: 2.0\n"
          "emissions:\n  car_urban_g_per_km: 200\n")
    # the parent lives in another folder: its 'extends' is relative to its own folder
    write(tmp_path / "mid" / "parent.yaml",
          "extends: ../base/grand.yaml\nname: parent\n"
          "policy:\n  transit_fare_eur: 2.5\n  sme_support:\n    return_hazard_factor: 0.5\n")
    child = write(tmp_path / "child.yaml",
                  "extends: mid/parent.yaml\nname: child\npolicy:\n  sme_support:\n    innovation_multiplier: 4.0\n")
    sc = load_scenario(child)
    assert sc.name == "child"
    assert (sc.seed, sc.days) == (7, 10)                     # from the grandparent
    assert sc.policy.area_c_charge_eur == 9                  # grandparent, sibling keys kept
    assert sc.policy.transit_fare_eur == 2.5                 # parent overrides grandparent
    assert sc.policy.sme_support.enabled is True             # grandparent
    assert sc.policy.sme_support.return_hazard_factor == 0.5  # parent
    assert sc.policy.sme_support.innovation_multiplier == 4.0  # child overrides one key
    assert sc.emissions.car_urban_g_per_km == 200            # untouched section kept


def test_extends_relative_to_the_file_not_the_cwd(tmp_path, monkeypatch):
    write(tmp_path / "dir" / "parent.yaml", "name: parent\nseed: 11\n")
    child = write(tmp_path / "dir" / "child.yaml", "extends: parent.yaml\nname: child\n")
    monkeypatch.chdir(tmp_path)
    assert load_scenario(Path("dir") / "child.yaml").seed == 11
    assert load_scenario(child).seed == 11


def test_csv_dir_stays_relative_to_the_file_that_sets_it(tmp_path):
    # the child touches the 'city' section too: csv_dir must still resolve against the parent's folder
    parent = ROOT / "scenarios" / "examples" / "csv_city.yaml"
    child = write(tmp_path / "child.yaml", f"extends: {parent}\nname: child\ncity:\n  local_speed_kmh: 30\n")
    sc = load_scenario(child)
    assert Path(sc.city.csv_dir) == (ROOT / "examples" / "csv_city").resolve()
    assert sc.city.local_speed_kmh == 30


def test_real_lever_extends_baseline():
    sc = load_scenario(ROOT / "scenarios" / "limits" / "no_smart_working.yaml")
    base = load_scenario(ROOT / "scenarios" / "milan_baseline.yaml")
    assert sc.policy.smart_working == "off"
    assert sc.population.model_dump() == base.population.model_dump()


def test_set_bool(ok_file):
    sc = load_scenario(ok_file, ["policy.sme_support.enabled=true"])
    assert sc.policy.sme_support.enabled is True
    assert sc.policy.sme_support.innovation_multiplier == 3.0  # the rest of the section keeps its defaults


def test_set_value_parsed_as_yaml(ok_file):
    sc = load_scenario(ok_file, ["policy.sme_support.classes=[micro, small]", "policy.area_c_charge_eur=10",
                                 "name=from_set"])
    assert sc.policy.sme_support.classes == ["micro", "small"]
    assert sc.policy.area_c_charge_eur == 10.0
    assert sc.name == "from_set"


def test_set_overrides_file_and_top_level_overrides_set(tmp_path):
    f = write(tmp_path / "s.yaml", "name: t\ndays: 3\npolicy:\n  transit_fare_eur: 2\n")
    sc = load_scenario(f, ["policy.transit_fare_eur=3", "days=9"], days=4, seed=None)
    assert sc.policy.transit_fare_eur == 3
    assert sc.days == 4  # --days wins over --set days and the file
    assert sc.seed == 42  # None means "not given": the default stays


# --------------------------------------------------------------------------------------- command line
BAD_CLI_CASES = {
    "unknown_key": ("name: t\npolcy:\n  area_c_charge_eur: 5\n", [], ["did you mean 'policy'?"]),
    "out_of_range": ("name: t\npolicy:\n  transit_fare_eur: -1\n", [], ["policy.transit_fare_eur", "got -1"]),
    "yaml_syntax": ("name: t\nseed: 1\n  days: 3\n", [], [":3:7: YAML syntax error", "(line 3, column 7)"]),
    "set_wrong_type": ("name: t\n", ["--set", "policy.transit_fare_eur=cheap"],
                       ["--set policy.transit_fare_eur=cheap: policy.transit_fare_eur:", "got 'cheap'"]),
    "scale_zero": ("name: t\n", ["--scale", "0"], ["--scale: scale:", "greater than 0"]),
    "missing_file": (None, [], ["no such scenario file"]),
}


@pytest.mark.parametrize("case", list(BAD_CLI_CASES))
def test_cli_bad_input_exits_2_without_output(tmp_path, case):
    text, extra, expected = BAD_CLI_CASES[case]
    f = tmp_path / "scenario.yaml"
    if text is not None:
        write(f, text)
    out = tmp_path / "out"
    scale = [] if "--scale" in extra else ["--scale", "0.001"]
    args = ["run", str(f), "--out", str(out), "--days", "2", *scale, "--quiet", *extra]
    proc = run_cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    for part in expected:
        assert part in proc.stderr
    if case not in ("scale_zero", "set_wrong_type"):  # those name the option, not the file
        assert str(f.resolve() if text is not None else f) in proc.stderr
    assert not out.exists()
    assert not any(p.name.startswith(".out.tmp-") for p in tmp_path.iterdir())


def test_cli_validate_all_shipped_scenarios():
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "scenarios").rglob("*.yaml"))
    assert any(f.startswith("scenarios/limits/") for f in files)
    proc = run_cli("validate", *files)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("ok: ") == len(files)


def test_cli_validate_bad_file_exits_2(tmp_path):
    good = write(tmp_path / "good.yaml", "name: good\n")
    bad = write(tmp_path / "bad.yaml", "name: t\nscale: 1.5\n")
    proc = run_cli("validate", str(good), str(bad))
    assert proc.returncode == 2
    assert f"ok: {good}" in proc.stdout
    assert proc.stderr.startswith(f"error: {bad.resolve()}: scale: ")
    assert "Traceback" not in proc.stderr
