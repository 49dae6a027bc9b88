"""A lever's effect split into direct effect, departure-time and mode responses (sim.outputs.decomposition):
the parts add up to the total, runs with choices held keep them, and staggered hours move nobody directly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.i18n import t
from sim.orchestrate import compare
from sim.outputs.decomposition import HELD_FILE, PARTS, decompose, held_block, text_lines
from sim.outputs.kpis import DECOMPOSED
from sim.outputs.report import write_report

from .conftest import BASELINE, TINY


def _held(seed, ms, m):
    return held_block(seed, {"modes_and_slots": ms, "modes": m})


def test_parts_are_the_differences_of_the_held_runs_and_add_up():
    base = {"car_vkm": 1000.0, "delay_hours": 50.0}
    run = {"car_vkm": 1100.0, "delay_hours": 40.0}
    block = decompose(base, _held(7, {"car_vkm": 900.0, "delay_hours": 48.0}, {"car_vkm": 950.0, "delay_hours": 47.0}),
                      run, _held(7, {"car_vkm": 880.0, "delay_hours": 48.0}, {"car_vkm": 940.0, "delay_hours": 30.0}),
                      kpis=("car_vkm", "delay_hours", "co2_net_t"))
    assert block["available"]
    car, delay = block["kpis"]["car_vkm"], block["kpis"]["delay_hours"]
    assert (car["total"], car["direct"], car["departure_time"], car["mode"]) == (100.0, -20.0, 10.0, 110.0)
    assert (delay["total"], delay["direct"], delay["departure_time"], delay["mode"]) == (-10.0, 0.0, -17.0, 7.0)
    assert "co2_net_t" not in block["kpis"]  # a KPI the runs lack is left out, not made 0


def test_no_decomposition_without_held_runs_or_with_other_seeds():
    flat = {"car_vkm": 1.0}
    held = _held(1, flat, flat)
    assert decompose(flat, None, flat, held) == {"available": False, "reason": "no_held_baseline",
                                                 "reason_text": t("decomposition.reason_no_held_baseline")}
    assert decompose(flat, held, flat, None)["reason"] == "no_held_run"
    assert decompose(flat, held, flat, _held(2, flat, flat))["reason"] == "seeds_differ"
    lines = text_lines("x", decompose(flat, held, flat, None), "it")
    assert t("decomposition.reason_no_held_run", "it") in lines[1]
    assert text_lines("x", None) == []


def _scenario_files(folder: Path) -> tuple[Path, Path]:
    overrides = {k: v for k, v in (o.split("=") for o in TINY)}
    base = folder / "base.yaml"
    base.write_text(f"extends: {BASELINE}\nname: base\ndays: 10\nreport: {{lang: en}}\n"
                    f"city: {{source: {overrides['city.source']}, grid_size: {overrides['city.grid_size']}}}\n"
                    f"population: {{workers_internal: {overrides['population.workers_internal']}, "
                    f"workers_inbound: {overrides['population.workers_inbound']}}}\n", encoding="utf-8")
    stag = folder / "stag.yaml"
    stag.write_text("extends: base.yaml\nname: stag\npolicy:\n  staggered_hours: {enabled: true, shift_minutes: 60, "
                    "share_of_firms: 0.3, public_administration: true}\n", encoding="utf-8")
    return base, stag


@pytest.mark.slow
def test_compare_decomposes_staggered_hours(tmp_path):
    base, stag = _scenario_files(tmp_path)
    out, table = compare([str(base), str(stag)], out=tmp_path / "cmp", quiet=True)
    for run in ("base", "stag"):
        held = json.loads((out / "runs" / run / HELD_FILE).read_text())
        assert set(held["runs"]) == {"modes", "modes_and_slots"} and held["seed"] == 42
    cmp = json.loads((out / "comparison.json").read_text())
    block = cmp["decomposition"]["stag"]
    assert block["available"] and set(block["kpis"]) == set(DECOMPOSED)
    diffs = {r["kpi"]: r["diff"] for r in cmp["rows"] if r["run"] == "stag"}  # the comparison's own differences
    for k, d in block["kpis"].items():
        assert d["total"] == pytest.approx(diffs[k], rel=1e-12, abs=1e-12), k
        assert sum(d[p] for p in PARTS) == pytest.approx(d["total"], rel=1e-12, abs=1e-9), k
        # a later start moves nobody by itself: same trips, same slots, same roads
        assert d["direct"] == 0.0, k
    for k in ("car_vkm", "modal_split.car", "modal_split.transit"):  # with modes held, leaving later adds no car-km
        assert block["kpis"][k]["departure_time"] == 0.0, k
    assert block["kpis"]["delay_hours"]["departure_time"] < 0  # leaving later relieves the peak
    assert block["kpis"]["delay_hours"]["total"] < 0
    assert t("decomposition.title", "en", run="stag") in table
    page = write_report([out / "runs" / "base", out / "runs" / "stag"], tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="decomposition"' in page and t("decomposition.explain_mode", "en") in page

    # without the held runs: nothing decomposed, no held files
    out2, table2 = compare([str(base), str(stag)], out=tmp_path / "cmp2", quiet=True, decompose=False)
    assert not (out2 / "runs" / "stag" / HELD_FILE).exists()
    assert json.loads((out2 / "comparison.json").read_text())["decomposition"] == {"stag": None}
    assert t("decomposition.title", "en", run="stag") not in table2
    # a folder with held runs against one without: said, not guessed
    out3, table3 = compare([str(out / "runs" / "base"), str(out2 / "runs" / "stag")], out=tmp_path / "cmp3", quiet=True)
    assert json.loads((out3 / "comparison.json").read_text())["decomposition"]["stag"]["reason"] == "no_held_run"
