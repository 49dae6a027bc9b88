"""Held-out validation of the car share by home NIL: the census reader (renormalised over known modes,
bad input named by file, line and column), the figures (correlation, mean absolute difference, each
weighted and not), and the report's section (present with NIL, absent on the grid)."""

from __future__ import annotations

import csv

import numpy as np
import pyarrow.parquet as pq
import pytest

from sim.outputs import validation as val
from sim.outputs.report import write_report
from tests.zones_city import milan_like_run

HEADER = ["id_nil", "nil", "mode", "count", "share", "nil_total", "platform_files", "match"]


def _write(path, rows, header=HEADER):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _census(path, figures: dict[int, tuple[int, int, int]]):
    """A census file: NIL id -> (car, other known, not available)."""
    rows = []
    for k, (car, other, unknown) in figures.items():
        for mode, c in (("Auto privata", car), ("Mezzi pubblici", other), ("Non disponibile", unknown)):
            rows.append([k, f"NIL {k}", mode, c, "", car + other + unknown, "", ""])
    return _write(path, rows)


def test_the_census_share_is_renormalised_over_known_modes(tmp_path):
    obs = val.read_census_car_share(_census(tmp_path / "c.csv", {1: (300, 500, 200), 12: (0, 10, 0)}))
    assert set(obs) == {"NIL_01", "NIL_12"}
    assert obs["NIL_01"].share == pytest.approx(300 / 800)  # "Non disponibile" out of the denominator
    assert obs["NIL_01"].share_published == pytest.approx(300 / 1000)
    assert obs["NIL_12"].share == 0.0 and obs["NIL_01"].known == 800


def test_the_shipped_census_file_when_present():
    if not val.CENSUS_FILE.is_file():
        pytest.skip(f"{val.CENSUS_FILE} not in this checkout (copied with the real Milan city)")
    obs = val.read_census_car_share()
    assert len(obs) == 66 and "NIL_05" not in obs  # PROVENANCE.md 3b: 66 of 88 NIL, no data for 5 VIGENTINA
    assert obs["NIL_01"].share_published == pytest.approx(0.1885, abs=5e-5)  # DUOMO, as published
    assert all(0 < o.share < 1 and o.share >= o.share_published for o in obs.values())


@pytest.mark.parametrize("rows, header, message", [
    ([[1, "A", "Auto privata", 3]], ["id_nil", "nil", "mode"], "line 1: missing column(s) count"),
    ([[1, "A", "Auto privata", "tre"]], ["id_nil", "nil", "mode", "count"],
     "line 2: column count: expected a number, got 'tre'"),
    ([[1, "A", "Auto privata", 3], [2, "B", "Auto privata", -1]], ["id_nil", "nil", "mode", "count"],
     "line 3: column count: expected a non-negative count, got '-1'"),
    ([[1.5, "A", "Auto privata", 3]], ["id_nil", "nil", "mode", "count"],
     "line 2: column id_nil: expected a non-negative integer, got '1.5'"),
    ([[1, "A", "Mezzi pubblici", 3]], ["id_nil", "nil", "mode", "count"], "NIL_01: no row with mode 'Auto privata'"),
])
def test_bad_census_files_are_named_with_line_and_column(tmp_path, rows, header, message):
    path = _write(tmp_path / "bad.csv", rows, header)
    with pytest.raises(val.CensusFileError) as err:
        val.read_census_car_share(path)
    assert str(err.value) == f"{path}: {message}"


def _by_zone(model_share, sampled, municipio=None):
    n = len(model_share)
    return {"zone_id": [f"NIL_{i + 1:02d}" for i in range(n)], "zone_name": [f"N{i}" for i in range(n)],
            "municipio": municipio or [1] * n, "car_share": list(model_share), "workers_sampled": list(sampled),
            "workers": [100.0 * s for s in sampled]}


