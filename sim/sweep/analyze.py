"""Analysis of a sweep folder: Sobol indices (SALib) for a Sobol sweep, response plots for any design.

``run.py analyze DIR`` merges the store (``collect``) and writes ``DIR/analysis/``:

- ``sobol_indices.csv`` (Sobol design): output, parameter, S1, S1_conf, ST, ST_conf (95% bootstrap
  half-widths, ``SALib.analyze.sobol``) computed on each design point's mean over its seeds;
- ``point_means.csv``: every design point's parameter values and the mean of each output over seeds;
- ``response_<output>.png``: the output against each parameter (every run as a dot, the mean per
  level as a line for discrete parameters); ``sobol_<output>.png``: the indices with their intervals.

:func:`html_section` returns the same as an HTML fragment with the images embedded (base64), for a
report.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
from pathlib import Path

import numpy as np

from sim.outputs.kpis import label, stored_unit
from sim.sweep.spec import SweepFile
from sim.sweep.store import Store, StoreError


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


def _load(folder: Path):
    store = Store(folder)
    meta = store.meta()
    if meta is None:
        raise StoreError(f"{folder}: not a sweep folder (no sweep.json)")
    spec = SweepFile.model_validate(meta["spec"])
    _, table = store.collect()
    return spec, meta, table.to_pylist() if table.num_rows else []


def point_means(spec: SweepFile, rows: list[dict]) -> dict[int, dict]:
    """design_index -> {'params': {...}, 'n': ok seeds, output: mean over ok seeds}."""
    params = [p.path for p in spec.parameters]
    out: dict[int, dict] = {}
    for r in rows:
        d = out.setdefault(r["design_index"], {"params": {p: r.get(p) for p in params}, "n": 0, "_v": {}})
        if r["status"] != "ok":
            continue
        d["n"] += 1
        for o in spec.outputs:
            v = r.get(o)
            if v is not None:
                d["_v"].setdefault(o, []).append(v)
    for d in out.values():
        for o in spec.outputs:
            vals = d["_v"].get(o)
            d[o] = float(np.mean(vals)) if vals else None
        del d["_v"]
    return out


def sobol_indices(spec: SweepFile, means: dict[int, dict], n_design: int) -> tuple[list[dict], list[str]]:
    """Sobol S1/ST with 95% intervals per output; notes for the outputs that cannot be analysed."""
    from SALib.analyze import sobol
    names = [p.path for p in spec.parameters]
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    rows, notes = [], []
    for o in spec.outputs:
        y = [means.get(i, {}).get(o) for i in range(n_design)]
        missing = sum(v is None or not math.isfinite(v) for v in y)
        if missing:
            notes.append(f"{o}: {missing} of {n_design} design points have no value (failed or not run yet); "
                         "no Sobol indices")
            continue
        y = np.asarray(y, dtype=float)
        if float(np.var(y)) == 0.0:
            notes.append(f"{o}: constant over the sweep; no Sobol indices")
            continue
        res = sobol.analyze(problem, y, calc_second_order=spec.design.second_order, num_resamples=200,
                            conf_level=0.95, seed=spec.design.seed)
        for j, name in enumerate(names):
            rows.append({"output": o, "parameter": name, "S1": float(res["S1"][j]),
                         "S1_conf": float(res["S1_conf"][j]), "ST": float(res["ST"][j]),
                         "ST_conf": float(res["ST_conf"][j])})
    return rows, notes


def _key(v):
    """Level identity across types (a level 0 read back from Parquet as 0.0 is the same level)."""
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, (int, float)):
        return ("n", float(v))
    return ("s", str(v))


def _axis_label(output: str) -> str:
    """A KPI's label and unit as stored (the sweep's values are summary.json's: shares 0-1)."""
    return f"{label(output)}\n({stored_unit(output)})"


