"""Replications (``run --replications N``) and ``run.py compare``: equality with single runs, intervals,
differences, the CLI outputs, and bad input (exit 2, nothing written)."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats

from sim.cli import main
from sim.orchestrate import compare
from sim.outputs.compare import CSV_COLUMNS
from sim.outputs.kpis import HEADLINE
from sim.outputs.replications import flatten_kpis, with_seed
from sim.runner import replicate, run_and_write, simulate
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]
TINY = ["city.source=synthetic", "city.grid_size=7", "population.workers_internal=3000", "population.workers_inbound=600"]


def tiny(days: int = 10):
    return load_scenario(ROOT / "scenarios" / "examples" / "grid_city.yaml", TINY, days=days)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


# ------------------------------------------------------------------------------------ replications
def test_replications_equal_single_runs_and_ci():
    sc = tiny()
    done = []
    reps = replicate(sc, 3, progress=done.append)
    assert reps.seeds == [sc.seed, sc.seed + 1, sc.seed + 2]
    assert sum(done) == sc.days * 2 * 3  # every simulated day reported (run + counterfactual, 3 seeds)
    block = reps.summary["replications"]
    assert block["n"] == 3 and block["seeds"] == reps.seeds
    for seed, summary in zip(reps.seeds, reps.summaries):
        _, alone = simulate(with_seed(sc, seed))
        assert summary == alone  # identical to running that seed alone (no timing in summaries)
        flat = flatten_kpis(alone)
        for k, v in block["kpis"].items():
            assert v["values"][reps.seeds.index(seed)] == flat[k], k
    # the first seed's summary stays the top level of summary.json
    assert {k: v for k, v in reps.summary.items() if k != "replications"} == reps.summaries[0]
    for k in ("workers", "remote_share", "car_vkm", "co2_net_t", "hours_saved_per_worker", "mean_stress",
              "modal_split.car", "adoption_by_size.large"):
        v = block["kpis"][k]
        x = np.array(v["values"])
        half = stats.t.ppf(0.975, 2) * x.std(ddof=1) / math.sqrt(3)
        assert v["mean"] == pytest.approx(x.mean())
        assert v["ci95_low"] == pytest.approx(x.mean() - half) and v["ci95_high"] == pytest.approx(x.mean() + half)
        assert v["ci95_low"] <= v["mean"] <= v["ci95_high"]
    assert block["kpis"]["car_vkm"]["sd"] > 0  # the seeds do differ


def test_replications_results_folder(tmp_path):
    sc = tiny(days=5)
    out = tmp_path / "reps"
    path, _ = run_and_write(sc, out, argv=["test"], replications=2)
    assert path == out
    names = {p.name for p in out.iterdir()}
    assert {"summary.json", "daily.parquet", "replications.parquet", "daily_replications.parquet"} <= names
    assert [p.name for p in tmp_path.iterdir()] == ["reps"]  # no temporary sibling left
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["seed"] == sc.seed and on_disk["replications"]["seeds"] == [sc.seed, sc.seed + 1]
    for k in ("workers", "remote_share", "car_vkm", "co2_net_t", "mean_stress"):
        assert isinstance(on_disk[k], float) and math.isfinite(on_disk[k])
    per_seed = pq.read_table(out / "replications.parquet").to_pydict()
    assert per_seed["seed"] == [sc.seed, sc.seed + 1]
    assert per_seed["car_vkm"] == on_disk["replications"]["kpis"]["car_vkm"]["values"]
    assert per_seed["car_vkm"][0] == on_disk["car_vkm"]
    daily = pq.read_table(out / "daily_replications.parquet").to_pydict()
    first = pq.read_table(out / "daily.parquet").to_pydict()
    assert daily["seed"] == [sc.seed] * 5 + [sc.seed + 1] * 5
    assert daily["car_vkm"][:5] == first["car_vkm"]


# ------------------------------------------------------------------------------- compare: folders
def _fake_run(folder: Path, seed: int, values: dict, reps: dict | None = None) -> Path:
    folder.mkdir(parents=True)
    summary = {"scenario": folder.name, "seed": seed, "days": 10, "scale": 1.0, "workers_sampled": 100, **values}
    if reps:
        seeds = list(range(seed, seed + len(next(iter(reps.values())))))
        summary["replications"] = {"n": len(seeds), "seeds": seeds,
                                   "kpis": {k: {"mean": float(np.mean(v)), "values": v} for k, v in reps.items()}}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def test_compare_run_folders(tmp_path):
    a = _fake_run(tmp_path / "a", 42, {"remote_share": 0.2, "car_vkm": 1000.0, "co2_commute_t": 50.0,
                                       "quits_men_per_1000": 0.0, "modal_split": {"car": 0.5, "transit": 0.5}})
    b = _fake_run(tmp_path / "b", 42, {"remote_share": 0.3, "car_vkm": 900.0, "co2_commute_t": 45.5,
                                       "quits_men_per_1000": 1.0, "modal_split": {"car": 0.4, "transit": 0.6}})
    out, table = compare([str(a), str(b)], out=tmp_path / "cmp", quiet=True)
    data = json.loads((out / "comparison.json").read_text())
    rows = {r["kpi"]: r for r in data["rows"]}
    for k, (x, y) in {"remote_share": (0.2, 0.3), "car_vkm": (1000.0, 900.0), "co2_commute_t": (50.0, 45.5),
                      "modal_split.car": (0.5, 0.4)}.items():
        assert rows[k]["baseline"] == x and rows[k]["value"] == y and rows[k]["run"] == "b"
        assert rows[k]["diff"] == pytest.approx(y - x)
        assert rows[k]["diff_pct"] == pytest.approx(100 * (y - x) / x)
        assert rows[k]["ci95_low"] is None  # no replications, no interval
    assert rows["quits_men_per_1000"]["diff"] == 1.0 and rows["quits_men_per_1000"]["diff_pct"] is None
    assert [r["kpi"] for r in data["rows"]][:4] == [k for k in HEADLINE if k in rows][:4]  # the headline order
    assert [r["kpi"] for r in data["rows"]][:4] == ["quits_men_per_1000", "co2_commute_t", "remote_share", "car_vkm"]
    with open(out / "comparison.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == CSV_COLUMNS
        csv_rows = {r["kpi"]: r for r in reader}
    assert float(csv_rows["car_vkm"]["diff"]) == pytest.approx(-100.0)
    assert float(csv_rows["car_vkm"]["diff_pct"]) == pytest.approx(-10.0)
    assert csv_rows["car_vkm"]["unit"] == "vehicle-km, period total"
    assert csv_rows["co2_commute_t"]["unit"] == "t CO2, period total"
    assert csv_rows["remote_share"]["unit"] == "0-1 of worker-days"  # the stored value: a 0-1 share
    assert csv_rows["quits_men_per_1000"]["diff_pct"] == ""  # baseline 0: blank
    assert (out / "plots" / "compare_headline_pct.png").stat().st_size > 0
    assert "remote_share" in table and "car_vkm" in table and "-10.0%" in table
    lines = {line.split()[0]: line for line in table.splitlines() if line.split()}
    # planner's numbers: a share in percent and its difference in points, totals with separators
    assert "20.00%" in lines["remote_share"] and "30.00%" in lines["remote_share"]
    assert "+10.00 pp" in lines["remote_share"] and "+50.0%" in lines["remote_share"]
    assert "1,000" in lines["car_vkm"] and "-100" in lines["car_vkm"] and "e+" not in table


def test_compare_paired_interval(tmp_path):
    va, vb = [100.0, 110.0, 90.0], [95.0, 108.0, 84.0]
    a = _fake_run(tmp_path / "a", 7, {"car_vkm": va[0]}, reps={"car_vkm": va})
    b = _fake_run(tmp_path / "b", 7, {"car_vkm": vb[0]}, reps={"car_vkm": vb})
    c = _fake_run(tmp_path / "c", 8, {"car_vkm": vb[0]}, reps={"car_vkm": vb})  # other seeds: not paired
    out, _ = compare([str(a), str(b), str(c)], out=tmp_path / "cmp", quiet=True)
    rows = {(r["kpi"], r["run"]): r for r in json.loads((out / "comparison.json").read_text())["rows"]}
    d = np.array(vb) - np.array(va)
    half = stats.t.ppf(0.975, 2) * d.std(ddof=1) / math.sqrt(3)
    r = rows[("car_vkm", "b")]
    assert r["value"] == pytest.approx(np.mean(vb)) and r["baseline"] == pytest.approx(np.mean(va))
    assert r["diff"] == pytest.approx(d.mean())
    assert r["ci95_low"] == pytest.approx(d.mean() - half) and r["ci95_high"] == pytest.approx(d.mean() + half)
    assert rows[("car_vkm", "c")]["ci95_low"] is None


# ----------------------------------------------------------------------------------- compare: CLI
def test_compare_scenario_files_cli(tmp_path):
    out = tmp_path / "cmp"
    proc = run_cli("compare", "scenarios/milan_baseline.yaml", "scenarios/sme_support.yaml",
                   "--days", "5", "--scale", "0.002", "-o", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert f"confronto: {out}" in proc.stdout  # the Comune's scenarios ask for Italian (report.lang: it)
    table = proc.stdout.splitlines()
    header = next(i for i, line in enumerate(table) if line.startswith("indicatore "))
    assert table[header].split()[:4] == ["indicatore", "unità", "milan_baseline", "sme_support"]
    assert table[header + 2].startswith(HEADLINE[0])  # headline KPIs first
    for name in ("comparison.csv", "comparison.json", "plots/compare_headline_pct.png",
                 "plots/compare_modal_split.png", "runs/milan_baseline/summary.json", "runs/sme_support/summary.json"):
        assert (out / name).is_file(), name
    with open(out / "comparison.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["kpi"] for r in rows[:len(HEADLINE)]] == list(HEADLINE)
    base = json.loads((out / "runs/milan_baseline/summary.json").read_text())
    other = json.loads((out / "runs/sme_support/summary.json").read_text())
    assert base["seed"] == other["seed"] == 42 and base["days"] == other["days"] == 5  # paired
    car = next(r for r in rows if r["kpi"] == "car_vkm")
    assert float(car["baseline"]) == base["car_vkm"] and float(car["value"]) == other["car_vkm"]
    assert [p.name for p in tmp_path.iterdir()] == ["cmp"]
    for run in ("milan_baseline", "sme_support"):  # each run's own report names no temporary folder
        assert ".tmp-" not in (out / "runs" / run / "report.html").read_text(encoding="utf-8")
        assert (out / "runs" / run / "held_choices.json").is_file()  # the decomposition's held runs (on by default)
    # the decomposition of each KPI adds up to the comparison's difference (tests/test_decomposition.py: the parts)
    block = json.loads((out / "comparison.json").read_text())["decomposition"]["sme_support"]
    assert block["available"] and block["kpis"]
    for k, d in block["kpis"].items():
        diff = next(float(r["diff"]) for r in rows if r["kpi"] == k)
        assert d["total"] == pytest.approx(diff, rel=1e-9, abs=1e-9), k
        assert d["direct"] + d["departure_time"] + d["mode"] == pytest.approx(d["total"], rel=1e-12, abs=1e-9), k
    assert "Perché gli indicatori si sono mossi" in proc.stdout


@pytest.mark.parametrize("bad", ["missing_dir", "empty_dir", "not_yaml", "one_arg"])
def test_compare_bad_input_exit_2_nothing_written(tmp_path, capsys, bad):
    good = str(ROOT / "scenarios" / "milan_baseline.yaml")
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / "notes.txt").write_text("hello")
    arg = {"missing_dir": str(tmp_path / "nope"), "empty_dir": str(tmp_path / "empty_dir"),
           "not_yaml": str(tmp_path / "notes.txt"), "one_arg": None}[bad]
    out = tmp_path / "out"
    argv = ["compare", good] + ([arg] if arg else []) + ["-o", str(out), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert (arg or good) in err[0]
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty_dir", "notes.txt"]


def test_compare_bad_path_cli(tmp_path):
    out = tmp_path / "out"
    proc = run_cli("compare", "scenarios/milan_baseline.yaml", "no/such/run", "-o", str(out))
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: no/such/run: no such run folder or scenario file"
    assert proc.stdout == "" and not out.exists() and list(tmp_path.iterdir()) == []


def test_run_bad_replications(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", str(ROOT / "scenarios" / "milan_baseline.yaml"), "--replications", "0", "--out", str(out), "--quiet"]) == 2
    assert "--replications" in capsys.readouterr().err
    assert not out.exists()
