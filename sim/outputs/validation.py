"""Held-out validation: the model's car share by home NIL against the 2011 census (never fitted).

Inputs: a run's ``by_zone`` table (``zone_id``, ``municipio``, ``car_share``, ``workers``,
``workers_sampled``) and the observed car share by zone code, read from the census file
``sim/data/milan/nil_commute_mode_2011.csv`` by :func:`read_census_car_share` (Comune di Milano,
ds1490: main means of transport of the residents who commute daily, by 2011 NIL; see
``sim/data/milan/PROVENANCE.md``).
Outputs: :class:`Validation` (one row per NIL compared; Pearson correlation and mean absolute
difference, each unweighted and weighted) and :func:`validation_figure` (the two maps side by side on
one colour scale, and the scatter against the 1:1 line). The report shows them for a city with NIL
(:mod:`sim.outputs.report`); on the synthetic grid there is nothing to compare and no section.

Decisions (docs/validation.md):

* The census share is **renormalised** over the commuters whose mode is known: "Auto privata" /
  (all - "Non disponibile"). The published share divides by all commuters, "Non disponibile"
  included, which is 0-46% of a NIL's commuters (median 5%): left in, it would read as "not by car"
  and pull the observed share down most where the census knows least. Renormalising assumes the
  unknown split like the known in each NIL.
* The model's share is its ``car_share``: car round trips over all office-day round trips of the
  NIL's resident workers (weighted), the census's the main mode of each commuter; "Altri mezzi"
  (motorbikes and others) sits in the denominator of both.
* Unweighted figures count every NIL once; weighted figures weight each NIL by its census commuters
  with a known mode (the people the observed share describes; no model quantity in the weight).
* A NIL is compared only when the census has it and the run sampled at least
  :data:`MIN_SAMPLED_WORKERS` workers living there; the others are listed, not dropped silently.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from matplotlib.figure import Figure

from sim.outputs.maps import MIN_SAMPLED_WORKERS, legend_handles, zone_map
from sim.outputs.zones import read_geometry

CENSUS_FILE = Path(__file__).resolve().parents[1] / "data" / "milan" / "nil_commute_mode_2011.csv"
CAR, UNKNOWN = "Auto privata", "Non disponibile"


def nil_code(id_nil: int) -> str:
    """The zone code of a NIL (as in the city's zone table): 1 -> ``NIL_01``."""
    return f"NIL_{id_nil:02d}"


class CensusFileError(ValueError):
    """The census file is not as expected; the message names the file, the line and the column."""


@dataclass
class Observed:
    """One NIL's census figures: car commuters, commuters with a known mode, all commuters."""

    car: float
    known: float
    total: float

    @property
    def share(self) -> float:
        """Car share of the commuters whose mode is known (renormalised, see the module's notes)."""
        return self.car / self.known if self.known > 0 else float("nan")

    @property
    def share_published(self) -> float:
        """Car share of all commuters, "Non disponibile" included (the file's ``share``)."""
        return self.car / self.total if self.total > 0 else float("nan")


def read_census_car_share(path: Path | None = None) -> dict[str, Observed]:
    """The census car figures by NIL zone code from ``nil_commute_mode_2011.csv`` (default :data:`CENSUS_FILE`).

    Columns used: ``id_nil`` (1-88), ``mode`` (the census label), ``count`` (persons).

    Raises:
        CensusFileError: a missing column, a bad id or count, a NIL without its car row.
    """
    path = Path(path if path is not None else CENSUS_FILE)
    try:
        fh = open(path, newline="", encoding="utf-8")
    except OSError as exc:
        raise CensusFileError(f"{path}: cannot read ({exc.strerror})") from None
    counts: dict[str, dict[str, float]] = {}
    with fh:
        reader = csv.DictReader(fh)
        missing = {"id_nil", "mode", "count"} - set(reader.fieldnames or [])
        if missing:
            raise CensusFileError(f"{path}: line 1: missing column(s) {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            for col in ("id_nil", "count"):
                try:
                    value = float(row[col])
                except (TypeError, ValueError):
                    raise CensusFileError(f"{path}: line {line}: column {col}: expected a number, got "
                                          f"{row[col]!r}") from None
                if value < 0 or (col == "id_nil" and value != int(value)):
                    raise CensusFileError(f"{path}: line {line}: column {col}: expected a non-negative "
                                          f"{'integer' if col == 'id_nil' else 'count'}, got {row[col]!r}")
            by_mode = counts.setdefault(nil_code(int(float(row["id_nil"]))), {})
            by_mode[row["mode"].strip()] = by_mode.get(row["mode"].strip(), 0.0) + float(row["count"])
    out = {}
    for code, by_mode in counts.items():
        if CAR not in by_mode:
            raise CensusFileError(f"{path}: {code}: no row with mode {CAR!r}")
        total = sum(by_mode.values())
        out[code] = Observed(car=by_mode[CAR], known=total - by_mode.get(UNKNOWN, 0.0), total=total)
    return out


# ------------------------------------------------------------------------------------------ comparison
@dataclass
class Validation:
    """The model's car share by home NIL against the census."""

    rows: list[dict]                       # zone_id, zone_name, observed, model, diff, weight, workers_sampled
    not_compared: dict[str, str] = field(default_factory=dict)  # zone_id -> why
    min_sampled: int = MIN_SAMPLED_WORKERS

    def _arrays(self):
        obs = np.array([r["observed"] for r in self.rows], float)
        mod = np.array([r["model"] for r in self.rows], float)
        w = np.array([r["weight"] for r in self.rows], float)
        return obs, mod, w

    @property
    def n(self) -> int:
        return len(self.rows)

    @property
    def pearson_r(self) -> float:
        obs, mod, _ = self._arrays()
        return _pearson(obs, mod, np.ones(len(obs)))

    @property
    def pearson_r_weighted(self) -> float:
        obs, mod, w = self._arrays()
        return _pearson(obs, mod, w)

    @property
    def mean_abs_diff(self) -> float:
        obs, mod, _ = self._arrays()
        return float(np.mean(np.abs(mod - obs))) if len(obs) else float("nan")

    @property
    def mean_abs_diff_weighted(self) -> float:
        obs, mod, w = self._arrays()
        return float(np.sum(w * np.abs(mod - obs)) / w.sum()) if len(obs) and w.sum() > 0 else float("nan")

    @property
    def mean_diff_weighted(self) -> float:
        """Weighted mean of model - census: the bias (positive: the model drives more)."""
        obs, mod, w = self._arrays()
        return float(np.sum(w * (mod - obs)) / w.sum()) if len(obs) and w.sum() > 0 else float("nan")

    def figures(self) -> dict[str, float]:
        return {"nil_compared": self.n, "pearson_r": self.pearson_r, "pearson_r_weighted": self.pearson_r_weighted,
                "mean_abs_diff": self.mean_abs_diff, "mean_abs_diff_weighted": self.mean_abs_diff_weighted,
                "mean_diff_weighted": self.mean_diff_weighted}


def _pearson(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Weighted Pearson correlation (NaN with fewer than 3 points or no spread)."""
    if len(x) < 3 or w.sum() <= 0:
        return float("nan")
    w = w / w.sum()
    dx, dy = x - np.sum(w * x), y - np.sum(w * y)
    sxx, syy = np.sum(w * dx * dx), np.sum(w * dy * dy)
    if sxx <= 0 or syy <= 0:
        return float("nan")
    return float(np.sum(w * dx * dy) / np.sqrt(sxx * syy))


def has_nil(by_zone: dict) -> bool:
    """Whether the run's city has NIL of the Comune di Milano (zones in a Municipio)."""
    return any(int(m) > 0 for m in by_zone.get("municipio", []))


def validate_car_share(by_zone: dict, observed: dict[str, Observed],
                       min_sampled: int = MIN_SAMPLED_WORKERS) -> Validation:
    """Compare ``by_zone``'s ``car_share`` of every NIL (Municipio 1-9) with ``observed`` (by zone code)."""
    rows, skipped = [], {}
    for i, code in enumerate(by_zone["zone_id"]):
        if int(by_zone["municipio"][i]) <= 0:
            continue
        ob = observed.get(code)
        sampled = int(by_zone["workers_sampled"][i])
        if ob is None or not np.isfinite(ob.share):
            skipped[code] = "no census figure"
        elif sampled < min_sampled:
            skipped[code] = f"{sampled} sampled workers (fewer than {min_sampled})"
        else:
            model = float(by_zone["car_share"][i])
            rows.append({"zone_id": code, "zone_name": by_zone["zone_name"][i], "observed": ob.share,
                         "observed_published": ob.share_published, "model": model, "diff": model - ob.share,
                         "weight": ob.known, "workers_sampled": sampled})
    return Validation(rows=rows, not_compared=skipped, min_sampled=min_sampled)


def validation_figure(by_zone: dict, v: Validation) -> Figure:
    """The census and the model's car share by NIL side by side (one colour scale), and their scatter."""
    geoms = read_geometry(by_zone.get("geometry_wkb"))
    nil = np.array([int(m) > 0 for m in by_zone["municipio"]])
    nil_geoms = [g if k else None for g, k in zip(geoms, nil)]  # the Comune di Milano only
    index = {c: i for i, c in enumerate(by_zone["zone_id"])}
    census, model = np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)
    for r in v.rows:
        census[index[r["zone_id"]]] = 100 * r["observed"]
        model[index[r["zone_id"]]] = 100 * r["model"]
    top = 1.05 * max(float(np.nanmax(np.r_[census, model])) if v.rows else 1.0, 1.0)
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    spec = fig.add_gridspec(1, 4, width_ratios=(1, 1, 0.04, 0.9))
    maps, grey = [], 0
    for j, (values, title) in enumerate(((census, "Census 2011: residents commuting\n(mode known)"),
                                         (model, "Model: office-day trips\nof resident workers"))):
        m = zone_map(fig, spec[0, j], geoms=nil_geoms, values=values, unit="%", label="car share", cmap="Reds",
                     vmin=0.0, vmax=top, zoom=False, colorbar=False, legend=False)
        m.axes[0].set_title(title, fontsize=9, loc="left")
        maps += m.axes
        grey = max(grey, m.no_data)
    cb = fig.colorbar(m.mappable, cax=fig.add_subplot(spec[0, 2]))
    cb.set_label("car share (%)", fontsize=8)
    cb.ax.tick_params(labelsize=7)
    handles = legend_handles(grey > 0, f"not compared: no census figure, or fewer than {v.min_sampled} "
                                       "sampled workers")
    if handles:
        fig.legend(handles=handles, loc="outside lower left", fontsize=7, frameon=False)
    ax = fig.add_subplot(spec[0, 3])
    obs, mod, _ = v._arrays()
    ax.scatter(100 * obs, 100 * mod, s=14, color="#c0392b", alpha=0.8, lw=0)
    ax.plot([0, top], [0, top], color="#555555", lw=1, ls="--", label="model = census")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("census car share (% of commuters)", fontsize=8)
    ax.set_ylabel("model car share (% of office-day trips)", fontsize=8)
    r = v.pearson_r
    ax.set_title(f"{v.n} NIL; r = {r:.2f}, mean |diff| = {100 * v.mean_abs_diff:.1f} pp" if v.n else "no NIL compared",
                 fontsize=9, loc="left")
    ax.legend(loc="upper left", fontsize=7)
    ax.tick_params(labelsize=7)
    return fig


def markdown(folder: Path) -> str:
    """The validation figures of a results folder as the Markdown table of docs/validation.md."""
    by_zone = pq.read_table(Path(folder) / "by_zone.parquet").to_pydict()
    if not has_nil(by_zone):
        return f"{folder}: the city has no NIL; nothing to validate"
    v = validate_car_share(by_zone, read_census_car_share())
    f = v.figures()
    lines = [f"Run: `{folder}`; {v.n} NIL compared, {len(v.not_compared)} not compared.", "",
             "| | unweighted (each NIL once) | weighted (census commuters with a known mode) |", "|---|---|---|",
             f"| Pearson correlation, model vs census | {f['pearson_r']:.2f} | {f['pearson_r_weighted']:.2f} |",
             f"| mean absolute difference | {100 * f['mean_abs_diff']:.1f} pp | {100 * f['mean_abs_diff_weighted']:.1f} pp |",
             f"| mean difference, model - census | | {100 * f['mean_diff_weighted']:+.1f} pp |"]
    return "\n".join(lines)


if __name__ == "__main__":  # python -m sim.outputs.validation RUN_DIR: the figures for docs/validation.md
    import sys

    for arg in sys.argv[1:]:
        try:
            print(markdown(Path(arg)))
        except (OSError, CensusFileError) as exc:
            print(f"{arg}: {exc}", file=sys.stderr)
            sys.exit(2)