def _plot_response(spec: SweepFile, rows: list[dict], output: str, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    params = spec.parameters
    ncol = min(3, len(params))
    nrow = math.ceil(len(params) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.3 * nrow), squeeze=False)
    ok = [r for r in rows if r["status"] == "ok" and r.get(output) is not None]
    for ax, p in zip(axes.flat, params):
        xs = [r.get(p.path) for r in ok]
        ys = [r[output] for r in ok]
        numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)
        if p.levels is not None or not numeric:
            levels = p.levels if p.levels is not None else sorted(set(xs), key=str)
            pos = {_key(v): i for i, v in enumerate(levels)}
            xi = [pos.get(_key(x), -1) for x in xs]
            ax.scatter(xi, ys, s=10, alpha=0.5)
            means = [np.mean([y for x, y in zip(xi, ys) if x == i]) if i in xi else np.nan for i in range(len(levels))]
            ax.plot(range(len(levels)), means, "o-", color="C3", label="mean")
            ax.set_xticks(range(len(levels)), [str(v) for v in levels])
        else:
            ax.scatter(xs, ys, s=10, alpha=0.5)
            uniq = sorted(set(xs))
            if spec.design.type == "grid" or len(uniq) <= 12:  # mean per value
                ax.plot(uniq, [np.mean([y for x, y in zip(xs, ys) if x == u]) for u in uniq], "o-", color="C3")
            elif xs:  # sampled designs: mean in equal-count bins of at least ~8 runs (3 to 10 bins)
                order = np.argsort(xs)
                bins = np.array_split(order, int(min(10, max(3, len(xs) // 8))))
                ax.plot([np.mean(np.asarray(xs)[b]) for b in bins if len(b)],
                        [np.mean(np.asarray(ys)[b]) for b in bins if len(b)], "o-", color="C3", label="binned mean")
        ax.set_xlabel(p.path, fontsize=8)
        ax.set_ylabel(_axis_label(output), fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(params):]:
        ax.set_visible(False)
    fig.suptitle(f"{spec.name}: {label(output)} against each parameter ({len(ok)} runs)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _plot_sobol(output: str, rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = [r["parameter"] for r in rows]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(4.5, 1.2 * len(names) + 2), 3.5))
    ax.bar(x - 0.2, [r["S1"] for r in rows], 0.4, yerr=[r["S1_conf"] for r in rows], capsize=3, label="S1 (first order)")
    ax.bar(x + 0.2, [r["ST"] for r in rows], 0.4, yerr=[r["ST_conf"] for r in rows], capsize=3, label="ST (total)")
    ax.set_xticks(x, names, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("Sobol index")
    ax.set_title(f"Sobol indices of {label(output)} (95% intervals)", fontsize=10)
    ax.axhline(0, color="k", lw=0.5)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90, bbox_inches="tight")  # long rotated parameter names stay inside the image
    plt.close(fig)


def _write_csv(path: Path, rows: list[dict], fields: list[str]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def analyze(folder: str | Path) -> dict:
    """Write ``folder/analysis`` (see the module docstring); returns what was written and found."""
    folder = Path(folder)
    spec, meta, rows = _load(folder)
    out = folder / "analysis"
    out.mkdir(exist_ok=True)
    means = point_means(spec, rows)
    params = [p.path for p in spec.parameters]
    mean_rows = [{"design_index": i, **m["params"], "n_seeds_ok": m["n"], **{o: m[o] for o in spec.outputs}}
                 for i, m in sorted(means.items())]
    _write_csv(out / "point_means.csv", mean_rows, ["design_index", *params, "n_seeds_ok", *spec.outputs])
    result = {"folder": str(out), "design": spec.design.type, "runs": len(rows),
              "ok": sum(r["status"] == "ok" for r in rows), "failed": sum(r["status"] == "failed" for r in rows),
              "plots": [], "sobol": [], "notes": []}
    for o in spec.outputs:
        png = out / f"response_{_safe(o)}.png"
        _plot_response(spec, rows, o, png)
        result["plots"].append(str(png))
    if spec.design.type == "sobol":
        d = len(params)
        n_design = spec.design.base_samples * ((2 * d + 2) if spec.design.second_order else (d + 2))
        indices, notes = sobol_indices(spec, means, n_design)
        result["sobol"], result["notes"] = indices, notes
        _write_csv(out / "sobol_indices.csv", indices, ["output", "parameter", "S1", "S1_conf", "ST", "ST_conf"])
        for o in spec.outputs:
            sel = [r for r in indices if r["output"] == o]
            if sel:
                png = out / f"sobol_{_safe(o)}.png"
                _plot_sobol(o, sel, png)
                result["plots"].append(str(png))
    result["report"] = str(out / "report.html")
    (out / "analysis.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    _write_page(folder, out / "report.html")
    return result


PAGE_CSS = ("body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1000px;margin:2em auto;"
            "padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0}th,td{padding:3px 10px;"
            "border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child,th:nth-child(2),"
            "td:nth-child(2){text-align:left}img{max-width:100%}figure{margin:1.5em 0}")


def _write_page(folder: Path, path: Path) -> None:
    """``analysis/report.html``: :func:`html_section` as one self-contained page (nothing fetched)."""
    page = (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>Sweep analysis: {html.escape(folder.name)}"
            f"</title><style>{PAGE_CSS}</style></head><body>{html_section(folder)}</body></html>\n")
    path.write_text(page, encoding="utf-8")


def html_section(folder: str | Path, title: str | None = None) -> str:
    """An HTML ``<section>`` with the analysis of a sweep folder (images embedded as base64).

    Runs :func:`analyze` if ``folder/analysis`` is missing.
    """
    folder = Path(folder)
    out = folder / "analysis"
    if not (out / "analysis.json").is_file():
        analyze(folder)
    res = json.loads((out / "analysis.json").read_text(encoding="utf-8"))
    meta = Store(folder).meta() or {}
    name = html.escape(title or f"Sweep {meta.get('name', folder.name)}")
    parts = [f"<section class=\"sweep\"><h2>{name}</h2>",
             f"<p>Design: {html.escape(res['design'])}; {res['runs']} runs, {res['ok']} ok, {res['failed']} failed.</p>"]
    if res["sobol"]:
        parts.append("<table><thead><tr><th>output</th><th>parameter</th><th>S1</th><th>±95%</th>"
                     "<th>ST</th><th>±95%</th></tr></thead><tbody>")
        for r in res["sobol"]:
            parts.append(f"<tr><td>{html.escape(label(r['output']))} <code>{html.escape(r['output'])}</code></td>"
                         f"<td>{html.escape(r['parameter'])}</td>"
                         f"<td>{r['S1']:.3f}</td><td>{r['S1_conf']:.3f}</td><td>{r['ST']:.3f}</td>"
                         f"<td>{r['ST_conf']:.3f}</td></tr>")
        parts.append("</tbody></table>")
    for note in res["notes"]:
        parts.append(f"<p class=\"note\">{html.escape(note)}</p>")
    for p in res["plots"]:
        data = base64.b64encode(Path(p).read_bytes()).decode("ascii")
        parts.append(f"<figure><img alt=\"{html.escape(Path(p).stem)}\" src=\"data:image/png;base64,{data}\"/>"
                     f"<figcaption>{html.escape(Path(p).stem)}</figcaption></figure>")
    parts.append("</section>")
    return "\n".join(parts)
