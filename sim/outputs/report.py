"""``run.py report RUN_DIR [RUN_DIR ...] -o report.html``: one self-contained HTML report.

Written for a city planner who will forward it: a single file that opens from an e-mail attachment
(CSS inline, every image a base64 ``data:`` URI, no script, font, link or anything else fetched).

Inputs: one or more results folders (``summary.json``, ``scenario.resolved.yaml``,
``manifest.json``, ``plots/*.png``); the first is the baseline. Content, in order:

1. title (scenario names, date) and what was run, in plain words: population represented, sample,
   days, seeds, replications; the levers that differ from the baseline (diff of the resolved
   scenarios, with the schema's meaning and unit), or for a single run the policy levers that differ
   from the defaults;
2. headline KPIs with units (and 95% intervals when the run has replications), worded and formatted
   as :mod:`sim.outputs.kpis` declares them;
3. with several runs, the comparison with the baseline (:func:`sim.outputs.compare.build_rows`) and its plots
   (:func:`sim.outputs.compare.make_plots`);
4. each run's plots, captioned with the question they answer;
5. calibration targets vs what the run achieved;
6. every scenario key with its unit, the value used and its source, by section (collapsible);
7. each run's manifest.

Bad input (a missing folder, a folder without ``summary.json``, an output path whose folder does
not exist) raises :class:`ReportError` before anything is written; the file is written to a
temporary sibling and renamed into place (``os.replace``).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import math
import os
import shlex
import struct
import tempfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from sim import __version__
from sim.outputs.advice import horizon_warnings, read_daily
from sim.outputs.compare import (CompareError, Source, build_rows, decompositions_of, make_plots, noise_verdict, notes,
                                 read_sources)
from sim.outputs import decomposition as dec
from sim.outputs import kpis
from sim.outputs.appraisal import appraise_runs, scenario_from, unit_values
from sim.outputs.appraisal import text_lines as appraisal_text_lines
from sim.outputs.plots import policy_starts
from sim.i18n import DEFAULT_LANGUAGE, check_language, has, localise_number, long_date, number, t
from sim.outputs.results import RunFolder, RunFolderError, read_run
from sim.scenario.docs import schema_rows
from sim.scenario.schema import MODES, SEGMENTS, SIZE_CLASSES, WORKDAYS_PER_YEAR


class ReportError(Exception):
    """The report cannot be written; the message names the argument and the problem."""


# ------------------------------------------------------------------------------------------ wording
# KPI labels, units and number formats: sim.outputs.kpis

# the question each plot answers (file name -> catalogue key caption.<stem>), in the report's order;
# unknown files get their file name. Section titles of the scenario: catalogue keys section.<name>.
PLOT_ORDER = ("remote_share.png", "adoption_by_size.png", "office_attendance_by_weekday.png", "modal_split.png",
              "car_traffic.png", "congestion_map.png", "map_remote_share.png", "map_car_share.png", "co2_by_source.png", "stress.png", "quits.png",
              "compare_headline_pct.png", "compare_modal_split.png")


def plot_caption(name: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The question a plot answers, in ``lang`` (the file name for a plot the catalogue does not know)."""
    key = f"caption.{Path(name).stem}"
    return t(key, lang) if has(key, lang) else name


MANIFEST_ORDER = ("package", "package_version", "git_commit", "command_line", "seed", "scale", "days",
                  "workers_sampled", "started", "finished", "wall_seconds", "peak_rss_mb", "python", "numpy", "mesa",
                  "platform")
_MISSING = object()


