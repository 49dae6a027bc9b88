"""``run.py compare BASELINE OTHER [...]``: every KPI of several runs against the first.

Each argument is a run folder (with ``summary.json``) or a scenario YAML file. Scenario files are
run first (their folders go under ``OUT/runs/<name>/``), all with the same seeds so that the
differences are paired: ``--seed`` and ``--replications`` default to the baseline's (its file, or
its run folder's ``summary.json``), ``--days`` and ``--scale`` to each file's own values.

For every KPI (the flattened numeric keys of ``summary.json``, e.g. ``co2_commute_t``,
``modal_split.car``) and every run after the baseline the table gives the value, the difference
from the baseline in units and in percent (empty when the baseline is 0) and, when both runs have
replications with the same seeds, the paired 95% t interval of the difference (per-seed
differences). With replications a run's value is the mean over its seeds.

Outputs, written atomically to ``OUT`` (default ``results/compare-<timestamp>``):
``comparison.csv`` (kpi, unit, baseline, run, value, diff, diff_pct, ci95_low, ci95_high; one row
per KPI and run after the baseline; ``baseline`` is the baseline's value), ``comparison.json``
(the same rows plus the runs compared), ``plots/compare_*.png`` and ``runs/`` (scenario runs).
Bad input (fewer than two arguments, a path that is neither a run folder nor a scenario file, a
run folder without ``summary.json``, an invalid scenario, an existing ``OUT``) raises
:class:`CompareError` before any work; ``run.py`` prints it and exits with code 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from sim.outputs.replications import flatten_kpis, t_interval
from sim.outputs.results import OutputError, atomic_dir, check_output_dir, write_json
from sim.scenario.load import ScenarioError, load_scenario
from sim.scenario.schema import MODES, SEGMENTS, SIZE_CLASSES, WEEKDAYS, Scenario

# the KPIs shown first, in this order; the rest follow (plain keys, then the sections)
HEADLINE = ("remote_share", "car_vkm", "co2_commute_t", "co2_home_t", "co2_net_t", "commute_hours_per_worker",
            "hours_saved_per_worker", "delay_hours", "peak_extra_time", "mean_stress", "high_stress_share",
            "quits_women_per_1000", "quits_men_per_1000")

UNITS = {
    "workers": "workers",
    "remote_share": "0-1",
    "car_vkm": "vehicle-km",
    "car_vehicle_hours": "vehicle-h",
    "co2_commute_t": "t CO2",
    "co2_home_t": "t CO2",
    "co2_home_energy_t": "t CO2",
    "co2_extra_trips_t": "t CO2",
    "co2_net_t": "t CO2",
    "commute_hours_per_worker": "h per worker",
    "hours_saved_per_worker": "h per worker",
    "hours_saved_congestion_relief_per_worker": "h per worker",
    "hours_saved_remote_days_per_worker": "h per worker",
    "office_days_per_worker": "days per worker",
    "delay_hours": "h (all commuters)",
    "peak_extra_time": "0-1 over free flow",
    "peak_vc_max": "volume/capacity",
    "transit_peak_load": "load/capacity",
    "mean_stress": "0-10",
    "high_stress_share": "0-1",
    "quits_women_per_1000": "per 1,000 per year",
    "quits_men_per_1000": "per 1,000 per year",
    "break_even_km": "km",
    "modal_split": "0-1 of trips",
    "modal_split_by_segment": "0-1 of trips",
    "adoption_by_size": "0-1 of workers",
    "office_attendance_by_weekday": "0-1 of workers",
}
CSV_COLUMNS = ("kpi", "unit", "baseline", "run", "value", "diff", "diff_pct", "ci95_low", "ci95_high")
_KNOWN_ORDER = {name: i for group in (MODES, SIZE_CLASSES, WEEKDAYS, SEGMENTS) for i, name in enumerate(group)}
_SECTION_ORDER = ("modal_split", "modal_split_by_segment", "adoption_by_size", "office_attendance_by_weekday")


class CompareError(Exception):
    """The comparison cannot start; the message names the argument and the problem."""


def unit(kpi: str) -> str:
    """Unit of a KPI name (a flattened ``section.key`` takes its section's unit)."""
    if kpi in UNITS:
        return UNITS[kpi]
    head = kpi.split(".", 1)[0]
    if head in UNITS:
        return UNITS[head]
    if kpi.endswith("_t"):
        return "t CO2" if kpi.startswith("co2") else "t"
    if kpi.endswith("_share"):
        return "0-1"
    return "-"


def kpi_order(names) -> list[str]:
    """Headline KPIs first (in :data:`HEADLINE` order), then plain keys alphabetically, then sections."""
    names = list(dict.fromkeys(names))
    head = [k for k in HEADLINE if k in names]

    def key(name: str):
        parts = name.split(".")
        if len(parts) == 1:
            return (0, 0, name)
        sec = _SECTION_ORDER.index(parts[0]) if parts[0] in _SECTION_ORDER else len(_SECTION_ORDER)
        return (1, sec, parts[0], *[(_KNOWN_ORDER.get(p, 99), p) for p in parts[1:]])

    return head + sorted((k for k in names if k not in HEADLINE), key=key)


# ------------------------------------------------------------------------------------------ inputs
@dataclass
class Source:
    """One argument of ``compare``: a run folder, or a scenario file to run."""

    arg: str
    kind: str                            # "run folder" or "scenario"
    label: str = ""
    scenario: Scenario | None = None
    summary: dict | None = None
    folder: Path | None = None           # the run folder (final path)
    replications: int = 1

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


def _read_summary(arg: str, folder: Path) -> dict:
    path = folder / "summary.json"
    if not path.is_file():
        raise CompareError(f"{arg}: run folder has no summary.json (expected a results folder written by 'run.py run')")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CompareError(f"{arg}: summary.json cannot be read: {exc}") from None
    if not isinstance(data, dict) or not flatten_kpis(data):
        raise CompareError(f"{arg}: summary.json holds no KPIs (expected the summary of a 'run.py run' folder)")
    return data


def _load(arg: str, **top) -> Scenario:
    try:
        return load_scenario(arg, (), **top)
    except ScenarioError as exc:
        raise CompareError(str(exc)) from None


def resolve_sources(args: list[str], seed: int | None = None, days: int | None = None, scale: float | None = None,
                    replications: int | None = None) -> list[Source]:
    """Check every argument and load summaries and scenarios; raise :class:`CompareError` on bad input."""
    if len(args) < 2:
        got = f"only '{args[0]}'" if args else "none"
        raise CompareError(f"compare: needs a baseline and at least one other run folder or scenario file; got {got}")
    if replications is not None and replications < 1:
        raise CompareError(f"--replications: expected an integer >= 1, got {replications}")
    sources = []
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            src = Source(arg, "run folder", summary=_read_summary(arg, p), folder=p)
            src.label = p.resolve().name
        elif p.is_file() and p.suffix.lower() in (".yaml", ".yml"):
            src = Source(arg, "scenario")
        elif p.exists():
            raise CompareError(f"{arg}: neither a run folder (with summary.json) nor a scenario file (.yaml/.yml)")
        else:
            raise CompareError(f"{arg}: no such run folder or scenario file")
        sources.append(src)

    base = sources[0]
    if base.kind == "run folder":
        base_seed = base.summary.get("seed")
        base_reps = (base.summary.get("replications") or {}).get("n", 1)
    else:
        base_seed = _load(base.arg, seed=seed, days=days, scale=scale).seed
        base_reps = 1
    common_seed = seed if seed is not None else base_seed
    n_reps = replications if replications is not None else base_reps
    for src in sources:
        if src.kind == "scenario":
            src.scenario = _load(src.arg, seed=common_seed, days=days, scale=scale)
            src.label = src.scenario.name
            src.replications = n_reps
    used: set[str] = set()
    for src in sources:  # unique labels (they name the table columns and runs/<label>)
        label, i = src.label, 2
        while label in used:
            label, i = f"{src.label}_{i}", i + 1
        src.label = label
        used.add(label)
    return sources


# ------------------------------------------------------------------------------------------- table
def _pct(diff: float | None, base: float | None) -> float | None:
    if diff is None or base is None or base == 0:
        return None
    return 100.0 * diff / base


def build_rows(sources: list[Source]) -> list[dict]:
    """One row per KPI and run after the baseline (the columns of ``comparison.csv``)."""
    base = sources[0]
    values = {s.label: s.values() for s in sources}
    names = kpi_order(k for s in sources for k in values[s.label])
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
            rows.append({"kpi": k, "unit": unit(k), "baseline": a, "run": src.label, "value": v, "diff": diff,
                         "diff_pct": _pct(diff, a), "ci95_low": lo, "ci95_high": hi})
    return rows


def _num(x: float | None) -> str:
    if x is None:
        return ""
    if x == 0:
        return "0"
    if abs(x) >= 1e4:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:,.1f}"
    return f"{x:.4g}"


