"""Why a KPI moved: a lever's effect split into the direct effect and the travel-choice responses.

A run of ``run.py compare`` (``--decompose``, the default) also runs the baseline and each policy with
the workers' travel choices held at the habits the year starts with (the calibration's warm-up end
state, the same in every run on one baseline): ``modes_and_slots`` (mode and departure slot kept) and
``modes`` (mode kept, departure slot re-chosen). Each run folder keeps those runs' KPIs in
``held_choices.json`` (:data:`HELD_FILE`). With the same seed every run reads the same keyed random
numbers, so for a KPI ``K`` of policy ``P`` against baseline ``B``:

* **direct effect** = ``K(P, modes and slots held) - K(B, modes and slots held)``: what the lever does
  with nobody changing how or when they travel (fewer trips on remote days, a dearer car, ...);
* **departure-time response** = ``K(P, modes held) - K(B, modes held)`` - direct: what changes because
  workers re-choose when to leave (e.g. staggered hours: the delay saved by leaving later);
* **mode response** = total - direct - departure-time response: what changes because workers re-choose
  their mode (e.g. car trips induced by faster roads);

and the three add up to the total ``K(P) - K(B)`` of the free runs (the first seed's, with replications).
This module only reads folders (no simulation).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from sim.i18n import DEFAULT_LANGUAGE, t
from sim.outputs.kpis import DECOMPOSED, format_diff, label, unit

HELD_FILE = "held_choices.json"
HELD_RUNS = ("modes_and_slots", "modes")  # the run options (sim.behaviour.mode_choice.HOLD_CHOICES) a decomposition needs
PARTS = ("direct", "departure_time", "mode")


def read_held(folder: Path | None) -> dict | None:
    """A run folder's ``held_choices.json`` (None when absent or unreadable)."""
    if folder is None:
        return None
    try:
        data = json.loads((Path(folder) / HELD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and all(h in (data.get("runs") or {}) for h in HELD_RUNS) else None


def held_block(seed: int, runs: dict[str, dict[str, float]]) -> dict:
    """The content of ``held_choices.json``: the seed and, per held run, its flattened KPIs."""
    return {"seed": seed, "meaning": "KPIs of the run with travel choices held at the habits the year starts with "
                                     "(modes_and_slots: mode and departure slot kept; modes: mode kept, slot re-chosen)",
            "runs": runs}


def _num(x) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


def _unavailable(code: str) -> dict:
    """A block saying why there is no decomposition (``reason``: a code, its words in the catalogues)."""
    return {"available": False, "reason": code, "reason_text": t(f"decomposition.reason_{code}", DEFAULT_LANGUAGE)}


def reason_text(block: dict, lang: str = DEFAULT_LANGUAGE) -> str:
    """Why a block is unavailable, in ``lang``."""
    return t(f"decomposition.reason_{block['reason']}", lang)


def decompose(base_free: dict, base_held: dict | None, run_free: dict, run_held: dict | None,
              kpis=DECOMPOSED) -> dict:
    """The decomposition block of one run against the baseline.

    Args:
        base_free, run_free: flattened KPIs of the free runs (the first seed's).
        base_held, run_held: the folders' :func:`read_held` (None when missing).

    Returns ``{"available": True, "kpis": {kpi: {baseline, value, total, direct, departure_time, mode}}}``,
    or ``{"available": False, "reason": code, "reason_text": ...}`` when a held run is missing or the seeds differ.
    """
    if base_held is None or run_held is None:
        return _unavailable("no_held_baseline" if base_held is None else "no_held_run")
    if base_held.get("seed") != run_held.get("seed"):
        return _unavailable("seeds_differ")
    bh, rh = base_held["runs"], run_held["runs"]
    out = {}
    for k in kpis:
        vals = [_num(d.get(k)) for d in (base_free, run_free, bh["modes_and_slots"], rh["modes_and_slots"],
                                         bh["modes"], rh["modes"])]
        if any(v is None for v in vals):
            continue
        b, r, b_ms, r_ms, b_m, r_m = vals
        total = r - b
        direct = r_ms - b_ms
        departure = (r_m - b_m) - direct
        out[k] = {"baseline": b, "value": r, "total": total, "direct": direct, "departure_time": departure,
                  "mode": total - direct - departure}
    return {"available": True, "kpis": out}


def text_lines(run_label: str, block: dict | None, lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """The decomposition of one run as lines of the printed comparison (none without a block)."""
    if not block:
        return []
    head = t("decomposition.title", lang, run=run_label)
    if not block["available"]:
        return [head, "  " + t("decomposition.unavailable", lang, reason=reason_text(block, lang)), ""]
    cols = [t("decomposition.kpi", lang), t("decomposition.unit", lang), t("decomposition.total", lang)] + [
        t(f"decomposition.{p}", lang) for p in PARTS]
    rows = [cols]
    for k, d in block["kpis"].items():
        rows.append([label(k, lang), unit(k, lang)] + [format_diff(k, d[p], lang, extra_decimals=1)
                                                      for p in ("total", *PARTS)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(cols))]
    lines = [head]
    for j, r in enumerate(rows):
        lines.append("  " + "  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]) for i, c in enumerate(r)).rstrip())
        if j == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return lines + [""]


__all__ = ["HELD_FILE", "HELD_RUNS", "PARTS", "decompose", "held_block", "read_held", "reason_text", "text_lines"]
