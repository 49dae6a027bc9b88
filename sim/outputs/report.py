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
from sim.outputs.compare import CompareError, Source, build_rows, make_plots, notes, read_sources
from sim.outputs import kpis
from sim.outputs.appraisal import appraise_runs, scenario_from, unit_values
from sim.outputs.plots import policy_starts
from sim.outputs.results import RunFolder, RunFolderError, read_run
from sim.scenario.docs import schema_rows
from sim.scenario.schema import MODES, SEGMENTS, SIZE_CLASSES, WORKDAYS_PER_YEAR


class ReportError(Exception):
    """The report cannot be written; the message names the argument and the problem."""


# ------------------------------------------------------------------------------------------ wording
# KPI labels, units and number formats: sim.outputs.kpis

# the question each plot answers (file name -> caption); unknown files get their file name
CAPTIONS = {
    "remote_share.png": "How many people work remotely, day by day? The share of all workers working remotely on "
                        "each workday, its 5-workday mean, and the share allowed to work remotely by their employer.",
    "office_attendance_by_weekday.png": "Which weekdays are offices busiest? The share of all workers at the office "
                                        "on each weekday: the days when roads and trains are fullest.",
    "modal_split.png": "How do commuters travel on office days? Share of commuting trips by mode, overall and for "
                       "each commute segment (inside Milan, entering, leaving, hinterland to hinterland).",
    "car_traffic.png": "How much car commuting and congestion, day by day? Commuters' vehicle-km and the hours they "
                       "lose in congestion, against the same run without smart working.",
    "congestion_map.png": "Where are roads congested at the morning peak? Each road link coloured by its peak "
                          "volume/capacity ratio (above 1: queues).",
    "co2_by_source.png": "How much CO2, and from where? Daily CO2 of commuting trips and of remote days (extra home "
                         "energy and car trips), against the same run without smart working; shaded: the heating "
                         "season, when a remote day at home emits more.",
    "stress.png": "Who is stressed? The share of workers above the high-stress level by gender and care duties, "
                  "and mean stress by workday against the same run without smart working.",
    "quits.png": "Who quits over commuting and stress? Resignations per 1,000 employed a year by gender, against "
                 "the same run without smart working, and by gender and care duties (few events in short or small "
                 "runs: read with care).",
    "adoption_by_size.png": "Which employers allow smart working? The share of workers allowed to work remotely, "
                            "by firm size, against the Osservatorio Smart Working targets.",
    "compare_headline_pct.png": "How much does each scenario change the headline indicators? Percent change from "
                                "the baseline (bars: 95% intervals, when the runs have replications).",
    "compare_modal_split.png": "Does the scenario change how people travel? Share of commuting trips by mode in "
                               "each run (first row: the baseline).",
}
SECTION_TITLES = {
    "general": "Run: name, seed, days, sample",
    "city": "City, roads and transit",
    "population": "Population and firms",
    "adoption": "Adoption of smart working by employers",
    "remote_days": "Choice of remote days",
    "mode": "Choice of mode and departure time",
    "traffic": "Traffic and transit crowding",
    "emissions": "Emissions",
    "wellbeing": "Stress and quits",
    "policy": "Policy levers",
}
MANIFEST_ORDER = ("package", "package_version", "git_commit", "command_line", "seed", "scale", "days",
                  "workers_sampled", "started", "finished", "wall_seconds", "peak_rss_mb", "python", "numpy", "mesa",
                  "platform")
_MISSING = object()


# ------------------------------------------------------------------------------------------ numbers
def input_pct(x: float | None) -> str:
    """An input share (a target) as typed: 0.53 -> 53%."""
    return "n/a" if x is None else f"{100 * float(x):.4g}%"


def scalar_text(v: Any) -> str:
    """A scenario value as a planner reads it (YAML spelling for booleans and null)."""
    if v is _MISSING:
        return "(not in this run)"
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 1000 else str(v)
    if isinstance(v, float):
        return f"{v:,g}" if abs(v) >= 1000 else f"{v:g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(scalar_text(x) for x in v) + "]"
    if isinstance(v, dict):
        return "; ".join(f"{k}: {scalar_text(x)}" for k, x in v.items()) if all(
            not isinstance(x, dict) for x in v.values()) else " | ".join(
            f"{k}: {scalar_text(x)}" for k, x in v.items())
    return str(v)


def value_html(v: Any) -> str:
    """A scenario value for a table cell: a mapping one entry per line (``micro: 0.3``)."""
    if isinstance(v, dict) and v:
        def inner(x: Any) -> str:
            if isinstance(x, dict):
                return ", ".join(f"{k} {scalar_text(y)}" for k, y in x.items())
            return scalar_text(x)
        return "<br>".join(f"{_e(k)}: {_e(inner(x))}" for k, x in v.items())
    return _e(scalar_text(v))


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