def test_figures_are_the_correlation_and_mean_absolute_difference():
    observed = {f"NIL_{i:02d}": val.Observed(car=c, known=k, total=k + 5) for i, (c, k) in
                enumerate([(20, 100), (60, 200), (30, 100), (10, 50), (99, 100)], start=1)}
    z = _by_zone([0.25, 0.25, 0.40, 0.10, 0.9], [50, 80, 40, 31, 29], municipio=[1, 2, 3, 4, 0])
    v = val.validate_car_share(z, observed)
    # NIL_05 is not a NIL (Municipio 0); all four others have 30+ sampled workers
    assert [r["zone_id"] for r in v.rows] == ["NIL_01", "NIL_02", "NIL_03", "NIL_04"]
    obs, mod, w = np.array([0.2, 0.3, 0.3, 0.2]), np.array([0.25, 0.25, 0.40, 0.10]), np.array([100, 200, 100, 50.0])
    assert v.pearson_r == pytest.approx(np.corrcoef(obs, mod)[0, 1])
    assert v.mean_abs_diff == pytest.approx(np.mean([0.05, 0.05, 0.10, 0.10]))
    assert v.mean_abs_diff_weighted == pytest.approx((100 * .05 + 200 * .05 + 100 * .1 + 50 * .1) / 450)
    assert v.mean_diff_weighted == pytest.approx((100 * .05 - 200 * .05 + 100 * .1 - 50 * .1) / 450)
    # weighted correlation: the correlation of the data with each point repeated by its weight
    rep = np.repeat(np.arange(4), (w / 50).astype(int))
    assert v.pearson_r_weighted == pytest.approx(np.corrcoef(obs[rep], mod[rep])[0, 1])
    few = val.validate_car_share(_by_zone([0.25, 0.25], [50, 29]), observed)
    assert [r["zone_id"] for r in few.rows] == ["NIL_01"]
    assert few.not_compared == {"NIL_02": "29 sampled workers (fewer than 30)"}
    assert np.isnan(few.pearson_r)  # one point: no correlation
    missing = val.validate_car_share(_by_zone([0.2] * 7, [40] * 7), observed)
    assert missing.not_compared == {"NIL_06": "no census figure", "NIL_07": "no census figure"}


def test_a_perfect_model_scores_one_and_zero():
    observed = {f"NIL_{i:02d}": val.Observed(car=c, known=100, total=110) for i, c in enumerate([10, 30, 50], start=1)}
    v = val.validate_car_share(_by_zone([0.1, 0.3, 0.5], [40, 40, 40]), observed)
    assert v.pearson_r == pytest.approx(1.0) and v.pearson_r_weighted == pytest.approx(1.0)
    assert v.mean_abs_diff == pytest.approx(0.0, abs=1e-15) and v.mean_abs_diff_weighted == pytest.approx(0, abs=1e-15)


@pytest.fixture(scope="module")
def milan_folder(tmp_path_factory):
    return milan_like_run(tmp_path_factory.mktemp("validation") / "milan_like", scale=1.0)[1]


def test_the_report_validates_a_city_with_nil_and_not_the_grid(tmp_path, monkeypatch, milan_folder, report_runs):
    z = pq.read_table(milan_folder / "by_zone.parquet").to_pydict()
    figures = {}
    for code, share, mun in zip(z["zone_id"], z["car_share"], z["municipio"]):
        if mun > 0 and code != "NIL_02":  # NIL_02 has no census figure
            car = int(round(900 * min(share + 0.05, 1.0)))  # the census 5 points above the model
            figures[int(code[4:])] = (car, 900 - car, 100)
    monkeypatch.setattr(val, "CENSUS_FILE", _census(tmp_path / "census.csv", figures))
    page = write_report([milan_folder], tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<section id="validation">' in page and 'href="#validation"' in page
    v = val.validate_car_share(z, val.read_census_car_share())
    assert v.n >= 10 and "NIL_02" in v.not_compared
    assert v.mean_diff_weighted == pytest.approx(-0.05, abs=0.002)  # up to rounding of the counts
    assert f"{v.pearson_r:.2f}" in page and f"{100 * v.mean_abs_diff:.1f} pp" in page
    assert "validation_car_share_nil.png" in page and "NIL_02 (no census figure)" in page
    grid = write_report([report_runs[0]], tmp_path / "grid.html").read_text(encoding="utf-8")
    assert 'id="validation"' not in grid  # no NIL: no section


def test_the_validation_figure_has_both_maps_on_one_scale(milan_folder):
    z = pq.read_table(milan_folder / "by_zone.parquet").to_pydict()
    observed = {c: val.Observed(car=30, known=100, total=100) for c, m in zip(z["zone_id"], z["municipio"]) if m > 0}
    v = val.validate_car_share(z, observed)
    fig = val.validation_figure(z, v)
    maps = [a for a in fig.axes if any(c.get_gid() == "zones" for c in a.collections)]
    assert len(maps) == 2
    n_nil = sum(m > 0 for m in z["municipio"])
    for ax in maps:  # every NIL drawn, nothing outside the Comune
        assert sum(len(c.get_paths()) for c in ax.collections if c.get_gid() in ("zones", "no_data")) == n_nil
    census, model = (next(c for c in a.collections if c.get_gid() == "zones") for a in maps)
    assert census.norm.vmin == model.norm.vmin == 0 and census.norm.vmax == model.norm.vmax
    assert sorted(census.get_array()) == pytest.approx([30.0] * v.n)