# ------------------------------------------------------------------------------------------ numbers
def input_pct(x: float | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """An input share (a target) as typed: 0.53 -> 53%."""
    return t("number.missing", lang) if x is None else localise_number(f"{100 * float(x):.4g}", lang) + "%"


def scalar_text(v: Any, lang: str = DEFAULT_LANGUAGE) -> str:
    """A scenario value as a planner reads it (YAML spelling for booleans; numbers in ``lang``)."""
    if v is _MISSING:
        return t("report.not_in_run", lang)
    if v is None:
        return t("report.none", lang)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return localise_number(f"{v:,}" if abs(v) >= 1000 else str(v), lang)
    if isinstance(v, float):
        return localise_number(f"{v:,g}" if abs(v) >= 1000 else f"{v:g}", lang)
    if isinstance(v, (list, tuple)):
        return "[" + "; ".join(scalar_text(x, lang) for x in v) + "]" if lang != "en" else \
            "[" + ", ".join(scalar_text(x, lang) for x in v) + "]"
    if isinstance(v, dict):
        return "; ".join(f"{k}: {scalar_text(x, lang)}" for k, x in v.items()) if all(
            not isinstance(x, dict) for x in v.values()) else " | ".join(
            f"{k}: {scalar_text(x, lang)}" for k, x in v.items())
    return str(v)


def value_html(v: Any, lang: str = DEFAULT_LANGUAGE) -> str:
    """A scenario value for a table cell: a mapping one entry per line (``micro: 0.3``)."""
    if isinstance(v, dict) and v:
        def inner(x: Any) -> str:
            if isinstance(x, dict):
                return "; ".join(f"{k} {scalar_text(y, lang)}" for k, y in x.items())
            return scalar_text(x, lang)
        return "<br>".join(f"{_e(k)}: {_e(inner(x))}" for k, x in v.items())
    return _e(scalar_text(v, lang))


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


# ------------------------------------------------------------------------------------------ inputs
class _Run:
    """One results folder as the report reads it."""

    def __init__(self, run: RunFolder, label: str, shown_path: str | None = None, lang: str = DEFAULT_LANGUAGE,
                 redraw_root: Path | None = None):
        self.folder = run.folder
        self.redraw_root = redraw_root  # where plots drawn in another language are drawn again in ``lang``
        self._plots: list[Path] | None = None
        self.label = label
        self.lang = lang
        self.shown_path = shown_path if shown_path is not None else str(run.folder.resolve())
        self.summary = run.summary
        self.scenario = run.scenario
        self.manifest = run.manifest
        self.source = Source(str(run.folder), "run folder", label=label, summary=run.summary, folder=run.folder)
        self.values = self.source.values()
        self.kpi_ci = {k: (v["ci95_low"], v["ci95_high"])
                       for k, v in ((run.summary.get("replications") or {}).get("kpis") or {}).items()}

    @property
    def name(self) -> str:
        return str(self.summary.get("scenario") or self.scenario.get("name") or self.label)

    def table(self, name: str) -> dict:
        """A parquet table of the folder as columns of lists ({} when absent or unreadable)."""
        try:
            return pq.read_table(self.folder / f"{name}.parquet").to_pydict()
        except (OSError, ValueError):
            return {}

    def plots(self) -> list[Path]:
        """The folder's plots in the report's language (drawn again, outside the folder, when they are not)."""
        if self._plots is None:
            folder = self.folder / "plots"
            if not folder.is_dir():
                self._plots = []
            elif self.redraw_root is None:
                self._plots = sort_plots(p for p in folder.glob("*.png") if p.is_file())
            else:
                from sim.outputs.plots import plots_in  # matplotlib only when plots are drawn again
                self._plots = sort_plots(plots_in(self.folder, self.summary, self.name, self.lang, self.redraw_root))
        return self._plots


def sort_plots(paths) -> list[Path]:
    """Known plots in the order of :data:`PLOT_ORDER`, then the others by name."""
    order = {name: i for i, name in enumerate(PLOT_ORDER)}
    return sorted(paths, key=lambda p: (order.get(p.name, len(order)), p.name))


def check_inputs(run_dirs: list, out: Path) -> list[RunFolder]:
    """Every folder exists and holds a readable ``summary.json``; ``out`` can be written. Raises ReportError."""
    if not run_dirs:
        raise ReportError("report: needs at least one run folder")
    loaded = []
    for arg in run_dirs:
        p = Path(arg)
        if not p.exists():
            raise ReportError(f"{arg}: no such run folder")
        if not p.is_dir():
            raise ReportError(f"{arg}: not a folder (expected a results folder written by 'run.py run')")
        if not (p / "summary.json").exists() and (p / "comparison.json").is_file() and (p / "runs").is_dir():
            runs = " ".join(str(p / "runs" / q.name) for q in sorted((p / "runs").iterdir()) if q.is_dir())
            raise ReportError(f"{arg}: a 'run.py compare' folder, not a run folder; give its run folders "
                              f"(baseline first){': ' + runs if runs else ''}")
        try:
            loaded.append(read_run(p, str(arg)))
        except RunFolderError as exc:
            raise ReportError(str(exc)) from None
    out = Path(out)
    if out.is_dir():
        raise ReportError(f"{out}: is a folder; expected the path of the HTML file to write")
    parent = out.parent
    if not parent.is_dir():
        what = "is not a folder" if parent.exists() else "does not exist"
        raise ReportError(f"{out}: the folder {parent} {what}; create it first or choose another -o")
    if not os.access(parent, os.W_OK):
        raise ReportError(f"{out}: the folder {parent} is not writable")
    return loaded


# ------------------------------------------------------------------------------------------ helpers
def flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as ``a.b.c`` keys (lists and scalars are leaves)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def lookup(d: dict, key: str) -> Any:
    cur: Any = d
    for part in key.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return _MISSING
        cur = cur[part]
    return cur


def _schema() -> tuple[list[dict], dict[str, dict]]:
    rows = schema_rows()
    return rows, {r["key"]: r for r in rows}


def schema_row_for(path: str, by_key: dict[str, dict]) -> dict | None:
    """The schema row of a key path (dict-valued keys cover their sub-keys: ``a.b.micro`` -> ``a.b``)."""
    parts = path.split(".")
    for n in range(len(parts), 0, -1):
        row = by_key.get(".".join(parts[:n]))
        if row is not None:
            return row
    return None


_NOT_LEVERS = frozenset({"name", "description", "extends", "report"})  # report: how it is written, not run


def scenario_diff(base: dict, other: dict) -> list[tuple[str, Any, Any]]:
    """(key path, baseline value, run value) for every key that differs; policy keys first."""
    a, b = flatten(base), flatten(other)
    keys = [k for k in dict.fromkeys([*a, *b]) if k.split(".")[0] not in _NOT_LEVERS]
    diffs = [(k, a.get(k, _MISSING), b.get(k, _MISSING)) for k in keys]
    diffs = [d for d in diffs if not _same(d[1], d[2])]
    return sorted(diffs, key=lambda d: 0 if d[0].startswith("policy.") else 1)


def policy_vs_defaults(scenario: dict, rows: list[dict]) -> list[tuple[str, Any, Any]]:
    """(key, default, value) for the policy levers that differ from the schema defaults."""
    out = []
    for r in rows:
        if r["key"].startswith("policy."):
            v = lookup(scenario, r["key"])
            if v is not _MISSING and not _same(r["default"], v):
                out.append((r["key"], r["default"], v))
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def figure_html(path: Path, caption: str | None = None, lang: str = DEFAULT_LANGUAGE) -> str:
    """A ``<figure>`` with the PNG embedded as a data URI (or a note if the file is not a PNG)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f'<p class="note">{_e(t("report.cannot_read", lang, name=path.name, why=exc.strerror or exc))}</p>'
    return png_html(data, path.name, caption, lang)


def png_html(data: bytes, name: str, caption: str | None = None, lang: str = DEFAULT_LANGUAGE) -> str:
    """A ``<figure>`` of PNG bytes (named ``name``) embedded as a data URI."""
    size = _png_size(data)
    if size is None:
        return f'<p class="note">{_e(t("report.not_png", lang, name=name))}</p>'
    caption = caption if caption is not None else plot_caption(name, lang)
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return (f'<figure><img src="{uri}" width="{size[0]}" height="{size[1]}" alt="{_e(caption)}">'
            f'<figcaption>{_e(caption)} <span class="file">{_e(name)}</span></figcaption></figure>')


def _table(head: list[str], rows: list[list[str]], num_cols: set[int] = frozenset(), cls: str = "",
           row_classes: list[str] | None = None, head_html: str | None = None) -> str:
    """An HTML table; cells are already HTML; ``num_cols`` are right-aligned."""
    th = head_html if head_html is not None else "<tr>" + "".join(
        f'<th{" class=num" if i in num_cols else ""} scope="col">{h}</th>' for i, h in enumerate(head)) + "</tr>"
    body = []
    width = max([len(head)] + [len(r) for r in rows])
    for j, r in enumerate(rows):
        rc = f' class="{row_classes[j]}"' if row_classes and row_classes[j] else ""
        if len(r) == 1 and width > 1:  # one cell across the whole row
            body.append(f'<tr{rc}><td colspan="{width}">{r[0]}</td></tr>')
            continue
        body.append(f"<tr{rc}>" + "".join(f'<td{" class=num" if i in num_cols else ""}>{c}</td>'
                                          for i, c in enumerate(r)) + "</tr>")
    return (f'<div class="scroll"><table{f" class={cls}" if cls else ""}><thead>{th}</thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _label_cell(key: str, label: str) -> str:
    return f'{_e(label)}<span class="key">{_e(key)}</span>'


def _date_text(iso: str | None, lang: str = DEFAULT_LANGUAGE) -> str:
    if not iso:
        return ""
    try:
        d = dt.datetime.fromisoformat(str(iso))
    except ValueError:
        try:
            d = dt.datetime.combine(dt.date.fromisoformat(str(iso)), dt.time())
        except ValueError:
            return str(iso)
    return long_date(d, lang)


# ------------------------------------------------------------------------------------------ sections
def _run_words(run: _Run) -> str:
    s, lang = run.summary, run.lang
    workers = s.get("workers")
    scale = s.get("scale")
    sampled = s.get("workers_sampled") or run.manifest.get("workers_sampled")
    days = s.get("days")
    parts = []
    if workers is not None:
        pop = t("report.population", lang, workers=localise_number(f"{workers:,.0f}", lang))
        if scale is not None and scale < 1:
            each = f"{1 / scale:,.0f}" if 1 / scale >= 10 else f"{1 / scale:.3g}"
            pop += (t("report.sample", lang, pct=localise_number(f"{100 * scale:g}", lang))
                    + (t("report.sample_detail", lang, sampled=localise_number(f"{sampled:,}", lang),
                         each=localise_number(each, lang)) if sampled else ""))
        elif scale is not None:
            pop += t("report.sample_full", lang)
        parts.append(pop)
    if days is not None:
        start, years = run.scenario.get("start"), run.scenario.get("years")
        parts.append(t("report.workdays", lang, days=days)
                     + (t("report.workdays_from", lang, date=_date_text(start, lang)) if start else "")
                     + ((t("report.years_one", lang) if years == 1 else t("report.years_many", lang, years=years))
                        if years else ""))
    reps = s.get("replications")
    if reps:
        seeds = reps.get("seeds") or []
        parts.append(t("report.replications", lang, n=reps.get("n", len(seeds)), first=seeds[0], last=seeds[-1])
                     if seeds else t("report.replications_plain", lang))
    elif s.get("seed") is not None:
        parts.append(t("report.single_seed", lang, seed=s["seed"]))
    return "; ".join(parts)


def lever_words(key: str, row: dict, lang: str) -> tuple[str, str]:
    """(plain label, meaning) of a scenario key: the catalogue's for a policy lever, else the schema's meaning."""
    if has(f"lever.{key}.label", lang):
        return t(f"lever.{key}.label", lang), t(f"lever.{key}.help", lang)
    return "", row.get("meaning", "")


def _levers_table(diffs: list[tuple[str, Any, Any]], by_key: dict, left: str, right: str,
                  lang: str = DEFAULT_LANGUAGE) -> str:
    rows = []
    for key, a, b in diffs:
        row = schema_row_for(key, by_key) or {}
        u = row.get("unit", "-")
        name, meaning = lever_words(key, row, lang)
        rows.append([(f"{_e(name)}<span class=key>{_e(key)}</span>" if name else f"<code>{_e(key)}</code>"),
                     _e(meaning), _e(scalar_text(a, lang)) + " &rarr; " + f"<strong>{_e(scalar_text(b, lang))}</strong>",
                     _e("" if u == "-" else u)])
    return _table([t("report.col_key", lang), t("report.col_what", lang), f"{_e(left)} &rarr; {_e(right)}",
                   t("report.col_unit", lang)], rows, cls="levers")


def section_what(runs: list[_Run], rows: list[dict], by_key: dict, note_lines: list[str],
                 warnings: list[str] = ()) -> str:
    base = runs[0]
    lang = base.lang
    out = [f'<section id="what"><h2>{_e(t("report.what_title", lang))}</h2>']
    texts = [_run_words(r) for r in runs]
    if len(runs) == 1:
        out.append("<p>" + t("report.what_one", lang, name=f"<strong>{_e(base.name)}</strong>", text=_e(texts[0]))
                   + "</p>")
    else:
        names = ", ".join(f"<strong>{_e(r.label)}</strong>" for r in runs[1:])
        count = t(f"report.count_{len(runs)}", lang) if has(f"report.count_{len(runs)}", lang) else str(len(runs))
        out.append("<p>" + t("report.what_many", lang, count=count, base=f"<strong>{_e(base.label)}</strong>",
                             names=names))
        if len(set(texts)) == 1:
            out.append(" " + t("report.each_run", lang, text=_e(texts[0])) + "</p>")
        else:
            out.append("</p><ul>" + "".join(f"<li><strong>{_e(r.label)}</strong>: {_e(tx)}.</li>"
                                            for r, tx in zip(runs, texts)) + "</ul>")
    out.append(f'<p>{_e(t("report.totals", lang))}</p>')
    for w in warnings:
        out.append(f'<p class="warn">{_e(t("report.warning", lang, text=w))}</p>')
    for n in note_lines:
        out.append(f'<p class="warn">{_e(t("report.note", lang, text=n))}</p>')
    descs = [(r, " ".join(str(r.scenario.get("description") or "").split())) for r in runs]
    if any(d for _, d in descs):
        out.append(f"<p>{_e(t('report.descs_many' if len(runs) > 1 else 'report.descs_one', lang))}</p>")
    for r, desc in descs:
        if desc:
            out.append(f'<p class="desc"><strong>{_e(r.label if len(runs) > 1 else r.name)}</strong>: {_e(desc)}</p>')
    if len(runs) == 1:
        out.append(f"<h3>{_e(t('report.levers_one_title', lang))}</h3>")
        if not base.scenario:
            out.append(f'<p class="note">{_e(t("report.no_resolved", lang))}</p>')
        else:
            diffs = policy_vs_defaults(base.scenario, rows)
            if diffs:
                n = len(diffs)
                out.append("<p>" + _e(t("report.levers_differ_one", lang) if n == 1
                                      else t("report.levers_differ_many", lang, n=n)) + "</p>")
                out.append(_levers_table(diffs, by_key, t("report.col_default", lang), t("report.col_this_run", lang),
                                         lang))
            else:
                out.append(f"<p>{_e(t('report.levers_none', lang))}</p>")
    else:
        out.append(f"<h3>{_e(t('report.levers_many_title', lang))}</h3>")
        for r in runs[1:]:
            if not (base.scenario and r.scenario):
                out.append(f'<p class="note">{_e(t("report.diff_unknown", lang, label=r.label))}</p>')
                continue
            diffs = scenario_diff(base.scenario, r.scenario)
            label = f"<strong>{_e(r.label)}</strong>"
            if diffs:
                out.append("<p>" + (t("report.differs_one", lang, label=label) if len(diffs) == 1
                                    else t("report.differs_many", lang, label=label, n=len(diffs))) + "</p>")
                out.append(_levers_table(diffs, by_key, t("report.col_baseline", lang), r.label, lang))
            else:
                out.append("<p>" + t("report.differs_none", lang, label=label) + "</p>")
    out.append("</section>")
    return "".join(out)


# the KPIs of the year-by-year table, in this order (the trajectory a planner reads first)
TRAJECTORY = ("adoption_by_size.micro", "adoption_by_size.small", "adoption_by_size.medium", "remote_share",
              "co2_net_t", "car_vkm", "hours_saved_per_worker", "quits_women_per_1000", "high_stress_share")


def section_trajectory(runs: list[_Run]) -> str:
    """Year by year, for each run longer than a year: a table of :data:`TRAJECTORY` and the trajectory plot.
    Empty when no run is longer than a year."""
    long_runs = [r for r in runs if len((r.summary.get("by_year") or [])) > 1]
    if not long_runs:
        return ""
    lang = runs[0].lang
    out = [f'<section id="trajectory"><h2>{_e(t("report.toc_trajectory", lang))}</h2>',
           f"<p>{_e(t('report.traj_intro', lang))}</p>"]
    for r in long_runs:
        years = r.summary["by_year"]
        starts = policy_starts(r.scenario)
        out.append(f"<h3>{_e(r.label)}</h3>")
        if starts:
            levers = ", ".join(t("report.traj_lever_from", lang, lever=t(f"timed_lever.{n}", lang) if has(f"timed_lever.{n}", lang)
                                 else n.replace("_", " "), date=_date_text(d, lang)) for n, d in starts)
            out.append(f"<p>{_e(t('report.traj_levers', lang, levers=levers))}</p>")
        head = [t("report.col_indicator", lang), t("report.col_unit", lang)] + [
            _e(t("report.traj_year", lang, n=y["year"], year=y["first_date"][:4])) for y in years]
        rows = []
        for key in TRAJECTORY:
            vals = [flatten(y).get(key) for y in years]
            if all(v is None for v in vals):
                continue
            rows.append([_label_cell(key, kpis.label(key, lang)), _e(kpis.unit(key, lang))]
                        + [_e(kpis.format_value(key, v, lang=lang)) for v in vals])
        out.append(_table(head, rows, num_cols=set(range(2, 2 + len(years))), cls="kpis"))
        png = next((p for p in r.plots() if p.name == "trajectory_by_year.png"), None)
        if png is not None:
            out.append(figure_html(png, lang=lang))
    out.append("</section>")
    return "".join(out)


def section_appraisal(runs: list[_Run]) -> str:
    """Costs and benefits in euros of each run against the baseline (:mod:`sim.outputs.appraisal`), and the
    unit values with their sources. Empty with a single run."""
    if len(runs) < 2:
        return ""
    base, lang = runs[0], runs[0].lang

    def eur(x: float | None) -> str:
        return t("number.missing", lang) if x is None else number(x, 0, lang)

    out = [f'<section id="appraisal"><h2>{_e(t("report.toc_appraisal", lang))}</h2>',
           "<p>" + t("report.app_intro", lang, base=f"<b>{_e(base.label)}</b>", params="<code>appraisal.*</code>") + "</p>"]
    scenario = None
    for r in runs[1:]:
        block = appraise_runs(base.summary, base.scenario, r.summary, r.scenario)
        out.append(f"<h3>{_e(r.label)}</h3>")
        if block is None:
            out.append(f"<p>{_e(t('report.app_none', lang))}</p>")
            continue
        scenario = scenario_from(r.scenario)
        rows = [[_e(t("report.app_cost", lang, what=t(f"appraisal.{k}", lang))), eur(v)] for k, v in block["costs_eur"].items()]
        rows += [[_e(t("report.app_benefit", lang, what=t(f"appraisal.{k}", lang))), eur(v)]
                 for k, v in block["benefits_eur"].items()]
        rows.append([f"<b>{_e(t('report.app_npv', lang))}</b>", f"<b>{eur(block['npv_eur'])}</b>"])
        rows.append([_e(t("report.app_bcr", lang)),
                     t("number.missing", lang) if block["bcr"] is None else number(block["bcr"], 2, lang)])
        for key in ("eur_per_t_co2_avoided", "eur_per_hour_saved", "eur_per_woman_kept"):
            rows.append([_e(t(f"report.app_{key}", lang)), eur(block[key])])
        n_years = block["years"]
        col = t("report.app_col_eur_one", lang) if n_years == 1 else t("report.app_col_eur_many", lang, years=n_years)
        out.append(_table([_e(t("report.app_col_part", lang)), _e(col)], rows, num_cols={1}, cls="kpis"))
        out.append('<p class="small">' + _e(t("report.app_physical", lang, co2=number(block["co2_avoided_t"], 0, lang),
                                              hours=number(block["hours_saved"], 0, lang),
                                              women=number(block["women_kept"], 1, lang))) + "</p>")
        if block.get("intervals"):  # with paired replications: the 95% interval of each figure over the seeds
            out.append('<p class="small">' + _e(appraisal_text_lines(r.label, block, lang)[-1].strip()) + "</p>")
    if scenario is not None:
        out.append(f"<h3>{_e(t('report.app_units_title', lang))}</h3>")
        out.append(_table([_e(t("report.col_parameter", lang)), _e(t("report.col_value", lang)), _e(t("report.col_unit", lang)),
                           _e(t("report.col_source", lang))],
                          [[f"<code>{_e(k)}</code>", _e(v), _e(u), _source_html(src, lang)] for k, v, u, src in unit_values(scenario)]))
    out.append("</section>")
    return "".join(out)


def section_kpis(runs: list[_Run]) -> str:
    lang = runs[0].lang
    out = [f'<section id="kpis"><h2>{_e(t("report.kpis_title", lang))}</h2>']
    has_ci = any(r.kpi_ci for r in runs)
    if has_ci:
        out.append(f"<p>{_e(t('report.kpis_ci', lang))}</p>")
    head = [t("report.col_indicator", lang), t("report.col_unit", lang)] + (
        [_e(r.label) for r in runs] if len(runs) > 1 else [t("report.col_value", lang)])
    rows = []
    for key in kpis.HEADLINE:
        if all(r.values.get(key) is None for r in runs):
            continue  # a KPI an older folder does not have
        cells = [_label_cell(key, kpis.label(key, lang)), _e(kpis.unit(key, lang))]
        for r in runs:
            cells.append(_e(kpis.format_value(key, r.values.get(key), r.kpi_ci.get(key), lang)))
        rows.append(cells)
    out.append(_table(head, rows, num_cols=set(range(2, 2 + len(runs))), cls="kpis"))
    hs = [(r.summary.get("calibration") or {}).get("high_stress_threshold") for r in runs]
    if hs and hs[0] is not None:
        level = scalar_text(round(float(hs[0]), 2), lang)  # the calibrated threshold, as the stress KPIs show it
        out.append(f'<p class="small">{_e(t("report.high_stress", lang, level=level, days=WORKDAYS_PER_YEAR))}</p>')
    out.extend(f'<p class="small">{_e(line)}</p>' for line in co2_accounting_lines(runs))
    out.append("</section>")
    return "".join(out)


def co2_accounting_lines(runs: list[_Run]) -> list[str]:
    """How the runs count CO2 (the transit accounting, once when the runs share it) and each run's net CO2
    by season with its break-even car commute by season; nothing for a folder without these figures."""
    lang = runs[0].lang
    out = []
    said = set()
    for r in runs:
        e = (r.scenario or {}).get("emissions") or {}
        how = r.summary.get("transit_accounting") or e.get("transit_accounting")
        if how == "marginal" and "transit_marginal_g_per_pkm" in e:
            line = t("report.co2_marginal", lang, g=scalar_text(e["transit_marginal_g_per_pkm"], lang))
        elif how == "average" and "transit_g_per_pkm" in e:
            line = t("report.co2_average", lang, urban=scalar_text(e["transit_g_per_pkm"], lang),
                     rail=scalar_text(e["regional_rail_g_per_pkm"], lang))
        else:
            continue
        if line not in said:
            said.add(line)
            out.append((f"{r.label}: " if len(runs) > 1 else "") + line)
    keys = ("co2_net_heating_season_t", "co2_net_other_t", "break_even_km_heating", "break_even_km_other")
    for r in runs:
        if any(r.values.get(k) is None for k in keys):
            continue  # an older folder
        occ = ((r.scenario or {}).get("mode") or {}).get("car_occupancy")
        v = {k: kpis.format_value(k, r.values[k], lang=lang) for k in keys}
        out.append(t("report.co2_seasons", lang, who=f"{r.label}: " if len(runs) > 1 else "",
                     heat=v["co2_net_heating_season_t"], other=v["co2_net_other_t"],
                     occ=scalar_text(occ, lang) if occ is not None else "?",
                     be_heat=v["break_even_km_heating"], be_other=v["break_even_km_other"]))
    return out


def section_comparison(runs: list[_Run], sources: list[Source], rows_cmp: list[dict]) -> str:
    base = runs[0]
    lang = base.lang
    by = {(r["kpi"], r["run"]): r for r in rows_cmp}
    names = list(dict.fromkeys(r["kpi"] for r in rows_cmp))
    has_ci = {s.label: any(by[(k, s.label)]["ci95_low"] is not None for k in names if (k, s.label) in by)
              for s in sources[1:]}
    intro = (t("report.cmp_intro", lang, base=f"<strong>{_e(base.label)}</strong>")
             + (_e(t("report.cmp_intro_ci", lang)) if any(has_ci.values()) else "")
             + t("report.cmp_intro_end", lang, command="<code>run.py compare</code>"))
    out = [f'<section id="comparison"><h2>{_e(t("report.cmp_title", lang))}</h2>', f"<p>{intro}</p>"]
    if not any(has_ci.values()):
        out.append(f'<p class="note">{_e(t("report.cmp_intro_one", lang))}</p>')

    def table(keys: list[str]) -> str:
        return table_of(keys, sources)

    def table_of(keys: list[str], sources: list[Source]) -> str:
        head1 = (f'<tr><th scope="col" rowspan="2">{_e(t("report.col_indicator", lang))}</th>'
                 f'<th scope="col" rowspan="2">{_e(t("report.col_unit", lang))}</th>'
                 f'<th scope="col" rowspan="2" class="num">{_e(base.label)}<br><span class="key">'
                 f'{_e(t("report.col_baseline", lang))}</span></th>')
        head2 = "<tr>"
        for s in sources[1:]:
            n = 5 if has_ci[s.label] else 3
            head1 += f'<th scope="colgroup" colspan="{n}" class="group">{_e(s.label)}</th>'
            head2 += (f'<th class="num">{_e(t("report.col_value", lang))}</th><th class="num">'
                      f'{_e(t("report.col_diff", lang))}</th><th class="num">{_e(t("report.col_diff_pct", lang))}</th>')
            if has_ci[s.label]:
                head2 += (f'<th class="num">{_e(t("report.col_ci", lang))}</th>'
                          f'<th>{_e(t("report.col_verdict", lang))}</th>')
        head_html = head1 + "</tr>" + head2 + "</tr>"
        body = []
        num_cols = set(range(2, 3))
        col = 3
        for s in sources[1:]:
            num_cols |= set(range(col, col + (4 if has_ci[s.label] else 3)))
            col += 5 if has_ci[s.label] else 3
        for k in keys:
            first = next((by[(k, s.label)] for s in sources[1:] if (k, s.label) in by), None)
            if first is None:
                continue
            cells = [_label_cell(k, kpis.label(k, lang)), _e(kpis.unit(k, lang)),
                     _e(kpis.format_value(k, first["baseline"], lang=lang))]
            for s in sources[1:]:
                r = by.get((k, s.label))
                if r is None:
                    cells += [""] * (5 if has_ci[s.label] else 3)
                    continue
                cls = _verdict_class(k, r)
                cells += [_e(kpis.format_value(k, r["value"], lang=lang)),
                          f'<span class="{cls}">{_e(kpis.format_diff(k, r["diff"], lang))}</span>',
                          _e(kpis.format_pct_change(r["diff_pct"], lang))]
                if has_ci[s.label]:
                    v = noise_verdict(r["ci95_low"], r["ci95_high"])
                    cells.append(_e(kpis.format_interval(k, r["ci95_low"], r["ci95_high"], lang)))
                    cells.append(f'<span class="{cls}">{_e(t("noise." + v, lang))}</span>' if v else "")
            body.append(cells)
        return _table([], body, num_cols=num_cols, cls="cmp", head_html=head_html)

    head = [k for k in kpis.HEADLINE if k in names]
    rest = [k for k in kpis.ordered(names) if k not in kpis.HEADLINE]
    others = sources[1:]
    if len(others) > 1:  # on paper one table per run (a table of every run is wider than an A4 page)
        out.append('<div class="screen">' + table(head) + "</div>")
        for s in others:
            sources_now = [sources[0], s]
            out.append(f'<div class="print"><h3>{_e(s.label)}</h3>'
                       + table_of(head, sources_now) + "</div>")
    else:
        out.append(table(head))
    if rest:
        out.append(f"<details><summary>{_e(t('report.cmp_rest', lang, n=len(rest)))}</summary>")
        if len(others) > 1:
            out.append('<div class="screen">' + table(rest) + "</div>"
                       + "".join(f'<div class="print"><h3>{_e(s.label)}</h3>' + table_of(rest, [sources[0], s])
                                 + "</div>" for s in others))
        else:
            out.append(table(rest))
        out.append("</details>")
    out.append("</section>")
    return "".join(out)


def section_decomposition(sources: list[Source] | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """Each run's change of the decomposed KPIs split into direct effect, departure-time and mode responses
    (:mod:`sim.outputs.decomposition`); empty when no folder has held runs."""
    if not sources or len(sources) < 2:
        return ""
    blocks = decompositions_of(sources)
    if all(b is None for b in blocks.values()):
        return ""
    out = [f'<section id="decomposition"><h2>{_e(t("decomposition.section", lang))}</h2>',
           "<p>" + t("decomposition.intro", lang, base=f"<strong>{_e(sources[0].label)}</strong>") + "</p><ul>"
           + "".join(f"<li>{_e(t(f'decomposition.explain_{p}', lang))}</li>" for p in ("direct", "departure", "mode"))
           + "</ul>"]
    head = [_e(t("report.col_indicator", lang)), _e(t("report.col_unit", lang)), _e(t("report.col_baseline", lang)),
            _e(t("decomposition.total", lang))] + [_e(t(f"decomposition.{p}", lang)) for p in dec.PARTS]
    for label_, block in blocks.items():
        out.append(f"<h3>{_e(label_)}</h3>")
        if block is None or not block["available"]:
            reason = dec.reason_text(block, lang) if block else t("decomposition.reason_no_held_run", lang)
            out.append(f'<p class="note">{_e(t("decomposition.none", lang, run=label_, reason=reason))}</p>')
            continue
        rows = [[_label_cell(k, kpis.label(k, lang)), _e(kpis.unit(k, lang)), _e(kpis.format_value(k, d["baseline"], lang=lang))]
                + [_e(kpis.format_diff(k, d[p], lang, extra_decimals=1)) for p in ("total", *dec.PARTS)]
                for k, d in block["kpis"].items()]
        out.append(_table(head, rows, num_cols=set(range(2, 7)), cls="kpis"))
    out.append("</section>")
    return "".join(out)


def _verdict_class(key: str, row: dict) -> str:
    """CSS class of a difference: better/worse only when its interval excludes 0, else neutral."""
    v = noise_verdict(row.get("ci95_low"), row.get("ci95_high"))
    if v != "beyond" or row.get("diff") is None:
        return "d-neutral"
    sign = kpis.better_sign(key)
    good = sign * row["diff"]
    return "d-better" if good > 0 else "d-worse" if good < 0 else "d-neutral"


def section_plots(runs: list[_Run], compare_pngs: list[Path]) -> str:
    lang = runs[0].lang
    out = [f'<section id="plots"><h2>{_e(t("report.plots_title", lang))}</h2>']
    if compare_pngs:
        out.append(f"<h3>{_e(t('report.plots_compare', lang))}</h3>")
        out.extend(figure_html(p, lang=lang) for p in compare_pngs)
    for r in runs:
        pngs = r.plots()
        if len(runs) > 1 or compare_pngs:
            out.append(f"<h3>{_e(r.label)}</h3>")
        if not pngs:
            out.append(f'<p class="note">{_e(t("report.no_plots", lang, folder=r.folder.name))}</p>')
        out.extend(figure_html(p, lang=lang) for p in pngs)
    out.append("</section>")
    return "".join(out)


def _calibration_run(run: _Run, by_key: dict) -> str:
    s, sc, lang = run.summary, run.scenario, run.lang
    cal = s.get("calibration") or {}
    out = []

    def src(key: str) -> str:
        row = by_key.get(key) or {}
        return _source_html(row.get("source", "-"), lang)

    rows = []
    target = lookup(sc, "traffic.target_peak_extra_time")
    if target is not _MISSING and s.get("peak_extra_time") is not None:
        rows.append([t("report.cal_peak", lang), input_pct(target, lang),
                     kpis.format_value("peak_extra_time", s["peak_extra_time"], lang=lang),
                     kpis.format_diff("peak_extra_time", s["peak_extra_time"] - target, lang),
                     src("traffic.target_peak_extra_time")])
    # the roads' background follows the commuters' share of peak traffic; each transit network runs full at its peak
    shares_t, shares_a = lookup(sc, "traffic.commuter_share_of_peak_traffic"), cal.get("commuter_share_of_peak_vkm") or {}
    if isinstance(shares_t, dict):
        for kind, v in shares_a.items():
            if kind in shares_t:
                rows.append([t("report.cal_commuter_share", lang, kind=t(f"link_kind.{kind}", lang)), input_pct(shares_t[kind], lang),
                             input_pct(v, lang), input_pct(v - shares_t[kind], lang), src("traffic.commuter_share_of_peak_traffic")])
    loads_t, loads_a = lookup(sc, "traffic.transit_peak_load_target"), s.get("transit_peak_load_by_network") or {}
    if isinstance(loads_t, dict):
        for net, v in loads_a.items():
            if net in loads_t:
                rows.append([t("report.cal_transit_load", lang, network=t(f"transit_network.{net}", lang)),
                             kpis.format_value("transit_peak_load", loads_t[net], lang=lang),
                             kpis.format_value("transit_peak_load", v, lang=lang),
                             kpis.format_diff("transit_peak_load", v - loads_t[net], lang), src("traffic.transit_peak_load_target")])
    # expected quits (no sampling noise) against the calibration targets: INL for mothers of children 0-2;
    # men's target is for men other than fathers of a child 0-2 (a few % of men, with a lower rate)
    for label_key, key, key_run in (
            ("report.cal_quits_mothers_u3", "wellbeing.target_quits_mothers_u3_per_1000", "mothers_u3_quits_per_1000"),
            ("report.cal_quits_men", "wellbeing.target_quits_men_per_1000", "quits_men_per_1000")):
        target_q, v = lookup(sc, key), s.get(key_run)
        if target_q is not _MISSING and v is not None:
            rows.append([t(label_key, lang), scalar_text(target_q, lang), kpis.format_value(key_run, v, lang=lang),
                         kpis.format_diff(key_run, v - target_q, lang), src(key)])
    target_hs, v = lookup(sc, "wellbeing.target_high_stress_share"), s.get("high_stress_share")
    if target_hs is not _MISSING and v is not None:
        rows.append([t("report.cal_high_stress", lang), input_pct(target_hs, lang),
                     kpis.format_value("high_stress_share", v, lang=lang),
                     kpis.format_diff("high_stress_share", v - target_hs, lang), src("wellbeing.target_high_stress_share")])
    targets = lookup(sc, "adoption.target_allowed_share")
    adopt = s.get("adoption_by_size") or {}
    if isinstance(targets, dict):
        for k in SIZE_CLASSES:
            if k in targets and k in adopt:
                key_run = f"adoption_by_size.{k}"
                rows.append([kpis.label(key_run, lang), input_pct(targets[k], lang),
                             kpis.format_value(key_run, adopt[k], lang=lang),
                             kpis.format_diff(key_run, adopt[k] - targets[k], lang),
                             src("adoption.target_allowed_share")])
    sources = [r[4] for r in rows]
    for i in range(1, len(rows)):  # a source repeated from the row above is not spelled out again
        if sources[i] == sources[i - 1]:
            rows[i][4] = f'<span class="note">{_e(t("report.as_above", lang))}</span>'
    if rows:
        out.append(_table([t(f"report.cal_{c}", lang) for c in ("what", "target", "achieved", "difference", "source")],
                          [[_e(c) for c in r[:4]] + [r[4]] for r in rows], num_cols={1, 2, 3}, cls="cal"))
    if cal.get("road_capacity_factor") is not None:
        places = cal.get("transit_capacity_per_hour") or {}
        fixed = t("report.cal_fixed", lang, factor=number(cal["road_capacity_factor"], 3, lang),
                  urban=number(places.get("urban", 0.0), 0, lang), regional=number(places.get("regional", 0.0), 0, lang))
        out.append(f'<p class="note">{_e(fixed)}</p>')
    seg_t = cal.get("segment_targets") or lookup(sc, "mode.segment_targets")
    seg_a = s.get("modal_split_by_segment") or {}
    if isinstance(seg_t, dict) and seg_a:
        head = (f'<tr><th scope="col" rowspan="2">{_e(t("report.cal_segment", lang))}</th>'
                + "".join(f'<th scope="colgroup" colspan="2" class="group">{_e(kpis.word("mode", m, lang))}</th>'
                          for m in MODES)
                + "</tr><tr>" + (f'<th class="num">{_e(t("report.cal_target_col", lang))}</th>'
                                 f'<th class="num">{_e(t("report.cal_run_col", lang))}</th>') * len(MODES) + "</tr>")
        body = []
        for seg in SEGMENTS:
            if seg not in seg_t or seg not in seg_a:
                continue
            cells = [_e(kpis.word("segment", seg, lang))]
            for m in MODES:
                a = seg_a[seg].get(m)
                cells += [_e(input_pct(seg_t[seg].get(m), lang)),
                          _e(kpis.format_value(f"modal_split_by_segment.{seg}.{m}", a, lang=lang))]
            body.append(cells)
        out.append(f"<p>{_e(t('report.cal_segments', lang))}</p>")
        out.append(_table([], body, num_cols=set(range(1, 1 + 2 * len(MODES))), cls="cal", head_html=head))
    out.append(_elasticities_html(run))
    if not any(out):
        out.append(f'<p class="note">{_e(t("report.cal_none", lang))}</p>')
    return "".join(out)


def read_elasticities(folder: Path) -> dict | None:
    """``elasticities.json`` of a results folder (written by ``run.py elasticities --out FOLDER``), or None."""
    import json
    try:
        data = json.loads((Path(folder) / "elasticities.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("elasticities"), dict) else None


def _elasticities_html(run: _Run) -> str:
    """The measured elasticities against their sourced ranges ("" when the folder has no elasticities.json)."""
    data, lang = read_elasticities(run.folder), run.lang
    if data is None:
        return ""

    def num(x: Any) -> str:
        return localise_number(f"{x:+.2f}", lang) if isinstance(x, (int, float)) and not isinstance(x, bool) else "-"

    rows = []
    for name, e in data["elasticities"].items():
        if not isinstance(e, dict):
            continue
        label = t(f"report.cal_el_{name}", lang) if has(f"report.cal_el_{name}") else name
        verdict = t("report.cal_el_inside" if e.get("inside") else "report.cal_el_outside", lang)
        rows.append([_e(label), _e(f"{num(e.get('low'))} … {num(e.get('high'))}"), _e(num(e.get("elasticity"))),
                     _e(num(e.get("analytic_start"))), _e(verdict), _source_html(str(e.get("source", "-")), lang)])
    if not rows:
        return ""
    note = t("report.cal_el_intro", lang, scale=scalar_text(data.get("scale"), lang), days=scalar_text(data.get("days"), lang),
             seed=scalar_text(data.get("seed"), lang), scenario=str(data.get("scenario", "-")),
             time_pct=input_pct((data["elasticities"].get("car_km_car_time") or {}).get("step"), lang),
             fare_pct=input_pct((data["elasticities"].get("transit_trips_fare") or {}).get("step"), lang))
    return f"<p>{_e(note)}</p>" + _table([_e(t(f"report.cal_el_{c}", lang)) for c in ("what", "range", "measured", "analytic", "verdict", "source")],
                                         rows, num_cols={1, 2, 3}, cls="cal")


def _figure_png(fig, lang: str) -> bytes:
    """The figure as PNG bytes, its axes' numbers in ``lang`` and stamped with it (the words are the caller's)."""
    from sim.outputs.figtext import PNG_LANGUAGE_KEY, localise_figure
    localise_figure(fig, lang)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={PNG_LANGUAGE_KEY: lang})
    return buf.getvalue()


def section_differences(runs: list[_Run]) -> str:
    """Difference maps by home zone, each run after the first minus the baseline ("" with one run)."""
    from sim.outputs import difference as dif  # matplotlib only when there is a comparison

    base = runs[0]
    lang = base.lang
    base_zone = base.table("by_zone")
    if len(runs) < 2 or "geometry_wkb" not in base_zone:
        return ""
    out = [f'<section id="differences"><h2>{_e(t("report.dif_title", lang))}</h2>',
           f'<p>{_e(t("report.dif_intro", lang, n=dif.MIN_SAMPLED_WORKERS))}</p>']
    for run in runs[1:]:
        out.append(f"<h3>{_e(t('report.dif_minus', lang, run=run.label, base=base.label))}</h3>")
        try:
            for key in dif.DIFFERENCE_METRICS:
                fig = dif.difference_figure(base_zone, run.table("by_zone"), key, base_label=base.label,
                                            other_label=run.label, lang=lang)
                what = t(f"dif_metric.{key}", lang) if has(f"dif_metric.{key}", lang) else \
                    dif.ZONE_METRICS[key].title.split(", by")[0]
                unit_words = t(f"dif_unit.{key}", lang) if has(f"dif_unit.{key}", lang) else dif.ZONE_METRICS[key].diff_unit
                out.append(png_html(_figure_png(fig, lang), f"difference_{key}.png",
                                    t("report.dif_caption", lang, what=what, run=run.label, base=base.label,
                                      unit=unit_words), lang))
        except (dif.ZoneMismatch, KeyError) as exc:
            out.append(f'<p class="note">{_e(t("report.dif_none", lang, why=exc))}</p>')
        rows = dif.group_differences(base.table("by_municipio"), run.table("by_municipio"), "municipio")
        if rows:
            metrics = [dif.ZONE_METRICS[k] for k in dif.DIFFERENCE_METRICS]
            out.append(f"<p>{_e(t('report.dif_municipio', lang, run=run.label, base=base.label))}</p>" + _table(
                ["Municipio", t("report.dif_sampled", lang)] + [f"{_e(m.word('label', lang))} ({_e(m.diff_unit_in(lang))})"
                                                                for m in metrics],
                [[str(r["municipio"]), localise_number(f"{r['workers_sampled']:,}", lang)]
                 + [t("number.missing", lang) if not math.isfinite(r[m.key]) else localise_number(f"{r[m.key]:+.3g}", lang)
                    for m in metrics] for r in rows],
                num_cols=set(range(1, 2 + len(metrics))), cls="cal"))
    out.append("</section>")
    return "".join(out)


def section_validation(run: _Run) -> str:
    """Held-out validation of the baseline: car share by home NIL against the 2011 census ("" without NIL)."""
    from sim.outputs import validation as val  # matplotlib and the census only for a city with NIL

    lang = run.lang
    by_zone = run.table("by_zone")
    if not val.has_nil(by_zone):
        return ""
    out = [f'<section id="validation"><h2>{_e(t("report.val_title", lang))}</h2>',
           f'<p>{_e(t("report.val_intro", lang, n=val.MIN_SAMPLED_WORKERS))}</p>']
    try:
        observed = val.read_census_car_share()
    except val.CensusFileError as exc:
        out.append(f'<p class="note">{_e(t("report.val_none", lang, why=exc))}</p></section>')
        return "".join(out)
    v = val.validate_car_share(by_zone, observed)
    f = v.figures()
    na = t("number.missing", lang)

    def pp(x: float, sign: bool = False) -> str:  # a difference of shares, in percentage points
        return na if not math.isfinite(x) else f"{number(100 * x, 1, lang, sign=sign)} {t('number.pp', lang)}"

    def r(x: float) -> str:
        return na if not math.isfinite(x) else number(x, 2, lang)

    def pct(x: float) -> str:
        return f"{number(100 * x, 1, lang)}%"

    out.append(_table(["", t("report.val_unweighted", lang), t("report.val_weighted", lang)], [
        [t("report.val_compared", lang), str(f["nil_compared"]), str(f["nil_compared"])],
        [t("report.val_pearson", lang), r(f["pearson_r"]), r(f["pearson_r_weighted"])],
        [t("report.val_mad", lang), pp(f["mean_abs_diff"]), pp(f["mean_abs_diff_weighted"])],
        [t("report.val_md", lang), "", pp(f["mean_diff_weighted"], sign=True)],
    ], num_cols={1, 2}, cls="cal"))
    if v.n:
        out.append(png_html(_figure_png(val.validation_figure(by_zone, v), "en"), "validation_car_share_nil.png",
                            t("report.val_caption", lang), lang))
        rows = [[_e(x["zone_id"]), _e(x["zone_name"]), pct(x["observed"]), pct(x["observed_published"]),
                 pct(x["model"]), pp(x["diff"], sign=True), number(x["workers_sampled"], 0, lang)]
                for x in sorted(v.rows, key=lambda x: x["zone_id"])]
        out.append(f"<details><summary>{_e(t('report.val_every', lang))}</summary>" + _table(
            [t(f"report.val_{c}", lang) for c in ("nil", "name", "census_known", "census_published", "model",
                                                  "difference", "sampled")], rows, num_cols={2, 3, 4, 5, 6},
            cls="cal") + "</details>")
    if v.not_compared:
        out.append('<p class="small">' + _e(t("report.val_not_compared", lang, list="; ".join(
            f"{k} ({why})" for k, why in sorted(v.not_compared.items())))) + "</p>")
    out.append("</section>")
    return "".join(out)


def section_calibration(runs: list[_Run], by_key: dict) -> str:
    lang = runs[0].lang
    out = [f'<section id="calibration"><h2>{_e(t("report.cal_title", lang))}</h2>',
           f'<p>{_e(t("report.cal_intro", lang))}</p>']
    for i, r in enumerate(runs):
        if i == 0:
            if len(runs) > 1:
                out.append(f"<h3>{_e(t('report.cal_baseline', lang, label=r.label))}</h3>")
            out.append(_calibration_run(r, by_key))
        else:
            out.append(f"<details><summary>{_e(r.label)}</summary>{_calibration_run(r, by_key)}</details>")
    out.append("</section>")
    return "".join(out)


def _source_html(source: str, lang: str = DEFAULT_LANGUAGE) -> str:
    if source.lower().startswith("assumption"):
        return (f'<span class="badge">{_e(t("report.assumption", lang))}</span> '
                f'{_e(source[len("assumption"):].lstrip(" :;,"))}')
    return _e(source)


def _short(label: str, v: Any, limit: int = 60, lang: str = DEFAULT_LANGUAGE) -> str:
    """``label: value``, or ``label: other values`` when the value would be too long for a note."""
    text = scalar_text(v, lang)
    return f"{label}: {text}" if len(text) <= limit else f"{label}: {t('report.other_values', lang)}"


def _matrix_html(v: dict, lang: str = DEFAULT_LANGUAGE) -> str:
    """A mapping of mappings as a compact table: outer keys as rows, inner keys as columns."""
    cols = list(dict.fromkeys(k for x in v.values() for k in x))
    head = "".join(f'<th scope="col" class="num">{_e(c)}</th>' for c in cols)
    body = "".join(f'<tr><th scope="row">{_e(k)}</th>'
                   + "".join(f'<td class="num">{_e(scalar_text(x.get(c, _MISSING), lang)) if c in x else ""}</td>'
                             for c in cols) + "</tr>" for k, x in v.items())
    return f'<table class="matrix"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>'


def section_assumptions(runs: list[_Run], rows: list[dict]) -> str:
    base = runs[0]
    lang = base.lang
    badge = f'<span class="badge">{_e(t("report.assumption", lang))}</span>'
    out = [f'<section id="assumptions"><h2>{_e(t("report.as_title", lang))}</h2>',
           f'<p>{t("report.as_intro", lang, badge=badge)}<span class=screen>{_e(t("report.as_click", lang))}</span>'
           + (f' {_e(t("report.as_meanings", lang))}' if lang != "en" else "") + "</p>"]
    if not base.scenario:
        out.append(f'<p class="note">{_e(t("report.as_missing", lang))}</p>')
    groups: dict[str, list[dict]] = {}
    for r in rows:
        if r["key"] in ("description", "extends"):  # the description is in "What was run"; extends is resolved
            continue
        sec = r["key"].split(".", 1)[0] if "." in r["key"] else "general"
        groups.setdefault(sec, []).append(r)
    for sec, items in groups.items():
        body, classes = [], []
        n_assume = 0
        for r in items:
            v = lookup(base.scenario, r["key"])
            nested = isinstance(v, dict) and bool(v) and all(isinstance(x, dict) for x in v.values())
            value = f'<span class="note">{_e(t("report.as_below", lang))}</span>' if nested else value_html(v, lang)
            if v is not _MISSING and not _same(v, r["default"]):
                value = (f"<strong>{value}</strong><span class=key>"
                         f"{_e(_short(t('report.col_default', lang), r['default'], lang=lang))}</span>")
            for o in runs[1:]:
                ov = lookup(o.scenario, r["key"])
                if not _same(ov, v):
                    value += f'<span class="key"><strong>{_e(_short(o.label, ov, lang=lang))}</strong></span>'
            assume = str(r["source"]).lower().startswith("assumption")
            n_assume += assume
            cls = "assumption" if assume else ""
            name, meaning = lever_words(r["key"], r, lang)
            body.append([(f"{_e(name)}<span class=key>{_e(r['key'])}</span>" if name else f"<code>{_e(r['key'])}</code>")
                         + f"<span class=meaning>{_e(meaning)}</span>",
                         _e("" if r["unit"] == "-" else r["unit"]), value,
                         _source_html(str(r["source"]), lang) if r["source"] != "-" else ""])
            classes.append(f"{cls} nested".strip() if nested else cls)
            if nested:  # a mapping of mappings (sector mix, modal targets): a small table across the row
                body.append([_matrix_html(v, lang)])
                classes.append(f"{cls} nested sub".strip())
        title = t(f"section.{sec}", lang) if has(f"section.{sec}", lang) else sec
        used = t("report.as_used", lang) + (f" ({_e(base.label)})" if len(runs) > 1 else "")
        out.append(f'<details class="section"><summary>{_e(title)} <span class="count">'
                   f'{_e(t("report.as_count", lang, n=len(items), a=n_assume))}</span></summary>'
                   + _table([t("report.as_key", lang), t("report.col_unit", lang), used, t("report.as_source", lang)],
                            body, cls="assume", row_classes=classes)
                   + "</details>")
    out.append("</section>")
    return "".join(out)


def _manifest_text(k: str, v: Any, lang: str = DEFAULT_LANGUAGE) -> str:
    if v is _MISSING:
        return ""
    if k == "command_line" and isinstance(v, list):
        return f"<code>{_e(shlex.join(str(x) for x in v))}</code>"
    if isinstance(v, (dict, list)):
        return f"<code>{_e(scalar_text(v))}</code>"
    return _e(v if isinstance(v, str) else scalar_text(v, lang))


def section_manifest(runs: list[_Run]) -> str:
    lang = runs[0].lang
    out = [f'<section id="manifest"><h2>{_e(t("report.man_title", lang))}</h2>',
           "<p>" + t("report.man_intro", lang, command="<code>run.py run &lt;folder&gt;/scenario.resolved.yaml</code>")
           + "</p>"]
    keys: list[str] = []
    for r in runs:
        keys += [k for k in r.manifest if k not in keys]
    keys = [k for k in MANIFEST_ORDER if k in keys] + sorted(k for k in keys if k not in MANIFEST_ORDER)
    body = [["<code>folder</code>"] + [f"<code>{_e(r.shown_path)}</code>" for r in runs]]
    for k in keys:
        body.append([f"<code>{_e(k)}</code>"] + [_manifest_text(k, r.manifest.get(k, _MISSING), lang) for r in runs])
    out.append(_table([t("report.man_field", lang)] + [_e(r.label) for r in runs], body, cls="manifest"))
    missing = [r.label for r in runs if not r.manifest]
    if missing:
        out.append(f'<p class="note">{_e(t("report.man_missing", lang, list=", ".join(missing)))}</p>')
    out.append("</section>")
    return "".join(out)


# ------------------------------------------------------------------------------------------ page
CSS = """
:root{--ink:#1d2630;--muted:#5b6673;--line:#d8dee6;--zebra:#f4f6f9;--head:#e9eef4;--accent:#1b4f72;
--assume:#fff6d9;--assume2:#fbeec2}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#fff;color:var(--ink);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif}
main{max-width:1000px;margin:0 auto;padding:2rem 1.25rem 3rem}
h1{font-size:1.85rem;line-height:1.2;margin:0 0 .35rem;color:var(--accent)}
h2{font-size:1.35rem;line-height:1.25;margin:2.4rem 0 .7rem;padding-bottom:.3rem;border-bottom:2px solid var(--line)}
h3{font-size:1.08rem;margin:1.6rem 0 .5rem}
p{margin:.5rem 0 .8rem}
ul{margin:.3rem 0 .8rem;padding-left:1.4rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.86em}
.sub{color:var(--muted);margin:0 0 1rem}
.small,.note{font-size:.88rem;color:var(--muted)}
.warn{background:#fdf2e9;border-left:4px solid #e67e22;padding:.4rem .7rem}
.desc{border-left:4px solid var(--line);padding:.1rem .8rem;color:#333}
nav.toc{font-size:.92rem;background:var(--zebra);border-radius:6px;padding:.5rem .9rem;margin:1rem 0 0}
nav.toc a{color:var(--accent);text-decoration:none;margin-right:1.1rem;white-space:nowrap}
nav.toc a:hover{text-decoration:underline}
.scroll{overflow-x:auto;margin:.4rem 0 1.1rem}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{padding:.36rem .55rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:var(--head);border-bottom:2px solid #c4cdd8;font-weight:600;vertical-align:bottom}
thead th.group{text-align:center;border-bottom:1px solid #c4cdd8}
tbody tr:nth-child(even){background:var(--zebra)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.key{display:block;color:var(--muted);font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",
monospace;font-size:.76rem;font-weight:400}
.meaning{display:block;color:#333;font-size:.84rem}
table.kpis td:first-child{min-width:16rem}
table.kpis td.num{font-size:.95rem}
table.assume{table-layout:fixed}
table.assume>thead>tr>th:nth-child(1){width:40%}
table.assume>thead>tr>th:nth-child(2){width:13%}
table.assume>thead>tr>th:nth-child(3){width:18%}
table.assume>thead>tr>th:nth-child(4){width:29%}
table.assume>tbody>tr>td{overflow-wrap:anywhere}
table.assume>tbody>tr>td:nth-child(4){font-size:.84rem}
table.levers td:first-child,table.manifest td:first-child{white-space:nowrap}
table.manifest td{overflow-wrap:anywhere;font-size:.84rem}
tbody tr.assumption{background:var(--assume)}
tbody tr.assumption:nth-child(even){background:var(--assume2)}
tbody tr.nested,tbody tr.nested:nth-child(even){background:#fff}
tbody tr.nested.assumption,tbody tr.nested.assumption:nth-child(even){background:var(--assume)}
tbody tr.nested:not(.sub)>td{border-bottom:none}
tr.sub>td{padding:0 .55rem .6rem 1.6rem}
table.matrix{width:auto;font-size:.8rem;background:transparent;table-layout:auto}
table.matrix th,table.matrix td{padding:.1rem .5rem;border-bottom:1px solid var(--line)}
table.matrix thead th{background:transparent;font-weight:600;border-bottom:1px solid #c4cdd8}
table.matrix tbody tr,table.matrix tbody tr:nth-child(even){background:transparent}
table.matrix tbody th{font-weight:400;text-align:left;color:var(--ink)}
.badge{display:inline-block;font-size:.7rem;font-weight:600;letter-spacing:.02em;text-transform:uppercase;
color:#7a5300;background:#ffe9a8;border:1px solid #e8c45c;border-radius:3px;padding:0 .3rem;line-height:1.35}
figure{margin:1rem 0 2rem;break-inside:avoid;page-break-inside:avoid}
figure img{display:block;max-width:100%;height:auto;border:1px solid var(--line);border-radius:3px}
figcaption{font-size:.9rem;color:#333;margin-top:.4rem}
figcaption .file{color:var(--muted);font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.75rem;
margin-left:.3rem}
details{border:1px solid var(--line);border-radius:6px;padding:.15rem .8rem;margin:.45rem 0}
details[open]{padding-bottom:.5rem}
summary{cursor:pointer;font-weight:600;padding:.35rem 0}
summary .count{font-weight:400;color:var(--muted);font-size:.86rem;margin-left:.4rem}
footer{margin-top:3rem;padding-top:.6rem;border-top:1px solid var(--line);font-size:.82rem;color:var(--muted)}
.print{display:none}
.d-better{color:#1b7f3b;font-weight:600}.d-worse{color:#b00020;font-weight:600}.d-neutral{color:inherit}
@page{size:A4 portrait;margin:13mm 11mm 14mm}
@media print{
 body{font-size:9pt}
 main{max-width:none;padding:0}
 nav.toc,.screen{display:none}
 .print{display:block}
 /* A4 portrait: every table fits the page width; numbers may wrap (no column is cut) */
 table{table-layout:auto;width:100%;font-size:7.6pt}
 th,td{padding:.18rem .3rem}
 td.num,th.num{white-space:normal;overflow-wrap:normal;word-break:keep-all}  /* wrap at spaces, never in a number */
 th{overflow-wrap:normal;word-break:keep-all}
 table.cmp td:nth-child(2),table.kpis td:nth-child(2){width:16%}
 table.kpis td:first-child{min-width:0;width:32%}
 table.kpis td.num{font-size:7.6pt}
 .key{font-size:6.4pt;overflow-wrap:anywhere}
 table.levers td:first-child,table.manifest td:first-child{white-space:normal}
 table.cal{font-size:7pt}
 table.matrix{font-size:6pt;width:100%}
 table.matrix th,table.matrix td{padding:.04rem .15rem}
 table.matrix thead th{word-break:break-all}  /* long sector names as column heads */
 /* one chapter per page: the title page holds what was run and the headline results */
 section{break-before:page;page-break-before:always}
 section#what{break-before:auto;page-break-before:auto}
 th .key{overflow-wrap:normal}
 figure img{max-width:100%;max-height:235mm;width:auto}
 h2{break-after:avoid;page-break-after:avoid}
 h3{break-after:avoid;page-break-after:avoid}
 tr,figure{break-inside:avoid;page-break-inside:avoid}
 thead{display:table-header-group}
 .scroll{overflow:visible}
 details{border:none;padding:0}
 details::details-content{content-visibility:visible;display:block}
 details>summary{list-style:none}
 tbody tr:nth-child(even){-webkit-print-color-adjust:exact;print-color-adjust:exact}
 tbody tr.assumption,.badge{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""


def render(runs: list[_Run], sources: list[Source] | None, rows_cmp: list[dict] | None, compare_pngs: list[Path],
           note_lines: list[str], now: dt.datetime, warnings: list[str] = ()) -> str:
    """The whole HTML page (a string), in the language of the runs (``runs[i].lang``)."""
    schema_list, by_key = _schema()
    base = runs[0]
    lang = base.lang
    if len(runs) == 1:
        title = t("report.title_one", lang, name=base.name)
    else:
        title = t("report.title_many", lang, base=base.label, others=", ".join(r.label for r in runs[1:]))
    run_dates = sorted({_date_text(r.manifest.get("finished") or r.manifest.get("started"), lang) for r in runs} - {""})
    sub = _e(t("report.sub", lang, date=f"{long_date(now, lang)}, {now:%H:%M}"))
    if run_dates:
        sub += " &middot; " + _e(t("report.sub_runs_many" if len(runs) > 1 else "report.sub_runs", lang,
                                   dates=", ".join(run_dates)))
    sub += f" &middot; smartcommute {_e(__version__)}"
    trajectory = section_trajectory(runs)
    toc = ([("trajectory", t("report.toc_trajectory", lang))] if trajectory else []) + [
        ("what", t("report.toc_what", lang)), ("kpis", t("report.toc_kpis", lang))]
    differences = section_differences(runs)
    appraisal = section_appraisal(runs)
    decomposition = section_decomposition(sources, lang)
    if len(runs) > 1:
        toc.append(("comparison", t("report.toc_comparison", lang)))
    if decomposition:
        toc.append(("decomposition", t("decomposition.section", lang)))
    if appraisal:
        toc.append(("appraisal", t("report.toc_appraisal", lang)))
    if differences:
        toc.append(("differences", t("report.toc_differences", lang)))
    validation = section_validation(base)
    toc += [("plots", t("report.toc_plots", lang)), ("calibration", t("report.toc_calibration", lang))]
    toc += [("validation", t("report.toc_validation", lang))] if validation else []
    toc += [("assumptions", t("report.toc_assumptions", lang)), ("manifest", t("report.toc_manifest", lang))]
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<header><h1>{_e(title)}</h1><p class=sub>{sub}</p>",
        '<nav class="toc">' + "".join(f'<a href="#{a}">{_e(tx)}</a>' for a, tx in toc) + "</nav></header>",
        trajectory,  # a run over years leads with its trajectory
        section_what(runs, schema_list, by_key, note_lines, warnings),
        section_kpis(runs),
    ]
    if len(runs) > 1 and sources is not None and rows_cmp is not None:
        parts.append(section_comparison(runs, sources, rows_cmp))
    if decomposition:
        parts.append(decomposition)
    if appraisal:
        parts.append(appraisal)
    if differences:
        parts.append(differences)
    parts += [
        section_plots(runs, compare_pngs),
        section_calibration(runs, by_key),
        validation,
        section_assumptions(runs, schema_list),
        section_manifest(runs),
        "<footer>" + t("report.footer", lang, command="<code>run.py report</code>", version=_e(__version__),
                       date=f"{now:%Y-%m-%d %H:%M}") + "</footer>",
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def report_language(run: RunFolder) -> str:
    """The language a run's scenario asks for (``report.lang``), English for a folder without one."""
    lang = ((run.scenario or {}).get("report") or {}).get("lang") or DEFAULT_LANGUAGE
    return lang if has("report.title_one", lang) else DEFAULT_LANGUAGE


def write_report(run_dirs: list[Path], out: Path, labels: list[str] | None = None,
                 shown_paths: list[str] | None = None, lang: str | None = None) -> Path:
    """Write the self-contained HTML report of ``run_dirs`` (the first is the baseline) to ``out``.

    Args:
        run_dirs: results folders written by ``run.py run`` (or ``compare``).
        out: the HTML file to write (its folder must exist); replaced atomically if it exists.
        labels: names of the runs in the report (default: the folder names, as ``run.py compare``).
        shown_paths: the folders as the report names them (default: their absolute paths); the runner
            passes the final path of a folder still being written under a temporary name.
        lang: ``it`` or ``en`` (default: the baseline scenario's ``report.lang``, else English).

    Returns:
        ``out``.

    Raises:
        ReportError: bad input, before anything is written.
    """
    out = Path(out)
    if lang is not None:
        try:
            check_language(lang)
        except ValueError as exc:
            raise ReportError(str(exc)) from None
    loaded = check_inputs(list(run_dirs), out)
    lang = lang or report_language(loaded[0])
    for extra in (labels, shown_paths):
        if extra is not None and len(extra) != len(loaded):
            raise ValueError("labels, shown_paths: one per run folder")
    sources = rows_cmp = None
    compare_pngs: list[Path] = []
    note_lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="report-") as tmp:
        if len(loaded) > 1:
            try:
                sources = read_sources([r.folder for r in loaded])
            except CompareError as exc:
                raise ReportError(str(exc)) from None
            if labels is not None:
                for s, lab in zip(sources, labels):
                    s.label = lab
            rows_cmp = build_rows(sources)
            note_lines = notes(sources, lang)
            compare_pngs = sort_plots(make_plots(sources, rows_cmp, Path(tmp), lang))
            names = [s.label for s in sources]
        else:
            names = labels or [loaded[0].folder.resolve().name]
        runs = [_Run(run, name, None if shown_paths is None else shown_paths[i], lang, redraw_root=Path(tmp) / "plots")
                for i, (run, name) in enumerate(zip(loaded, names))]
        page = render(runs, sources, rows_cmp, compare_pngs, note_lines, dt.datetime.now(),
                      horizon_warnings([(r.scenario, read_daily(r.folder)) for r in loaded], lang))
    tmp_file = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        with open(tmp_file, "w", encoding="utf-8") as fh:
            fh.write(page)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_file, out)
    except BaseException:
        tmp_file.unlink(missing_ok=True)
        raise
    return out
