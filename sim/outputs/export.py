"""``run.py export RUN_DIR [RUN_DIR ...] -o FILE.xlsx``: the runs' figures as a spreadsheet (or CSV files).

Only reads results folders (the first is the baseline). Sheets:

- ``KPI``: one row per KPI (key, plain label, unit of the stored value), one column per run; the
  values are summary.json's (the mean over the seeds with replications), shares as 0-1 numbers shown
  in percent by the cell format, so a cell equals its summary.json figure;
- ``comparison`` (two runs or more): :func:`sim.outputs.compare.build_rows`, one row per KPI and run;
- ``by_zone``, ``by_size_class``, ``by_group`` (gender x care duties), and ``yearly`` when a folder
  has ``yearly.parquet``: each run's table, a first column naming the run.

CSV (``-o FILE.csv``): the ``KPI`` sheet in ``FILE.csv`` and each other sheet in ``FILE_<sheet>.csv``,
UTF-8 with a byte-order mark; ``csv_locale="it"`` writes ``;`` between fields and a decimal comma,
what Excel set to Italian opens as numbers. Files are written to temporaries and renamed into place.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

import pyarrow.parquet as pq

from sim.i18n import DEFAULT_LANGUAGE
from sim.outputs import kpis
from sim.outputs.compare import CSV_COLUMNS, CompareError, Source, build_rows, read_source, unique_labels

TABLES = {"by_zone": "by_zone", "by_size_class": "by_size_class", "by_group": "by_gender_caregiver",
          "yearly": "yearly"}  # sheet -> parquet file of a results folder
SKIP_COLUMNS = frozenset({"geometry_wkb"})  # polygons: not for a spreadsheet
CSV_LOCALES = {"it": (";", ","), "en": (",", ".")}  # field separator, decimal mark


class ExportError(Exception):
    """The export cannot be written; the message names the argument and the problem."""


Sheet = tuple[list[str], list[list]]  # header, rows


def sheets(run_dirs: list, lang: str = DEFAULT_LANGUAGE) -> dict[str, Sheet]:
    """The sheets of the export of ``run_dirs`` (the first is the baseline), in order."""
    if not run_dirs:
        raise ExportError("export: needs at least one run folder")
    try:
        sources = unique_labels([read_source(str(p)) for p in run_dirs])
    except CompareError as exc:
        raise ExportError(str(exc)) from None
    out: dict[str, Sheet] = {"KPI": _kpi_sheet(sources, lang)}
    if len(sources) > 1:
        rows = build_rows(sources)
        out["comparison"] = (["label", *CSV_COLUMNS],
                             [[kpis.label(r["kpi"], lang), *(r[c] if c != "unit" else kpis.stored_unit(r["kpi"], lang)
                                                              for c in CSV_COLUMNS)] for r in rows])
    for sheet, name in TABLES.items():
        table = _table_sheet(sources, name)
        if table is not None:
            out[sheet] = table
    return out


def _kpi_sheet(sources: list[Source], lang: str) -> Sheet:
    values = [s.values() for s in sources]
    keys = kpis.ordered(k for v in values for k in v)
    header = ["kpi", "label", "unit", *(s.label for s in sources)]
    return header, [[k, kpis.label(k, lang), kpis.stored_unit(k, lang), *(v.get(k) for v in values)] for k in keys]


def _table_sheet(sources: list[Source], name: str) -> Sheet | None:
    header: list[str] = []
    rows: list[list] = []
    for s in sources:
        try:
            table = pq.read_table(s.folder / f"{name}.parquet")
        except (OSError, ValueError):
            continue
        cols = [c for c in table.column_names if c not in SKIP_COLUMNS]
        for c in cols:
            if c not in header:
                header.append(c)
        data = table.select(cols).to_pydict()
        rows += [[s.label, *(data[c][i] if c in data else None for c in header)] for i in range(table.num_rows)]
    return (["run", *header], rows) if rows else None


def _clean(x):
    return None if isinstance(x, float) and not math.isfinite(x) else x


def workbook_bytes(run_dirs: list, lang: str = DEFAULT_LANGUAGE) -> bytes:
    """The ``.xlsx`` of :func:`sheets` as bytes (shares shown in percent, thousands separated)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for title, (header, rows) in sheets(run_dirs, lang).items():
        ws = wb.create_sheet(title)
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([_clean(x) if not isinstance(x, (list, dict)) else str(x) for x in row])
        if title == "KPI":  # the registry's format for each KPI's cells (values stay the stored numbers)
            for r, row in enumerate(rows, start=2):
                k = kpis.KPIS.get(row[0])
                fmt = ("0." + "0" * k.decimals + "%" if k.decimals else "0%") if k is not None and k.share else \
                    ("#,##0" + ("." + "0" * k.decimals if k.decimals else "")) if k is not None else "General"
                for c in range(4, len(row) + 1):
                    ws.cell(row=r, column=c).number_format = fmt
            ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 36, 60
        ws.freeze_panes = "B2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _csv_text(sheet: Sheet, csv_locale: str) -> str:
    sep, dec = CSV_LOCALES[csv_locale]
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n")

    def cell(x):
        x = _clean(x)
        if x is None:
            return ""
        if isinstance(x, bool):
            return str(x).lower()
        if isinstance(x, float):
            return repr(x).replace(".", dec)  # every digit kept, no thousands separator
        return str(x)

    header, rows = sheet
    w.writerow(header)
    for row in rows:
        w.writerow([cell(x) for x in row])
    return buf.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_export(run_dirs: list, out: Path, *, lang: str = DEFAULT_LANGUAGE, csv_locale: str = "en") -> list[Path]:
    """Write the export of ``run_dirs`` to ``out`` (``.xlsx``, or ``.csv`` plus one CSV per other sheet).

    Returns the files written. Raises :class:`ExportError` on bad input, before anything is written.
    """
    out = Path(out)
    if out.suffix.lower() not in (".xlsx", ".csv"):
        raise ExportError(f"-o {out}: expected a file name ending in .xlsx or .csv")
    if not out.parent.is_dir():
        raise ExportError(f"-o {out}: the folder {out.parent} does not exist; create it first or choose another -o")
    if csv_locale not in CSV_LOCALES:
        raise ExportError(f"--csv-locale: expected one of {', '.join(CSV_LOCALES)}, got {csv_locale!r}")
    if out.suffix.lower() == ".xlsx":
        data = workbook_bytes(run_dirs, lang)
        _write_atomic(out, data)
        return [out]
    written = []
    tables = sheets(run_dirs, lang)
    files = {title: out if title == "KPI" else out.with_name(f"{out.stem}_{title}.csv") for title in tables}
    for title, sheet in tables.items():
        _write_atomic(files[title], _csv_text(sheet, csv_locale).encode("utf-8-sig"))
        written.append(files[title])
    return written
