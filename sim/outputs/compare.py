"""Every KPI of several results folders against the first (the baseline): ``run.py compare``'s table.

This module only reads folders. ``run.py compare`` also accepts scenario files: those are run first
by :func:`sim.orchestrate.compare`, which then hands the folders to :func:`write_comparison`.

For every KPI (the flattened numeric keys of ``summary.json``, e.g. ``co2_commute_t``,
``modal_split.car``; names, units and number formats from :mod:`sim.outputs.kpis`) and every run
after the baseline the table gives the value, the difference from the baseline in units and in
percent (empty when the baseline is 0) and, when both runs have replications with the same seeds,
the paired 95% t interval of the difference (per-seed differences). With replications a run's value
is the mean over its seeds.

Outputs, written into the (temporary) comparison folder: ``comparison.csv`` (kpi, unit, baseline,
run, value, diff, diff_pct, ci95_low, ci95_high; one row per KPI and run after the baseline;
``baseline`` is the baseline's value; the unit is the stored value's, shares 0-1),
``comparison.json`` (the same rows plus the runs compared), ``comparison.txt`` (the printed table)
and ``plots/compare_*.png``. A path that is not a readable run folder raises :class:`CompareError`.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from sim.i18n import DEFAULT_LANGUAGE, localise_number, t
from sim.outputs.kpis import (
    HEADLINE,
    format_diff,
    format_interval,
    format_pct_change,
    format_value,
    label,
    ordered,
    stored_unit,
    unit,
    word,
)
from sim.outputs.appraisal import appraise_runs
from sim.outputs.decomposition import decompose, read_held
from sim.outputs.decomposition import text_lines as decomposition_lines
from sim.outputs.appraisal import text_lines as appraisal_lines
from sim.outputs.replications import flatten_kpis, t_interval
from sim.outputs.results import RunFolderError, read_summary, write_json
from sim.scenario.schema import MODES

CSV_COLUMNS = ("kpi", "unit", "baseline", "run", "value", "diff", "diff_pct", "ci95_low", "ci95_high")


class CompareError(Exception):
    """The comparison cannot start; the message names the argument and the problem."""


# ------------------------------------------------------------------------------------------ inputs
@dataclass
class Source:
    """One run to compare: a results folder and its summary."""

    arg: str                             # as given on the command line
    kind: str                            # "run folder", or "scenario" for a file run by the orchestrator
    label: str = ""
    summary: dict | None = None
    folder: Path | None = None           # the run folder (final path)
    scenario: dict | None = None         # its resolved scenario (scenario.resolved.yaml), for the appraisal
    held: dict | None = None             # its held_choices.json (runs with travel choices held), for the decomposition

    @property
    def seeds(self) -> list[int] | None:
        rep = (self.summary or {}).get("replications")
        return list(rep["seeds"]) if rep else None

    def values(self) -> dict[str, float]:
        """KPI values: the mean over seeds when the run has replications, else the summary's."""
        flat = flatten_kpis(self.summary)
        rep = self.summary.get("replications")
        if rep:
            for k, v in rep["kpis"].items():
                if k in flat:
                    flat[k] = float(v["mean"])
        return flat

    def per_seed(self) -> dict[str, list[float]]:
        rep = self.summary.get("replications")
        return {k: list(v["values"]) for k, v in rep["kpis"].items()} if rep else {}