def _signed(x: float | None) -> str:
    s = _num(x)
    return s if not s or s.startswith("-") or s == "0" else "+" + s


def _pct_text(x: float | None) -> str:
    return "" if x is None else f"{x:+.1f}%"


def format_table(sources: list[Source], rows: list[dict]) -> str:
    """The comparison as an aligned text table: KPI, unit, baseline value, then per run value, diff, %, CI."""
    base, others = sources[0], sources[1:]
    by = {(r["kpi"], r["run"]): r for r in rows}
    names = list(dict.fromkeys(r["kpi"] for r in rows))
    has_ci = {s.label: any(by[(k, s.label)]["ci95_low"] is not None for k in names) for s in others}
    header = ["kpi", "unit", base.label]
    for s in others:
        header += [s.label, "diff", "diff %"] + (["95% CI of diff"] if has_ci[s.label] else [])
    lines = [header]
    for k in names:
        first = by[(k, others[0].label)]
        line = [k, first["unit"], _num(first["baseline"])]
        for s in others:
            r = by[(k, s.label)]
            line += [_num(r["value"]), _signed(r["diff"]), _pct_text(r["diff_pct"])]
            if has_ci[s.label]:
                line.append("" if r["ci95_low"] is None else f"[{_signed(r['ci95_low'])}, {_signed(r['ci95_high'])}]")
        lines.append(line)
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    left = {0, 1}
    out = []
    for j, row in enumerate(lines):
        cells = [c.ljust(widths[i]) if i in left else c.rjust(widths[i]) for i, c in enumerate(row)]
        out.append("  ".join(cells).rstrip())
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
        if j == len([k for k in names if k in HEADLINE]) and j > 0:
            out.append("")  # blank line between the headline KPIs and the rest
    return "\n".join(out)


