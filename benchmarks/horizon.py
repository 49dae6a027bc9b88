"""The programme over its horizon: the baseline and SME support over 1 and N years, times and yearly tables.

For each of ``scenarios/milan_baseline.yaml`` and ``scenarios/sme_support.yaml`` this runs
:func:`sim.runner.simulate` (calibration, the run and its no-smart-working counterfactual; no files
written) over 1 year and over ``--years`` years (default 5) at ``--scale`` (default 0.05), each in
this process one after the other, and prints:

* the wall time of each simulation (city, population, calibration, the run and its counterfactual)
  and the N-year / 1-year ratio;
* the yearly table of each N-year run (adoption by size class, remote share, net CO2, car vkm,
  hours saved against the counterfactual, women's quits, high stress);
* the appraisal of SME support against the baseline over the N years (sim.outputs.appraisal);
* one JSON line with every figure.

Usage: python benchmarks/horizon.py [--years 5] [--scale 0.05] [--seed 42]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.outputs.appraisal import appraise_runs  # noqa: E402
from sim.runner import simulate  # noqa: E402
from sim.scenario.load import load_scenario, resolved_dict  # noqa: E402

COLUMNS = (("adoption_by_size", "micro"), ("adoption_by_size", "small"), ("adoption_by_size", "medium"),
           ("adoption_by_size", "large"), ("adoption_by_size", "public"), ("remote_share", None),
           ("co2_net_t", None), ("car_vkm", None), ("hours_saved_per_worker", None), ("quits_women_per_1000", None),
           ("high_stress_share", None))


def _cell(year: dict, key: str, sub: str | None) -> float:
    return year[key][sub] if sub else year[key]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    out: dict = {"benchmark": "horizon", "scale": args.scale, "years": args.years, "seed": args.seed, "runs": {}}
    kept = {}
    for name in ("milan_baseline", "sme_support"):
        for years in (1, args.years):
            sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml", years=years, scale=args.scale, seed=args.seed)
            t0 = time.perf_counter()
            _, summary = simulate(sc)
            wall = time.perf_counter() - t0
            out["runs"][f"{name}_{years}y"] = {"wall_s": round(wall, 2), "days": sc.days,
                                               "by_year": [{"year": y["year"]} | {f"{k}.{s}" if s else k: _cell(y, k, s)
                                                                                 for k, s in COLUMNS if k in y}
                                                           for y in summary["by_year"]]}
            print(f"{name}, {years} year(s), {sc.days} workdays: {wall:.1f} s", flush=True)
            kept[(name, years)] = (summary, resolved_dict(sc))
        one, many = out["runs"][f"{name}_1y"]["wall_s"], out["runs"][f"{name}_{args.years}y"]["wall_s"]
        out["runs"][f"{name}_ratio"] = round(many / one, 2)
        print(f"  {args.years}-year / 1-year time: {many / one:.2f}")
    for name in ("milan_baseline", "sme_support"):
        summary = kept[(name, args.years)][0]
        print(f"\n{name}, {args.years} years (scale {args.scale:g}, seed {args.seed}):")
        head = ["year"] + [s or k for k, s in COLUMNS]
        print(" | ".join(head))
        for y in summary["by_year"]:
            cells = [str(y["year"])]
            for k, s in COLUMNS:
                v = _cell(y, k, s)
                cells.append(f"{100 * v:.2f}%" if (s or k in ("remote_share", "high_stress_share")) else f"{v:,.1f}")
            print(" | ".join(cells))
    block = appraise_runs(*kept[("milan_baseline", args.years)], *kept[("sme_support", args.years)])
    out["appraisal"] = {k: v for k, v in block.items() if k != "by_year"}
    print(f"\nappraisal of sme_support against milan_baseline over {args.years} years:")
    print(json.dumps(out["appraisal"], indent=1))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