def read_source(arg: str) -> Source:
    """A run folder given as ``arg``; raises :class:`CompareError` if it is not a readable one."""
    p = Path(arg)
    if not p.is_dir():
        raise CompareError(f"{arg}: no such run folder" if not p.exists() else
                           f"{arg}: not a folder (expected a results folder written by 'run.py run')")
    try:
        summary = read_summary(p, arg)
    except RunFolderError as exc:
        raise CompareError(str(exc)) from None
    try:
        resolved = yaml.safe_load((p / "scenario.resolved.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        resolved = None
    return Source(arg, "run folder", label=p.resolve().name, summary=summary, folder=p,
                  scenario=resolved if isinstance(resolved, dict) else None, held=read_held(p))


def unique_labels(sources: list[Source]) -> list[Source]:
    """Make the labels unique (they name the table columns and ``runs/<label>``): ``a``, ``a_2``, ..."""
    used: set[str] = set()
    for src in sources:
        lab, i = src.label, 2
        while lab in used:
            lab, i = f"{src.label}_{i}", i + 1
        src.label = lab
        used.add(lab)
    return sources


def read_sources(folders: list) -> list[Source]:
    """Run folders to compare (the first is the baseline), with unique labels; at least two."""
    if len(folders) < 2:
        got = f"only '{folders[0]}'" if folders else "none"
        raise CompareError(f"compare: needs a baseline and at least one other run folder; got {got}")
    return unique_labels([read_source(str(f)) for f in folders])


# ------------------------------------------------------------------------------------------- table
def _pct(diff: float | None, base: float | None) -> float | None:
    if diff is None or base is None or base == 0:
        return None
    return 100.0 * diff / base


def build_rows(sources: list[Source]) -> list[dict]:
    """One row per KPI and run after the baseline (the columns of ``comparison.csv``)."""
    base = sources[0]
    values = {s.label: s.values() for s in sources}
    names = ordered(k for s in sources for k in values[s.label])
    b_vals, b_seeds, b_per = values[base.label], base.seeds, base.per_seed()
    rows = []
    for k in names:
        for src in sources[1:]:
            a, v = b_vals.get(k), values[src.label].get(k)
            diff = v - a if a is not None and v is not None else None
            lo = hi = None
            seeds, per = src.seeds, src.per_seed()
            if b_seeds and seeds and b_seeds == seeds and len(seeds) > 1 and k in b_per and k in per:
                ci = t_interval([y - x for x, y in zip(b_per[k], per[k])])
                lo, hi = ci["ci95_low"], ci["ci95_high"]
            rows.append({"kpi": k, "unit": stored_unit(k), "baseline": a, "run": src.label, "value": v, "diff": diff,
                         "diff_pct": _pct(diff, a), "ci95_low": lo, "ci95_high": hi})
    return rows


def noise_verdict(ci95_low: float | None, ci95_high: float | None) -> str | None:
    """``beyond`` when the paired 95% interval of a difference excludes 0, ``within`` when it holds 0,
    None without an interval (one replication, or seeds not shared): the catalogue's ``noise.*`` words."""
    if ci95_low is None or ci95_high is None or not (math.isfinite(ci95_low) and math.isfinite(ci95_high)):
        return None
    return "beyond" if ci95_low > 0 or ci95_high < 0 else "within"


def _value(key: str, x: float | None, lang: str = DEFAULT_LANGUAGE) -> str:
    return "" if x is None else format_value(key, x, lang=lang)


def format_table(sources: list[Source], rows: list[dict], lang: str = DEFAULT_LANGUAGE) -> str:
    """The comparison as an aligned text table: KPI, unit, baseline value, then per run value, diff, %, CI
    and whether the difference is beyond the noise (numbers as :mod:`sim.outputs.kpis` formats them:
    shares in %, their differences in pp). Headline KPIs first, in their order."""
    base, others = sources[0], sources[1:]
    by = {(r["kpi"], r["run"]): r for r in rows}
    names = ordered(dict.fromkeys(r["kpi"] for r in rows))
    has_ci = {s.label: any(by[(k, s.label)]["ci95_low"] is not None for k in names) for s in others}
    header = [t("compare.kpi", lang), t("compare.unit", lang), base.label]
    for s in others:
        header += [s.label, t("compare.diff", lang), t("compare.diff_pct", lang)] + (
            [t("compare.ci", lang), t("compare.verdict", lang)] if has_ci[s.label] else [])
    lines = [header]
    for k in names:
        first = by[(k, others[0].label)]
        line = [k, unit(k, lang), _value(k, first["baseline"], lang)]
        for s in others:
            r = by[(k, s.label)]
            line += [_value(k, r["value"], lang), format_diff(k, r["diff"], lang), format_pct_change(r["diff_pct"], lang)]
            if has_ci[s.label]:
                v = noise_verdict(r["ci95_low"], r["ci95_high"])
                line += ["" if r["ci95_low"] is None else f"[{format_interval(k, r['ci95_low'], r['ci95_high'], lang)}]",
                         t(f"noise.{v}", lang) if v else ""]
        lines.append(line)
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    left = {0, 1} | {i for i, h in enumerate(header) if h == t("compare.verdict", lang)}
    out = []
    for j, row in enumerate(lines):
        cells = [c.ljust(widths[i]) if i in left else c.rjust(widths[i]) for i, c in enumerate(row)]
        out.append("  ".join(cells).rstrip())
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
        if j == len([k for k in names if k in HEADLINE]) and j > 0:
            out.append("")  # blank line between the headline KPIs and the rest
    return "\n".join(out)


def describe(src: Source, lang: str = DEFAULT_LANGUAGE) -> str:
    s = src.summary
    seeds = src.seeds
    seed_txt = t("compare.seeds_many", lang, first=seeds[0], last=seeds[-1], n=len(seeds)) if seeds \
        else t("compare.seed_one", lang, seed=s.get("seed"))
    return t("compare.describe", lang, label=src.label, kind=src.kind, where=src.folder if src.folder else src.arg,
             days=s.get("days"), scale=s.get("scale"), seeds=seed_txt)


def notes(sources: list[Source], lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """Warnings about what makes the runs less comparable (different days, scale or seeds)."""
    out = []
    base = sources[0]
    for src in sources[1:]:
        for key in ("days", "scale"):
            if src.summary.get(key) != base.summary.get(key):
                out.append(t("compare.note_differs", lang, label=src.label, key=key, value=src.summary.get(key),
                             base=base.summary.get(key)))
        if (src.seeds or [src.summary.get("seed")]) != (base.seeds or [base.summary.get("seed")]):
            out.append(t("compare.note_not_paired", lang, label=src.label)
                       + (t("compare.note_no_interval", lang) if src.seeds and base.seeds else ""))
    return out


# ------------------------------------------------------------------------------------------- plots
def make_plots(sources: list[Source], rows: list[dict], folder: Path, lang: str = DEFAULT_LANGUAGE) -> list[Path]:
    """``compare_headline_pct.png`` (percent differences with 95% CIs) and ``compare_modal_split.png``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.outputs.figtext import PNG_LANGUAGE_KEY, localise_figure

    folder.mkdir(parents=True, exist_ok=True)
    base, others = sources[0], sources[1:]
    by = {(r["kpi"], r["run"]): r for r in rows}
    kpis = [k for k in HEADLINE if any((k, s.label) in by for s in others)]
    paths = []

    # one wide interval (quits: few events) must not squash every other bar: the axis spans the bars
    # (with room for their labels); an interval reaching past it is cut at the edge, its value still written
    reach = max((abs(r["diff_pct"]) for r in rows if r["kpi"] in kpis and r["diff_pct"] is not None), default=0.0)
    widest = max((abs(100 * e / r["baseline"]) for r in rows if r["kpi"] in kpis and r["baseline"]
                  for e in (r["ci95_low"], r["ci95_high"]) if e is not None), default=0.0)
    cut = reach > 0 and widest > 4 * reach
    fig, ax = plt.subplots(figsize=(10, (0.25 + 0.22 * len(others)) * len(kpis) + 1.8))
    height = 0.8 / len(others)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for j, src in enumerate(others):
        ys, xs, err_lo, err_hi, na = [], [], [], [], []
        for i, k in enumerate(kpis):
            y = i - 0.4 + height * (j + 0.5)
            r = by.get((k, src.label))
            if r is None or r["diff_pct"] is None:
                na.append(y)
                continue
            ys.append(y)
            xs.append(r["diff_pct"])
            if r["ci95_low"] is not None and r["baseline"]:
                lo, hi = sorted((100 * r["ci95_low"] / r["baseline"], 100 * r["ci95_high"] / r["baseline"]))
                err_lo.append(max(r["diff_pct"] - lo, 0.0))
                err_hi.append(max(hi - r["diff_pct"], 0.0))
            else:
                err_lo.append(0.0)
                err_hi.append(0.0)
        with_ci = any(err_lo) or any(err_hi)
        ax.barh(ys, xs, height=height * 0.9, color=colors[j % len(colors)],
                label=src.label + (t("compare.plot_ci", lang) if with_ci else ""),
                xerr=[err_lo, err_hi] if with_ci else None, capsize=3 if with_ci else 0,
                error_kw={"elinewidth": 1, "ecolor": "black"})
        for y, x, lo, hi in zip(ys, xs, err_lo, err_hi):
            end = x + hi if x >= 0 else x - lo
            if cut:
                end = max(min(end, 1.45 * reach), -1.45 * reach)
            ax.annotate(format_pct_change(x, lang), (end, y), xytext=(4 if x >= 0 else -4, 0), textcoords="offset points",
                        ha="left" if x >= 0 else "right", va="center", fontsize=7)
        for y in na:
            ax.text(0, y, t("compare.plot_na", lang), va="center", fontsize=7, color="grey")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.margins(x=0.12)
    if cut:
        ax.set_xlim(-1.6 * reach, 1.6 * reach)
        ax.text(0.99, 0.01, t("compare.plot_cut", lang), transform=ax.transAxes, ha="right", va="bottom",
                fontsize=7, color="grey")
    ax.set_yticks(range(len(kpis)))
    ax.set_yticklabels([label(k, lang) for k in kpis], fontsize=8)
    ax.set_ylim(len(kpis) - 0.5, -0.5)  # first KPI on top
    ax.set_xlabel(t("compare.plot_xlabel", lang, base=base.label))
    ax.set_title(t("compare.plot_title", lang, base=base.label))
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    paths.append(folder / "compare_headline_pct.png")
    localise_figure(fig, lang)
    fig.savefig(paths[-1], dpi=120, metadata={PNG_LANGUAGE_KEY: lang})
    plt.close(fig)

    splits = {s.label: s.values() for s in sources}
    modes = [m for m in MODES if any(f"modal_split.{m}" in v for v in splits.values())]
    if modes:
        fig, ax = plt.subplots(figsize=(9, 0.5 * len(sources) + 2), layout="constrained")
        left = [0.0] * len(sources)
        labels = [s.label for s in sources]
        for j, m in enumerate(modes):
            widths = [splits[lab].get(f"modal_split.{m}", 0.0) for lab in labels]
            ax.barh(range(len(labels)), widths, left=left, color=colors[j % len(colors)], label=word("mode", m, lang))
            for i, (x0, w) in enumerate(zip(left, widths)):
                if w >= 0.05:
                    ax.text(x0 + w / 2, i, localise_number(f"{100 * w:.0f}", lang) + "%", ha="center", va="center", fontsize=8, color="white")
            left = [a + b for a, b in zip(left, widths)]
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(labels)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(lambda x, _pos: f"{100 * x:.0f}%")
        ax.set_xlabel(t("compare.split_xlabel", lang))
        ax.set_title(t("compare.split_title", lang))
        fig.legend(ncols=len(modes), fontsize=8, loc="outside lower center")  # below the axis label, never on it
        paths.append(folder / "compare_modal_split.png")
        localise_figure(fig, lang)
        fig.savefig(paths[-1], dpi=120, metadata={PNG_LANGUAGE_KEY: lang})
        plt.close(fig)
    return paths


# --------------------------------------------------------------------------------------------- run
def default_out_dir(root: Path = Path("results")) -> Path:
    return root / f"compare-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _clean(x):
    return None if isinstance(x, float) and not math.isfinite(x) else x


def _clean_tree(x):
    if isinstance(x, dict):
        return {str(k): _clean_tree(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clean_tree(v) for v in x]
    return _clean(x)


def write_outputs(folder: Path, sources: list[Source], rows: list[dict], table: str, note_lines: list[str],
                  appraisals: dict[str, dict | None], decompositions: dict[str, dict | None] | None = None) -> None:
    with open(folder / "comparison.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: "" if r[k] is None else r[k] for k in CSV_COLUMNS})
    runs = [{"label": s.label, "argument": s.arg, "kind": s.kind, "folder": str(s.folder),
             "scenario": s.summary.get("scenario"), "days": s.summary.get("days"), "scale": s.summary.get("scale"),
             "seed": s.summary.get("seed"), "seeds": s.seeds} for s in sources]
    write_json(folder / "comparison.json", {
        "baseline": sources[0].label, "runs": runs,
        "value_is": "the run's summary.json value, or the mean over its seeds when it has replications",
        "ci95": "paired t interval of the per-seed differences, when both runs have replications with the same seeds",
        "units": {k: stored_unit(k) for k in dict.fromkeys(r["kpi"] for r in rows)},
        "labels": {k: label(k) for k in dict.fromkeys(r["kpi"] for r in rows)},
        "notes": note_lines,
        "rows": [{k: _clean(v) for k, v in r.items()} for r in rows],
        # costs and benefits in euros of each run against the baseline (sim.outputs.appraisal; None without its scenario)
        "appraisal": {label: _clean_tree(block) for label, block in appraisals.items()},
        # each run's change of the DECOMPOSED KPIs split into direct effect (modes and slots held), departure-time
        # response (slots free) and mode response (the rest), adding up to the total (sim.outputs.decomposition)
        "decomposition": {label: _clean_tree(block) for label, block in (decompositions or {}).items()},
    })
    (folder / "comparison.txt").write_text(table + "\n", encoding="utf-8")


def decompositions_of(sources: list[Source]) -> dict[str, dict | None]:
    """Each run's decomposition against the baseline (:func:`sim.outputs.decomposition.decompose`; None when
    neither folder has held runs, e.g. ``--no-decompose``), from the first seed's values."""
    base = sources[0]
    return {s.label: None if base.held is None and s.held is None else
            decompose(flatten_kpis(base.summary), base.held, flatten_kpis(s.summary), s.held) for s in sources[1:]}


def write_comparison(folder: Path, sources: list[Source], lang: str = DEFAULT_LANGUAGE) -> str:
    """Write the comparison of ``sources`` (the first is the baseline) into ``folder``; returns the printed table.

    ``folder`` is normally the temporary folder of an atomic write; the plots are synced to disk
    here, since the atomic write syncs only the top-level files.
    """
    rows = build_rows(sources)
    note_lines = notes(sources, lang)
    appraisals = {s.label: appraise_runs(sources[0].summary, sources[0].scenario, s.summary, s.scenario)
                  for s in sources[1:]}
    decompositions = decompositions_of(sources)
    width = max(len(t("compare.baseline", lang)), len(t("compare.run", lang)))
    table = "\n".join([f"{t('compare.baseline', lang):{width}s} {describe(sources[0], lang)}"]
                      + [f"{t('compare.run', lang):{width}s} {describe(s, lang)}" for s in sources[1:]]
                      + [t("compare.note", lang, text=n) for n in note_lines] + ["", format_table(sources, rows, lang), ""]
                      + [line for label, block in appraisals.items() for line in appraisal_lines(label, block, lang)]
                      + [line for label, block in decompositions.items() for line in decomposition_lines(label, block, lang)])
    write_outputs(folder, sources, rows, table, note_lines, appraisals, decompositions)
    for png in make_plots(sources, rows, folder / "plots", lang):
        with open(png, "rb") as fh:
            os.fsync(fh.fileno())
    return table