def describe(src: Source) -> str:
    s = src.summary
    seeds = src.seeds
    seed_txt = f"seeds {seeds[0]}..{seeds[-1]} ({len(seeds)} replications, values are means)" if seeds \
        else f"seed {s.get('seed')}"
    return (f"{src.label}: {src.kind} {src.folder if src.folder else src.arg}; {s.get('days')} days, "
            f"scale {s.get('scale')}, {seed_txt}")


def notes(sources: list[Source]) -> list[str]:
    """Warnings about what makes the runs less comparable (different days, scale or seeds)."""
    out = []
    base = sources[0]
    for src in sources[1:]:
        for key in ("days", "scale"):
            if src.summary.get(key) != base.summary.get(key):
                out.append(f"{src.label}: {key} {src.summary.get(key)} differs from the baseline's "
                           f"{base.summary.get(key)}: totals are not comparable")
        if (src.seeds or [src.summary.get("seed")]) != (base.seeds or [base.summary.get("seed")]):
            out.append(f"{src.label}: not the baseline's seeds, so differences are not paired"
                       + (" and have no interval" if src.seeds and base.seeds else ""))
    return out


# ------------------------------------------------------------------------------------------- plots
def make_plots(sources: list[Source], rows: list[dict], folder: Path) -> list[Path]:
    """``compare_headline_pct.png`` (percent differences with 95% CIs) and ``compare_modal_split.png``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    base, others = sources[0], sources[1:]
    by = {(r["kpi"], r["run"]): r for r in rows}
    kpis = [k for k in HEADLINE if any((k, s.label) in by for s in others)]
    paths = []

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
                label=src.label + (" (bars: 95% CI)" if with_ci else ""),
                xerr=[err_lo, err_hi] if with_ci else None, capsize=3 if with_ci else 0,
                error_kw={"elinewidth": 1, "ecolor": "black"})
        for y, x, lo, hi in zip(ys, xs, err_lo, err_hi):
            end = x + hi if x >= 0 else x - lo
            ax.annotate(f"{x:+.1f}%", (end, y), xytext=(4 if x >= 0 else -4, 0), textcoords="offset points",
                        ha="left" if x >= 0 else "right", va="center", fontsize=7)
        for y in na:
            ax.text(0, y, "  n/a (baseline 0)", va="center", fontsize=7, color="grey")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.margins(x=0.12)
    ax.set_yticks(range(len(kpis)))
    ax.set_yticklabels([f"{k} ({unit(k)})" for k in kpis], fontsize=8)
    ax.set_ylim(len(kpis) - 0.5, -0.5)  # first KPI on top
    ax.set_xlabel(f"difference from baseline '{base.label}' (%)")
    ax.set_title(f"Headline KPIs: change from baseline '{base.label}'")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    paths.append(folder / "compare_headline_pct.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    splits = {s.label: s.values() for s in sources}
    modes = [m for m in MODES if any(f"modal_split.{m}" in v for v in splits.values())]
    if modes:
        fig, ax = plt.subplots(figsize=(9, 0.5 * len(sources) + 2), layout="constrained")
        left = [0.0] * len(sources)
        labels = [s.label for s in sources]
        for j, m in enumerate(modes):
            widths = [splits[lab].get(f"modal_split.{m}", 0.0) for lab in labels]
            ax.barh(range(len(labels)), widths, left=left, color=colors[j % len(colors)], label=m)
            for i, (x0, w) in enumerate(zip(left, widths)):
                if w >= 0.05:
                    ax.text(x0 + w / 2, i, f"{100 * w:.0f}%", ha="center", va="center", fontsize=8, color="white")
            left = [a + b for a, b in zip(left, widths)]
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(labels)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of commute trips (0-1)")
        ax.set_title("Modal split of commute trips by run (first row: baseline)")
        fig.legend(ncols=len(modes), fontsize=8, loc="outside lower center")  # below the axis label, never on it
        paths.append(folder / "compare_modal_split.png")
        fig.savefig(paths[-1], dpi=120)
        plt.close(fig)
    return paths


# --------------------------------------------------------------------------------------------- run
def default_out_dir(root: Path = Path("results")) -> Path:
    return root / f"compare-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _clean(x):
    return None if isinstance(x, float) and not math.isfinite(x) else x


def write_outputs(folder: Path, sources: list[Source], rows: list[dict], table: str, note_lines: list[str]) -> None:
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
        "units": {k: unit(k) for k in dict.fromkeys(r["kpi"] for r in rows)},
        "notes": note_lines,
        "rows": [{k: _clean(v) for k, v in r.items()} for r in rows],
    })
    (folder / "comparison.txt").write_text(table + "\n", encoding="utf-8")


def compare(args: list[str], out: Path | None = None, seed: int | None = None, days: int | None = None,
            scale: float | None = None, replications: int | None = None, quiet: bool = False,
            argv: list[str] | None = None) -> tuple[Path, str]:
    """Check the arguments, run the scenario files, write ``out``; returns (folder, printed table).

    Raises:
        CompareError: bad input, before any work and before anything is written.
    """
    sources = resolve_sources(args, seed=seed, days=days, scale=scale, replications=replications)
    out = Path(out) if out is not None else default_out_dir()
    try:
        check_output_dir(out)
    except OutputError as exc:
        raise CompareError(str(exc)) from None

    from sim.runner import run_and_write
    with atomic_dir(out) as tmp:
        for src in sources:
            if src.kind != "scenario":
                continue
            sc = src.scenario
            bar = None
            if not quiet:
                from tqdm import tqdm
                runs = 1 if sc.policy.smart_working == "off" else 2
                bar = tqdm(total=sc.days * runs * src.replications, unit="day", file=sys.stderr, mininterval=1.0,
                           desc=src.label + (f" x{src.replications} seeds" if src.replications > 1 else ""))
            try:
                _, src.summary = run_and_write(sc, tmp / "runs" / src.label, argv=argv or sys.argv,
                                               progress=bar.update if bar else None, replications=src.replications)
            finally:
                if bar:
                    bar.close()
            src.folder = out / "runs" / src.label
        rows = build_rows(sources)
        note_lines = notes(sources)
        table = "\n".join([f"baseline {describe(sources[0])}"] + [f"run      {describe(s)}" for s in sources[1:]]
                          + [f"note: {n}" for n in note_lines] + ["", format_table(sources, rows)])
        write_outputs(tmp, sources, rows, table, note_lines)
        for png in make_plots(sources, rows, tmp / "plots"):
            with open(png, "rb") as fh:  # atomic_dir syncs only the top-level files
                os.fsync(fh.fileno())
    return out, table
