"""run.py export: the runs' figures as an .xlsx (opened with openpyxl) and as CSV for an Italian Excel."""

from __future__ import annotations

import csv
import json

import pytest
from openpyxl import load_workbook

from sim.cli import main
from sim.outputs import kpis
from sim.outputs.replications import flatten_kpis


def _summary_kpis(folder) -> dict[str, float]:
    return flatten_kpis(json.loads((folder / "summary.json").read_text()))


def test_xlsx_sheets_headers_and_numbers_equal_the_summaries(report_runs, tmp_path, capsys):
    base, sme = report_runs
    out = tmp_path / "runs.xlsx"
    assert main(["export", str(base), str(sme), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"export: {out}"
    wb = load_workbook(out)
    assert wb.sheetnames == ["KPI", "comparison", "by_zone", "by_size_class", "by_group", "yearly"]
    ws = wb["KPI"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("kpi", "label", "unit", base.name, sme.name)
    got = {r[0]: r for r in rows[1:]}
    for folder, col in ((base, 3), (sme, 4)):
        want = _summary_kpis(folder)
        assert set(want) == set(got)  # every KPI of the run, one row each
        for k, v in want.items():
            assert got[k][col] == pytest.approx(v, rel=1e-12, abs=1e-12), k
    assert [r[0] for r in rows[1:len(kpis.HEADLINE) + 1]] == list(kpis.HEADLINE)  # the headline order
    assert got["remote_share"][1] == kpis.label("remote_share", "en") and got["remote_share"][2].startswith("0-1")
    assert ws.cell(row=[r[0] for r in rows].index("remote_share") + 1, column=4).number_format == "0.00%"
    cmp = list(wb["comparison"].iter_rows(values_only=True))
    assert cmp[0][:4] == ("label", "kpi", "unit", "baseline")
    car = next(r for r in cmp if r[1] == "car_vkm")
    assert car[3] == pytest.approx(_summary_kpis(base)["car_vkm"]) and car[5] == pytest.approx(_summary_kpis(sme)["car_vkm"])
    zones = list(wb["by_zone"].iter_rows(values_only=True))
    assert zones[0][:3] == ("run", "zone", "zone_id") and "geometry_wkb" not in zones[0]
    assert {r[0] for r in zones[1:]} == {base.name, sme.name}
    sizes = list(wb["by_size_class"].iter_rows(values_only=True))
    assert [r[1] for r in sizes[1:6]] == ["micro", "small", "medium", "large", "public"]
    # yearly.parquet: one row per year of each run (these runs are shorter than a year), the year's KPIs
    yearly = list(wb["yearly"].iter_rows(values_only=True))
    assert yearly[0][:3] == ("run", "year", "first_date") and [(r[0], r[1]) for r in yearly[1:]] == [(base.name, 1), (sme.name, 1)]
    col = yearly[0].index("car_vkm")
    assert yearly[1][col] == pytest.approx(_summary_kpis(base)["car_vkm"], rel=1e-12)  # a single year is the whole run


def test_csv_for_an_italian_excel(report_runs, tmp_path):
    base, sme = report_runs
    out = tmp_path / "runs.csv"
    assert main(["export", str(base), str(sme), "-o", str(out), "--csv-locale", "it", "--lang", "it"]) == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark: Excel reads the accents
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    assert rows[0] == ["kpi", "label", "unit", base.name, sme.name]
    by = {r[0]: r for r in rows[1:]}
    assert by["remote_share"][1] == kpis.label("remote_share", "it")
    want = _summary_kpis(base)
    for k in ("remote_share", "car_vkm", "co2_net_t"):
        text = by[k][3]
        assert "." not in text and "," in text, text  # a decimal comma, no thousands separator
        assert float(text.replace(",", ".")) == want[k]  # every digit kept
    for name in ("comparison", "by_zone", "by_size_class", "by_group"):
        assert (tmp_path / f"runs_{name}.csv").is_file(), name


@pytest.mark.parametrize("case, message", [
    ("missing", "no such run folder"),
    ("suffix", "expected a file name ending in .xlsx or .csv"),
    ("folder", "does not exist; create it first"),
])
def test_export_bad_input_exit_2_nothing_written(report_runs, tmp_path, capsys, case, message):
    base, _ = report_runs
    args = {"missing": [str(tmp_path / "nope"), "-o", str(tmp_path / "x.xlsx")],
            "suffix": [str(base), "-o", str(tmp_path / "x.ods")],
            "folder": [str(base), "-o", str(tmp_path / "no" / "x.xlsx")]}[case]
    assert main(["export", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
