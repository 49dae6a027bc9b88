"""``run.py schema``: every leaf key of the scenario with its unit, meaning and source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ("key", "type", "unit", "default", "range", "meaning", "source")
# keys that describe the run itself, not a coefficient of the model: no source expected
NO_SOURCE = {"name", "extends", "description", "seed", "scale", "city.csv_dir"}


def leaf_keys(model: type[BaseModel] = Scenario, prefix: str = "") -> list[str]:
    """Dotted paths of every leaf field, walked from the pydantic model (independent of sim.schema_doc)."""
    keys = []
    for name, info in model.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            keys.extend(leaf_keys(ann, f"{prefix}{name}."))
        else:
            keys.append(f"{prefix}{name}")
    return keys


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def plain() -> str:
    proc = run_cli("schema")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def table() -> dict[str, dict[str, str]]:
    proc = run_cli("schema", "--markdown")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "| " + " | ".join(COLUMNS) + " |"
    assert lines[1] == "|---|---|---|---|---|---|---|"
    rows = {}
    for line in lines[2:]:
        assert line.startswith("| ") and line.endswith(" |"), line
        cells = [c.strip() for c in line[2:-2].split(" | ")]
        assert len(cells) == len(COLUMNS), line
        row = dict(zip(COLUMNS, cells))
        assert row["key"] not in rows, f"duplicate row {row['key']}"
        rows[row["key"]] = row
    return rows


def test_leaf_walk_sanity():
    keys = leaf_keys()
    assert "policy.sme_support.innovation_multiplier" in keys
    assert "emissions.car_urban_g_per_km" in keys
    assert "policy" not in keys and "policy.sme_support" not in keys
    assert len(keys) > 100


def test_plain_output_lists_every_leaf_key(plain):
    starts = {line.split("  (", 1)[0] for line in plain.splitlines() if line and not line.startswith(" ")}
    missing = [k for k in leaf_keys() if k not in starts]
    assert not missing, f"run.py schema does not list: {missing}"
    assert not starts - set(leaf_keys()), f"unknown keys listed: {sorted(starts - set(leaf_keys()))}"


def test_plain_output_gives_unit_and_source(plain):
    lines = plain.splitlines()
    i = next(n for n, line in enumerate(lines) if line.startswith("policy.sme_support.innovation_multiplier  ("))
    assert lines[i].startswith("policy.sme_support.innovation_multiplier  (float, x)  default=3.0  range=[1, 50]")
    assert lines[i + 1].strip().endswith("[source: assumption (range 1.5-5)]")
    i = next(n for n, line in enumerate(lines) if line.startswith("emissions.car_urban_g_per_km  ("))
    assert lines[i].startswith("emissions.car_urban_g_per_km  (float, g CO2/km)")
    assert "[source: ISPRA" in lines[i + 1]


def test_plain_output_matches_markdown(plain, table):
    lines = plain.splitlines()
    for n, line in enumerate(lines):
        if line and not line.startswith(" "):
            key = line.split("  (", 1)[0]
            row = table[key]
            assert f", {row['unit']})  default=" in line, key
            assert lines[n + 1].strip().endswith(f"[source: {row['source']}]"), key


def test_markdown_has_every_leaf_key(table):
    missing = [k for k in leaf_keys() if k not in table]
    assert not missing, missing
    assert table["policy.sme_support.innovation_multiplier"]["unit"] == "x"
    assert table["emissions.car_urban_g_per_km"]["unit"] == "g CO2/km"


def test_every_leaf_has_meaning_unit_and_source(table):
    no_meaning = [k for k, r in table.items() if not r["meaning"]]
    no_unit = [k for k, r in table.items() if not r["unit"]]
    no_source = [k for k, r in table.items() if r["source"] in ("", "-") and k not in NO_SOURCE]
    assert not no_meaning, f"keys without a meaning: {no_meaning}"
    assert not no_unit, f"keys without a unit: {no_unit}"
    assert not no_source, f"keys without a source: {no_source}"


def test_schema_piped_into_a_closed_reader_prints_no_traceback():
    """``run.py schema | head -1`` must not end with a BrokenPipeError traceback."""
    proc = subprocess.Popen([sys.executable, "run.py", "schema"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before anything is written
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()
