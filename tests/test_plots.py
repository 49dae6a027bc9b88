"""Plots in every results folder: each expected PNG is written, valid and not empty, limits included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.outputs.plots import PLOTS, make_plots
from sim.runner import run_and_write
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]
TINY = ["city.source=synthetic", "city.grid_size=7", "population.workers_internal=3000", "population.workers_inbound=600"]
EXPECTED = ("remote_share.png", "office_attendance_by_weekday.png", "modal_split.png", "car_traffic.png",
            "congestion_map.png", "co2_by_source.png", "stress.png", "quits.png", "adoption_by_size.png")


def _run(tmp_path: Path, scenario: str, days: int) -> Path:
    sc = load_scenario(ROOT / scenario, TINY, days=days)
    folder, _ = run_and_write(sc, tmp_path / sc.name, argv=["test"])
    return folder


def _check(folder: Path) -> None:
    plots = folder / "plots"
    assert plots.is_dir()
    for name in EXPECTED:
        png = plots / name
        assert png.is_file(), name
        data = png.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), name
        assert len(data) > 10_000, (name, len(data))


def test_plot_list_covers_the_expected_files():
    assert set(EXPECTED) <= {name for name, _ in PLOTS}


def test_baseline_folder_has_every_plot(tmp_path):
    folder = _run(tmp_path, "scenarios/examples/grid_city.yaml", days=30)
    _check(folder)
    # written inside the atomic block: nothing left beside the final folder
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
    # make_plots returns exactly what it wrote, and fails loudly in strict mode if a plot breaks
    summary = json.loads((folder / "summary.json").read_text())
    paths = make_plots(folder, summary, summary["scenario"], strict=True)
    assert sorted(p.name for p in paths) == sorted(name for name, _ in PLOTS)
    assert all(p.parent == folder / "plots" for p in paths)


@pytest.mark.parametrize("scenario", ["scenarios/limits/all_remote.yaml", "scenarios/limits/no_smart_working.yaml"])
def test_limit_scenarios_have_every_plot(tmp_path, scenario):
    folder = _run(tmp_path, scenario, days=5)
    _check(folder)
    summary = json.loads((folder / "summary.json").read_text())
    assert len(make_plots(folder, summary, summary["scenario"], strict=True)) == len(PLOTS)


@pytest.mark.parametrize("days", [1, 2])
def test_very_short_runs_have_every_plot(tmp_path, days):
    folder = _run(tmp_path, "scenarios/examples/grid_city.yaml", days=days)
    _check(folder)
    summary = json.loads((folder / "summary.json").read_text())
    assert len(make_plots(folder, summary, summary["scenario"], strict=True)) == len(PLOTS)