# ------------------------------------------------------------------------------------------ inputs
class _Run:
    """One results folder as the report reads it."""

    def __init__(self, run: RunFolder, label: str, shown_path: str | None = None):
        self.folder = run.folder
        self.label = label
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
        folder = self.folder / "plots"
        if not folder.is_dir():
            return []
        return sort_plots(p for p in folder.glob("*.png") if p.is_file())


def sort_plots(paths) -> list[Path]:
    """Known plots in the order of :data:`CAPTIONS`, then the others by name."""
    order = {name: i for i, name in enumerate(CAPTIONS)}
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


_NOT_LEVERS = frozenset({"name", "description", "extends"})


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


def figure_html(path: Path, caption: str | None = None) -> str:
    """A ``<figure>`` with the PNG embedded as a data URI (or a note if the file is not a PNG)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f'<p class="note">{_e(path.name)}: cannot be read ({_e(exc.strerror or exc)}).</p>'
    return png_html(data, path.name, caption)


def png_html(data: bytes, name: str, caption: str | None = None) -> str:
    """A ``<figure>`` of PNG bytes (named ``name``) embedded as a data URI."""
    size = _png_size(data)
    if size is None:
        return f'<p class="note">{_e(name)}: not a PNG image, left out.</p>'
    caption = caption if caption is not None else CAPTIONS.get(name, name)
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


def _date_text(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        d = dt.datetime.fromisoformat(str(iso))
    except ValueError:
        try:
            d = dt.datetime.combine(dt.date.fromisoformat(str(iso)), dt.time())
        except ValueError:
            return str(iso)
    return f"{d.day} {d:%B %Y}"


# ------------------------------------------------------------------------------------------ sections
def _run_words(run: _Run) -> str:
    s = run.summary
    workers = s.get("workers")
    scale = s.get("scale")
    sampled = s.get("workers_sampled") or run.manifest.get("workers_sampled")
    days = s.get("days")
    parts = []
    if workers is not None:
        pop = f"{workers:,.0f} workers with jobs in metropolitan Milan"
        if scale is not None and scale < 1:
            each = f"{1 / scale:,.0f}" if 1 / scale >= 10 else f"{1 / scale:.3g}"
            pop += (f", simulated through a {100 * scale:g}% sample"
                    + (f" ({sampled:,} simulated workers, each standing for about {each})" if sampled else ""))
        elif scale is not None:
            pop += " (a 100% sample: every worker simulated)"
        parts.append(pop)
    if days is not None:
        start, years = run.scenario.get("start"), run.scenario.get("years")
        parts.append(f"{days} workdays of the Italian calendar" + (f" from {_date_text(start)}" if start else "")
                     + (f" ({years} year{'s' if years > 1 else ''})" if years else ""))
    reps = s.get("replications")
    if reps:
        seeds = reps.get("seeds") or []
        parts.append(f"{reps.get('n', len(seeds))} replications with seeds {seeds[0]} to {seeds[-1]} "
                     f"(values are means over the seeds, with 95% intervals)" if seeds else "replications")
    elif s.get("seed") is not None:
        parts.append(f"random seed {s['seed']}, a single replication (no intervals)")
    return "; ".join(parts)


def _levers_table(diffs: list[tuple[str, Any, Any]], by_key: dict, left: str, right: str) -> str:
    rows = []
    for key, a, b in diffs:
        row = schema_row_for(key, by_key) or {}
        u = row.get("unit", "-")
        rows.append([f"<code>{_e(key)}</code>", _e(row.get("meaning", "")), _e(scalar_text(a)) + " &rarr; "
                     + f"<strong>{_e(scalar_text(b))}</strong>", _e("" if u == "-" else u)])
    return _table(["Key", "What it is", f"{_e(left)} &rarr; {_e(right)}", "Unit"], rows, cls="levers")


def section_what(runs: list[_Run], rows: list[dict], by_key: dict, note_lines: list[str]) -> str:
    base = runs[0]
    out = ['<section id="what"><h2>What was run</h2>']
    texts = [_run_words(r) for r in runs]
    if len(runs) == 1:
        out.append(f"<p>One simulation of commuting in metropolitan Milan, scenario <strong>{_e(base.name)}</strong>: "
                   f"{_e(texts[0])}.</p>")
    else:
        names = ", ".join(f"<strong>{_e(r.label)}</strong>" for r in runs[1:])
        count = {2: "Two", 3: "Three", 4: "Four", 5: "Five"}.get(len(runs), str(len(runs)))
        out.append(f"<p>{count} simulations of commuting in metropolitan Milan: the baseline "
                   f"<strong>{_e(base.label)}</strong> and {names}, each compared with the baseline.")
        if len(set(texts)) == 1:
            out.append(f" Each run: {_e(texts[0])}.</p>")
        else:
            out.append("</p><ul>" + "".join(f"<li><strong>{_e(r.label)}</strong>: {_e(t)}.</li>"
                                            for r, t in zip(runs, texts)) + "</ul>")
    out.append('<p>Every total (vehicle-km, CO2, hours of delay) is for the whole population represented and the '
               'whole simulated period; "per worker" figures are per worker over that period. The time saved is '
               'measured against the same run without smart working (same seed, same random draws).</p>')
    for n in note_lines:
        out.append(f'<p class="warn">Note: {_e(n)}</p>')
    descs = [(r, " ".join(str(r.scenario.get("description") or "").split())) for r in runs]
    if any(d for _, d in descs):
        out.append("<p>The scenarios, as their files describe them:</p>" if len(runs) > 1
                   else "<p>The scenario, as its file describes it:</p>")
    for r, desc in descs:
        if desc:
            out.append(f'<p class="desc"><strong>{_e(r.label if len(runs) > 1 else r.name)}</strong>: {_e(desc)}</p>')
    if len(runs) == 1:
        out.append("<h3>Policy levers changed from the defaults</h3>")
        if not base.scenario:
            out.append('<p class="note">scenario.resolved.yaml is missing: the levers used are unknown.</p>')
        else:
            diffs = policy_vs_defaults(base.scenario, rows)
            if diffs:
                n = len(diffs)
                out.append(f"<p>{'One policy lever differs' if n == 1 else f'{n} policy levers differ'} from the "
                           "defaults (today's situation):</p>")
                out.append(_levers_table(diffs, by_key, "default", "this run"))
            else:
                out.append("<p>None: every policy lever is at its default value, i.e. today's situation (Area C, "
                           "transit fare and smart working as observed; no new policy). This run is a "
                           "baseline.</p>")
    else:
        out.append("<h3>The levers that differ from the baseline</h3>")
        for r in runs[1:]:
            if not (base.scenario and r.scenario):
                out.append(f'<p class="note">{_e(r.label)}: scenario.resolved.yaml is missing, the differences '
                           "are unknown.</p>")
                continue
            diffs = scenario_diff(base.scenario, r.scenario)
            if diffs:
                out.append(f"<p><strong>{_e(r.label)}</strong> differs from the baseline in {len(diffs)} "
                           f"setting{'s' if len(diffs) != 1 else ''}:</p>")
                out.append(_levers_table(diffs, by_key, "baseline", r.label))
            else:
                out.append(f"<p><strong>{_e(r.label)}</strong>: no setting differs from the baseline (the same "
                           "scenario: differences come from the random seed only, if any).</p>")
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
    out = ['<section id="trajectory"><h2>Year by year</h2>',
           "<p>Each year of the run (12 months from the start date) on its own: a programme that ramps up over "
           "years shows here what the whole-run averages below hide.</p>"]
    for r in long_runs:
        years = r.summary["by_year"]
        starts = [(n, d) for n, d in policy_starts(r.scenario)]
        out.append(f"<h3>{_e(r.label)}</h3>")
        if starts:
            out.append("<p>Levers in time: " + ", ".join(f"{_e(n.replace('_', ' '))} from {_e(_date_text(d))}"
                                                         for n, d in starts) + ".</p>")
        head = ["Indicator", "Unit"] + [f"Year {y['year']} ({_e(y['first_date'][:4])})" for y in years]
        rows = []
        for key in TRAJECTORY:
            vals = [flatten(y).get(key) for y in years]
            if all(v is None for v in vals):
                continue
            rows.append([_label_cell(key, kpis.label(key)), _e(kpis.unit(key))]
                        + [_e(kpis.format_value(key, v)) for v in vals])
        out.append(_table(head, rows, num_cols=set(range(2, 2 + len(years))), cls="kpis"))
        png = r.folder / "plots" / "trajectory_by_year.png"
        if png.is_file():
            out.append(figure_html(png, "The run year by year; dotted lines: the start of each timed lever."))
    out.append("</section>")
    return "".join(out)


APPRAISAL_WORDS = {
    "commute_time": "commuting time saved (all workers)", "congestion_delay": "congestion delay avoided (premium over plain time)",
    "car_running_cost": "car running costs saved", "co2": "CO2 avoided (shadow price)", "women_kept": "women kept in work",
    "sme_support": "SME programme (additional firms offering smart working)", "corporate_welfare": "corporate welfare (covered workers)",
}


def section_appraisal(runs: list[_Run]) -> str:
    """Costs and benefits in euros of each run against the baseline (:mod:`sim.outputs.appraisal`), and the
    unit values with their sources. Empty with a single run."""
    if len(runs) < 2:
        return ""
    base = runs[0]
    out = ['<section id="appraisal"><h2>Costs and benefits</h2>',
           f"<p>Each run against the baseline <b>{_e(base.label)}</b>, year by year, in present values (euros of "
           "the first year, discounted at the social discount rate below). Benefits are the baseline's figure minus "
           "the run's: a saving is positive. Each figure is computed from the two runs with the unit values listed "
           "after the table, all of them scenario parameters (<code>appraisal.*</code>).</p>"]
    scenario = None
    for r in runs[1:]:
        block = appraise_runs(base.summary, base.scenario, r.summary, r.scenario)
        out.append(f"<h3>{_e(r.label)}</h3>")
        if block is None:
            out.append("<p>No appraisal: the run folder has no readable resolved scenario.</p>")
            continue
        scenario = scenario_from(r.scenario)
        rows = [[f"cost: {_e(APPRAISAL_WORDS.get(k, k))}", f"{v:,.0f}"] for k, v in block["costs_eur"].items()]
        rows += [[f"benefit: {_e(APPRAISAL_WORDS.get(k, k))}", f"{v:,.0f}"] for k, v in block["benefits_eur"].items()]
        rows.append(["<b>net present value</b>", f"<b>{block['npv_eur']:,.0f}</b>"])
        rows.append(["benefit / cost ratio", "n/a" if block["bcr"] is None else f"{block['bcr']:.2f}"])
        for key, words in (("eur_per_t_co2_avoided", "EUR of cost per t CO2 avoided"),
                           ("eur_per_hour_saved", "EUR of cost per hour of commuting saved"),
                           ("eur_per_woman_kept", "EUR of cost per woman kept in work")):
            rows.append([words, "n/a" if block[key] is None else f"{block[key]:,.0f}"])
        out.append(_table(["Part", f"EUR over {block['years']} year{'s' if block['years'] > 1 else ''}"], rows,
                          num_cols={1}, cls="kpis"))
        out.append(f'<p class="small">Physical effects over the run: {block["co2_avoided_t"]:,.0f} t CO2 avoided, '
                   f'{block["hours_saved"]:,.0f} hours of commuting saved, {block["women_kept"]:,.1f} women kept in work.</p>')
    if scenario is not None:
        out.append("<h3>Unit values and their sources</h3>")
        out.append(_table(["Parameter", "Value", "Unit", "Source"],
                          [[f"<code>{_e(k)}</code>", _e(v), _e(u), _source_html(src)] for k, v, u, src in unit_values(scenario)]))
    out.append("</section>")
    return "".join(out)


def section_kpis(runs: list[_Run]) -> str:
    out = ['<section id="kpis"><h2>Headline results</h2>']
    has_ci = any(r.kpi_ci for r in runs)
    if has_ci:
        out.append("<p>With replications the value is the mean over the seeds, followed by its 95% interval "
                   "(mean &plusmn; t &middot; sd/&radic;n) in brackets.</p>")
    head = ["Indicator", "Unit"] + ([_e(r.label) for r in runs] if len(runs) > 1 else ["Value"])
    rows = []
    for key in kpis.HEADLINE:
        cells = [_label_cell(key, kpis.label(key)), _e(kpis.unit(key))]
        for r in runs:
            cells.append(_e(kpis.format_value(key, r.values.get(key), r.kpi_ci.get(key))))
        rows.append(cells)
    out.append(_table(head, rows, num_cols=set(range(2, 2 + len(runs))), cls="kpis"))
    hs = [r.scenario.get("wellbeing", {}).get("high_stress_threshold") for r in runs if r.scenario]
    if hs and hs[0] is not None:
        out.append(f'<p class="small">High stress: a stress level of {scalar_text(hs[0])} or more on the 0-10 '
                   "scale. Quits are annualised (per 1,000 employed over a " f"{WORKDAYS_PER_YEAR}-workday year).</p>")
    out.append("</section>")
    return "".join(out)


def section_comparison(runs: list[_Run], sources: list[Source], rows_cmp: list[dict]) -> str:
    base = runs[0]
    by = {(r["kpi"], r["run"]): r for r in rows_cmp}
    names = list(dict.fromkeys(r["kpi"] for r in rows_cmp))
    has_ci = {s.label: any(by[(k, s.label)]["ci95_low"] is not None for k in names if (k, s.label) in by)
              for s in sources[1:]}
    out = ['<section id="comparison"><h2>Comparison with the baseline</h2>',
           f"<p>Each run against the baseline <strong>{_e(base.label)}</strong>: its value, the difference in units "
           "(percentage points, pp, for shares) and in percent of the baseline"
           + (", and the paired 95% interval of the difference over the shared seeds (an interval that excludes 0 "
              "is a difference beyond the random noise)" if any(has_ci.values()) else "")
           + ". Computed by <code>run.py compare</code>.</p>"]

    def table(keys: list[str]) -> str:
        head1 = '<tr><th scope="col" rowspan="2">Indicator</th><th scope="col" rowspan="2">Unit</th>' \
                f'<th scope="col" rowspan="2" class="num">{_e(base.label)}<br><span class="key">baseline</span></th>'
        head2 = "<tr>"
        for s in sources[1:]:
            n = 4 if has_ci[s.label] else 3
            head1 += f'<th scope="colgroup" colspan="{n}" class="group">{_e(s.label)}</th>'
            head2 += '<th class="num">value</th><th class="num">diff</th><th class="num">diff %</th>'
            if has_ci[s.label]:
                head2 += '<th class="num">95% interval of diff</th>'
        head_html = head1 + "</tr>" + head2 + "</tr>"
        body, ncols = [], 3 + sum(4 if has_ci[s.label] else 3 for s in sources[1:])
        for k in keys:
            first = next((by[(k, s.label)] for s in sources[1:] if (k, s.label) in by), None)
            if first is None:
                continue
            cells = [_label_cell(k, kpis.label(k)), _e(kpis.unit(k)), _e(kpis.format_value(k, first["baseline"]))]
            for s in sources[1:]:
                r = by.get((k, s.label))
                if r is None:
                    cells += [""] * (4 if has_ci[s.label] else 3)
                    continue
                cells += [_e(kpis.format_value(k, r["value"])), _e(kpis.format_diff(k, r["diff"])),
                          _e(kpis.format_pct_change(r["diff_pct"]))]
                if has_ci[s.label]:
                    cells.append("" if r["ci95_low"] is None else
                                 _e(f"{kpis.format_diff(k, r['ci95_low'])} to {kpis.format_diff(k, r['ci95_high'])}"))
            body.append(cells)
        return _table([], body, num_cols=set(range(2, ncols)), cls="cmp", head_html=head_html)

    head = [k for k in names if k in kpis.HEADLINE]
    rest = [k for k in kpis.ordered(names) if k not in kpis.HEADLINE]
    out.append(table(head))
    if rest:
        out.append(f"<details><summary>All other indicators ({len(rest)})</summary>{table(rest)}</details>")
    out.append("</section>")
    return "".join(out)


def section_plots(runs: list[_Run], compare_pngs: list[Path]) -> str:
    out = ['<section id="plots"><h2>Plots</h2>']
    if compare_pngs:
        out.append("<h3>Comparison</h3>")
        out.extend(figure_html(p) for p in compare_pngs)
    for r in runs:
        pngs = r.plots()
        if len(runs) > 1 or compare_pngs:
            out.append(f"<h3>{_e(r.label)}</h3>")
        if not pngs:
            out.append(f'<p class="note">No plots in {_e(r.folder.name)}/plots (a run written before plots '
                       "existed, or plotting failed).</p>")
        out.extend(figure_html(p) for p in pngs)
    out.append("</section>")
    return "".join(out)


def _calibration_run(run: _Run, by_key: dict) -> str:
    s, sc = run.summary, run.scenario
    cal = s.get("calibration") or {}
    out = []

    def src(key: str) -> str:
        row = by_key.get(key) or {}
        return _source_html(row.get("source", "-"))

    rows = []
    target = lookup(sc, "traffic.target_peak_extra_time")
    if target is not _MISSING and s.get("peak_extra_time") is not None:
        rows.append(["Extra travel time at the morning peak (TomTom congestion level)", input_pct(target),
                     kpis.format_value("peak_extra_time", s["peak_extra_time"]),
                     kpis.format_diff("peak_extra_time", s["peak_extra_time"] - target),
                     src("traffic.target_peak_extra_time")])
    for g, key in (("women", "wellbeing.target_quits_women_per_1000"), ("men", "wellbeing.target_quits_men_per_1000")):
        t, v = lookup(sc, key), s.get(f"quits_{g}_per_1000")
        if t is not _MISSING and v is not None:
            key_run = f"quits_{g}_per_1000"
            rows.append([f"Quits per 1,000 employed {g} a year", scalar_text(t), kpis.format_value(key_run, v),
                         kpis.format_diff(key_run, v - t),
                         src(key)])
    targets = lookup(sc, "adoption.target_allowed_share")
    adopt = s.get("adoption_by_size") or {}
    if isinstance(targets, dict):
        for k in SIZE_CLASSES:
            if k in targets and k in adopt:
                key_run = f"adoption_by_size.{k}"
                rows.append([kpis.label(key_run), input_pct(targets[k]), kpis.format_value(key_run, adopt[k]),
                             kpis.format_diff(key_run, adopt[k] - targets[k]),
                             src("adoption.target_allowed_share")])
    sources = [r[4] for r in rows]
    for i in range(1, len(rows)):  # a source repeated from the row above is not spelled out again
        if sources[i] == sources[i - 1]:
            rows[i][4] = '<span class="note">(as above)</span>'
    if rows:
        out.append(_table(["What is calibrated", "Target", "Achieved", "Difference", "Source of the target"],
                          [[_e(c) for c in r[:4]] + [r[4]] for r in rows], num_cols={1, 2, 3}, cls="cal"))
    seg_t = cal.get("segment_targets") or lookup(sc, "mode.segment_targets")
    seg_a = s.get("modal_split_by_segment") or {}
    if isinstance(seg_t, dict) and seg_a:
        head = ('<tr><th scope="col" rowspan="2">Commute segment</th>'
                + "".join(f'<th scope="colgroup" colspan="2" class="group">{_e(kpis.word("mode", m))}</th>'
                          for m in MODES)
                + "</tr><tr>" + '<th class="num">target</th><th class="num">run</th>' * len(MODES) + "</tr>")
        body = []
        for seg in SEGMENTS:
            if seg not in seg_t or seg not in seg_a:
                continue
            cells = [_e(kpis.word("segment", seg))]
            for m in MODES:
                a = seg_a[seg].get(m)
                cells += [_e(input_pct(seg_t[seg].get(m))),
                          _e(kpis.format_value(f"modal_split_by_segment.{seg}.{m}", a))]
            body.append(cells)
        out.append("<p>Share of office-day commuting trips by mode, target (AMAT 2022, Istat) against the run:</p>")
        out.append(_table([], body, num_cols=set(range(1, 1 + 2 * len(MODES))), cls="cal", head_html=head))
    if not out:
        out.append('<p class="note">No calibration figures in this folder.</p>')
    return "".join(out)


def _figure_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def section_differences(runs: list[_Run]) -> str:
    """Difference maps by home zone, each run after the first minus the baseline ("" with one run)."""
    from sim.outputs import difference as dif  # matplotlib only when there is a comparison

    base = runs[0]
    base_zone = base.table("by_zone")
    if len(runs) < 2 or "geometry_wkb" not in base_zone:
        return ""
    out = ['<section id="differences"><h2>Differences by home zone</h2>',
           "<p>Each run minus the baseline, zone by zone, by where the workers live: the remote share (percentage "
           "points), car commutes and net commuting CO2 per resident worker, and mean stress. Orange: higher than "
           "in the baseline; purple: lower. A zone with fewer than "
           f"{dif.MIN_SAMPLED_WORKERS} sampled residents in either run is hatched as \u201ctoo few workers\u201d: "
           "its difference is sampling noise, not a finding.</p>"]
    for run in runs[1:]:
        out.append(f"<h3>{_e(run.label)} minus {_e(base.label)}</h3>")
        try:
            for key in dif.DIFFERENCE_METRICS:
                fig = dif.difference_figure(base_zone, run.table("by_zone"), key, base_label=base.label,
                                            other_label=run.label)
                out.append(png_html(_figure_png(fig), f"difference_{key}.png",
                                    f"{dif.ZONE_METRICS[key].title.split(', by')[0]}: {run.label} minus "
                                    f"{base.label}, by home zone ({dif.ZONE_METRICS[key].diff_unit})."))
        except (dif.ZoneMismatch, KeyError) as exc:
            out.append(f'<p class="note">No difference map: {_e(exc)}</p>')
    out.append("</section>")
    return "".join(out)


def section_validation(run: _Run) -> str:
    """Held-out validation of the baseline: car share by home NIL against the 2011 census ("" without NIL)."""
    from sim.outputs import validation as val  # matplotlib and the census only for a city with NIL

    by_zone = run.table("by_zone")
    if not val.has_nil(by_zone):
        return ""
    out = ['<section id="validation"><h2>Held-out validation: car share by home NIL (census 2011)</h2>',
           "<p>The model is not fitted to these figures. For every NIL of the Comune di Milano: the share of the "
           "residents who commute daily that do so by car in the 2011 census (Comune di Milano open data, ds1490; "
           "over the commuters whose mode is known: \u201cNon disponibile\u201d left out of the denominator), "
           "against the model's share of car trips among the office-day trips of the NIL's resident workers. "
           "Unweighted: every NIL counts once; weighted: by the NIL's census commuters with a known mode. "
           f"NIL with fewer than {val.MIN_SAMPLED_WORKERS} sampled workers are not compared. The census counts "
           "students too, and is 2011: read the figures as a check of the pattern across the city, not of "
           "the level to the point.</p>"]
    try:
        observed = val.read_census_car_share()
    except val.CensusFileError as exc:
        out.append(f'<p class="note">No comparison: {_e(exc)}</p></section>')
        return "".join(out)
    v = val.validate_car_share(by_zone, observed)
    f = v.figures()

    def pp(x: float, sign: bool = False) -> str:  # a difference of shares, in percentage points
        return "n/a" if not math.isfinite(x) else f"{100 * x:{'+' if sign else ''}.1f} pp"

    def r(x: float) -> str:
        return "n/a" if not math.isfinite(x) else f"{x:.2f}"

    out.append(_table(["", "Unweighted (each NIL once)", "Weighted (census commuters)"], [
        ["NIL compared", str(f["nil_compared"]), str(f["nil_compared"])],
        ["Pearson correlation, model vs census", r(f["pearson_r"]), r(f["pearson_r_weighted"])],
        ["Mean absolute difference", pp(f["mean_abs_diff"]), pp(f["mean_abs_diff_weighted"])],
        ["Mean difference, model - census", "", pp(f["mean_diff_weighted"], sign=True)],
    ], num_cols={1, 2}, cls="cal"))
    if v.n:
        out.append(png_html(_figure_png(val.validation_figure(by_zone, v)), "validation_car_share_nil.png",
                            "Car share by home NIL: the census (left) and the model (middle) on one colour scale, "
                            "and each NIL's pair against the line where they agree (right)."))
        rows = [[_e(x["zone_id"]), _e(x["zone_name"]), f"{100 * x['observed']:.1f}%",
                 f"{100 * x['observed_published']:.1f}%", f"{100 * x['model']:.1f}%", pp(x["diff"], sign=True),
                 f"{x['workers_sampled']:,}"] for x in sorted(v.rows, key=lambda x: x["zone_id"])]
        out.append("<details><summary>Every NIL compared</summary>" + _table(
            ["NIL", "Name", "Census (mode known)", "Census (as published)", "Model", "Difference",
             "Sampled workers"], rows, num_cols={2, 3, 4, 5, 6}, cls="cal") + "</details>")
    if v.not_compared:
        out.append('<p class="small">Not compared: ' + "; ".join(
            f"{_e(k)} ({_e(why)})" for k, why in sorted(v.not_compared.items())) + ".</p>")
    out.append("</section>")
    return "".join(out)


def section_calibration(runs: list[_Run], by_key: dict) -> str:
    out = ['<section id="calibration"><h2>Calibration: targets and what the model achieved</h2>',
           ("<p>At the start of every run the model tunes its unobserved constants so that, with the policy levers "
            "at their defaults, it reproduces observed figures: congestion at the peak, how commuters travel by "
            "segment, which employers allow smart working, and how many workers quit. A policy run departs from "
            "these targets by design; quits in short or small runs are few events and noisy.</p>")]
    for i, r in enumerate(runs):
        if i == 0:
            if len(runs) > 1:
                out.append(f"<h3>{_e(r.label)} (baseline)</h3>")
            out.append(_calibration_run(r, by_key))
        else:
            out.append(f"<details><summary>{_e(r.label)}</summary>{_calibration_run(r, by_key)}</details>")
    out.append("</section>")
    return "".join(out)


def _source_html(source: str) -> str:
    if source.lower().startswith("assumption"):
        return f'<span class="badge">assumption</span> {_e(source[len("assumption"):].lstrip(" :;,"))}'
    return _e(source)


def _short(label: str, v: Any, limit: int = 60) -> str:
    """``label: value``, or ``label: other values`` when the value would be too long for a note."""
    text = scalar_text(v)
    return f"{label}: {text}" if len(text) <= limit else f"{label}: other values"


def _matrix_html(v: dict) -> str:
    """A mapping of mappings as a compact table: outer keys as rows, inner keys as columns."""
    cols = list(dict.fromkeys(k for x in v.values() for k in x))
    head = "".join(f'<th scope="col" class="num">{_e(c)}</th>' for c in cols)
    body = "".join(f'<tr><th scope="row">{_e(k)}</th>'
                   + "".join(f'<td class="num">{_e(scalar_text(x.get(c, _MISSING)) if c in x else "")}</td>'
                             for c in cols) + "</tr>" for k, x in v.items())
    return f'<table class="matrix"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>'


def section_assumptions(runs: list[_Run], rows: list[dict]) -> str:
    base = runs[0]
    out = ['<section id="assumptions"><h2>Assumptions and sources behind the defaults</h2>',
           ("<p>Every setting of the scenario, with the value used and where it comes from. Rows marked "
            '<span class="badge">assumption</span> are modelling choices rather than measured figures: the ones '
            "worth varying in a sensitivity analysis.<span class=screen> Click a section to open it.</span></p>")]
    if not base.scenario:
        out.append('<p class="note">scenario.resolved.yaml is missing: values used are unknown.</p>')
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
            value = '<span class="note">in the table below</span>' if nested else value_html(v)
            if v is not _MISSING and not _same(v, r["default"]):
                value = f"<strong>{value}</strong><span class=key>{_e(_short('default', r['default']))}</span>"
            for o in runs[1:]:
                ov = lookup(o.scenario, r["key"])
                if not _same(ov, v):
                    value += f'<span class="key"><strong>{_e(_short(o.label, ov))}</strong></span>'
            assume = str(r["source"]).lower().startswith("assumption")
            n_assume += assume
            cls = "assumption" if assume else ""
            body.append([f"<code>{_e(r['key'])}</code><span class=meaning>{_e(r['meaning'])}</span>",
                         _e("" if r["unit"] == "-" else r["unit"]), value,
                         _source_html(str(r["source"])) if r["source"] != "-" else ""])
            classes.append(f"{cls} nested".strip() if nested else cls)
            if nested:  # a mapping of mappings (sector mix, modal targets): a small table across the row
                body.append([_matrix_html(v)])
                classes.append(f"{cls} nested sub".strip())
        title = SECTION_TITLES.get(sec, sec)
        used = "Value used" + (f" ({_e(base.label)})" if len(runs) > 1 else "")
        out.append(f'<details class="section"><summary>{_e(title)} <span class="count">{len(items)} '
                   f"setting{'s' if len(items) != 1 else ''}, {n_assume} assumption{'s' if n_assume != 1 else ''}"
                   f"</span></summary>"
                   + _table(["Key and meaning", "Unit", used, "Source"], body, cls="assume", row_classes=classes)
                   + "</details>")
    out.append("</section>")
    return "".join(out)


def _manifest_text(k: str, v: Any) -> str:
    if v is _MISSING:
        return ""
    if k == "command_line" and isinstance(v, list):
        return f"<code>{_e(shlex.join(str(x) for x in v))}</code>"
    if isinstance(v, (dict, list)):
        return f"<code>{_e(scalar_text(v))}</code>"
    return _e(v if isinstance(v, str) else scalar_text(v))


def section_manifest(runs: list[_Run]) -> str:
    out = ['<section id="manifest"><h2>Run details (manifest)</h2>',
           ("<p>What produced each run: software version and commit, command line, seed, timing. "
            "<code>run.py run &lt;folder&gt;/scenario.resolved.yaml</code> runs the same scenario again (the same "
            "seed gives the same results).</p>")]
    keys: list[str] = []
    for r in runs:
        keys += [k for k in r.manifest if k not in keys]
    keys = [k for k in MANIFEST_ORDER if k in keys] + sorted(k for k in keys if k not in MANIFEST_ORDER)
    body = [["<code>folder</code>"] + [f"<code>{_e(r.shown_path)}</code>" for r in runs]]
    for k in keys:
        body.append([f"<code>{_e(k)}</code>"] + [_manifest_text(k, r.manifest.get(k, _MISSING)) for r in runs])
    out.append(_table(["Field"] + [_e(r.label) for r in runs], body, cls="manifest"))
    missing = [r.label for r in runs if not r.manifest]
    if missing:
        out.append(f'<p class="note">No manifest.json in: {_e(", ".join(missing))}.</p>')
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
@media print{
 body{font-size:10.5pt}
 main{max-width:none;padding:0}
 nav.toc,.screen{display:none}
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
           note_lines: list[str], now: dt.datetime) -> str:
    """The whole HTML page (a string)."""
    schema_list, by_key = _schema()
    base = runs[0]
    if len(runs) == 1:
        title = f"Smart working in Milan: scenario {base.name}"
    else:
        title = f"Smart working in Milan: {base.label} vs " + ", ".join(r.label for r in runs[1:])
    run_dates = sorted({_date_text(r.manifest.get("finished") or r.manifest.get("started")) for r in runs} - {""})
    sub = f"Report of {now.day} {now:%B %Y, %H:%M}"
    if run_dates:
        sub += f" &middot; run{'s' if len(runs) > 1 else ''} of {_e(', '.join(run_dates))}"
    sub += f" &middot; smartcommute {_e(__version__)}"
    trajectory = section_trajectory(runs)
    toc = ([("trajectory", "Year by year")] if trajectory else []) + [("what", "What was run"), ("kpis", "Headline results")]
    differences = section_differences(runs)
    appraisal = section_appraisal(runs)
    if len(runs) > 1:
        toc.append(("comparison", "Comparison"))
    if appraisal:
        toc.append(("appraisal", "Costs and benefits"))
    if differences:
        toc.append(("differences", "Differences by zone"))
    validation = section_validation(base)
    toc += [("plots", "Plots"), ("calibration", "Calibration")] + ([("validation", "Validation")] if validation else [])
    toc += [("assumptions", "Assumptions and sources"), ("manifest", "Run details")]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<header><h1>{_e(title)}</h1><p class=sub>{sub}</p>",
        '<nav class="toc">' + "".join(f'<a href="#{a}">{_e(t)}</a>' for a, t in toc) + "</nav></header>",
        trajectory,  # a run over years leads with its trajectory
        section_what(runs, schema_list, by_key, note_lines),
        section_kpis(runs),
    ]
    if len(runs) > 1 and sources is not None and rows_cmp is not None:
        parts.append(section_comparison(runs, sources, rows_cmp))
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
        (f"<footer>Written by <code>run.py report</code> (smartcommute {_e(__version__)}) on "
         f"{now:%Y-%m-%d %H:%M}. A self-contained file: every figure is embedded; nothing is fetched when it is "
         "opened.</footer>"),
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_report(run_dirs: list[Path], out: Path, labels: list[str] | None = None,
                 shown_paths: list[str] | None = None) -> Path:
    """Write the self-contained HTML report of ``run_dirs`` (the first is the baseline) to ``out``.

    Args:
        run_dirs: results folders written by ``run.py run`` (or ``compare``).
        out: the HTML file to write (its folder must exist); replaced atomically if it exists.
        labels: names of the runs in the report (default: the folder names, as ``run.py compare``).
        shown_paths: the folders as the report names them (default: their absolute paths); the runner
            passes the final path of a folder still being written under a temporary name.

    Returns:
        ``out``.

    Raises:
        ReportError: bad input, before anything is written.
    """
    out = Path(out)
    loaded = check_inputs(list(run_dirs), out)
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
            note_lines = notes(sources)
            compare_pngs = sort_plots(make_plots(sources, rows_cmp, Path(tmp)))
            names = [s.label for s in sources]
        else:
            names = labels or [loaded[0].folder.resolve().name]
        runs = [_Run(run, name, None if shown_paths is None else shown_paths[i])
                for i, (run, name) in enumerate(zip(loaded, names))]
        page = render(runs, sources, rows_cmp, compare_pngs, note_lines, dt.datetime.now())
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
