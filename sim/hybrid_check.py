"""Validation: does the model reproduce Bloom, Han & Liang (2024)'s hybrid-work effect on quits?

Bloom et al. (Nature 630, 920-925) randomised 1,612 graduate employees of Trip.com between five office
days and a hybrid schedule (two days at home a week, Wednesday and Friday) for six months: quit rates
fell by one-third (significant for non-managers, women and long commuters). The model is *not*
fitted to it: the quit hazard's stress coefficient and the strain weights are set independently
(see ``wellbeing`` in docs/parameters.md); this check runs the model twice on the same inputs and
common random numbers:

* office: ``policy.remote_days.cap = 0`` (nobody works remotely);
* hybrid: ``policy.remote_days.floor = 2`` and ``cap = 2`` (the workers allowed smart working work
  exactly two days a week at home; the others stay in the office);

and compares the expected quits (sum of the daily quit probabilities) of the "treated" positions:
allowed smart working on every day of the hybrid run and held by the same worker all run in both
runs. The ratio hybrid / office is the model's hazard ratio; by gender and for commutes above the
treated group's median. Scope: Bloom et al. measure job quits of graduates in one firm, not mothers
leaving work; the model's group is every allowed worker (any education), so this is a plausibility
check of the direction and size, not a test of the mechanism.

``python -m sim.hybrid_check [SCENARIO] [--scale 0.02] [--seeds 3] [--days 250]`` prints the table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from sim.prepare import build_model, prepare
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BLOOM_RATIO = 2 / 3  # "reduced quit rates by one-third" (abstract)


def hazard_ratios(scenario_path: Path, *, scale: float, seed: int, days: int) -> dict[str, float]:
    """Hybrid / office ratio of the treated positions' expected quits (all, women, men, long commutes)."""
    office_sc = load_scenario(scenario_path, ["policy.remote_days.cap=0"], scale=scale, seed=seed, days=days)
    hybrid_sc = load_scenario(scenario_path, ["policy.remote_days.floor=2", "policy.remote_days.cap=2"],
                              scale=scale, seed=seed, days=days)
    inputs = prepare(office_sc)  # the calibration sees the levers at their defaults: the same for both
    runs = {}
    for name, sc in (("office", office_sc), ("hybrid", hybrid_sc)):
        m = build_model(sc, inputs)
        m.run(days)
        runs[name] = m
    off, hyb = runs["office"], runs["hybrid"]
    stayed = (off.metrics.employed_days == days) & (hyb.metrics.employed_days == days) & (off.metrics.quits == 0) \
        & (hyb.metrics.quits == 0)
    treated = (hyb.metrics.allowed_days == days) & stayed
    w = inputs.population.weight
    long = hyb.dist_km >= np.median(hyb.dist_km[treated])
    groups = {"all treated": treated, "women": treated & hyb.woman, "men": treated & ~hyb.woman,
              "long commute (above median)": treated & long}
    out = {}
    for label, sel in groups.items():
        a, b = float(np.sum(w[sel] * off.metrics.expected_quits[sel])), float(np.sum(w[sel] * hyb.metrics.expected_quits[sel]))
        out[label] = b / a if a > 0 else float("nan")
    out["treated positions (sampled)"] = float(treated.sum())
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.hybrid_check", description=__doc__.split("\n\n")[0])
    p.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "milan_baseline.yaml"))
    p.add_argument("--scale", type=float, default=0.02)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--days", type=int, default=250)
    args = p.parse_args(argv)
    rows = [hazard_ratios(Path(args.scenario), scale=args.scale, seed=42 + k, days=args.days) for k in range(args.seeds)]
    print(f"Hybrid (2 remote days) / office (0) ratio of expected quits, {args.scenario}, scale {args.scale}, "
          f"{args.days} days, seeds 42..{41 + args.seeds}")
    for key in rows[0]:
        vals = np.array([r[key] for r in rows])
        half = 1.96 * vals.std(ddof=1) / np.sqrt(len(vals)) if len(vals) > 1 else float("nan")
        fmt = "{:.0f}" if key.startswith("treated positions") else "{:.3f}"
        print(f"  {key:32s} mean {fmt.format(vals.mean())}  (95% over seeds +-{half:.3f})  per seed: "
              + ", ".join(fmt.format(v) for v in vals))
    print(f"  Bloom et al. 2024: about {BLOOM_RATIO:.3f} (quits down by one third)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
