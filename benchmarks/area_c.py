"""Area C as a natural experiment (docs/validation.md): the charge from 0 to 5 EUR, as in January 2012.

Runs ``scenarios/milan_baseline.yaml`` at ``--scale`` (default 0.1) and ``--seed`` (default 42) for a
year twice, with ``policy.area_c_charge_eur`` at 0 and at 5 (the same calibration, population and
random numbers: the pair differs only by the charge; no counterfactual, no files written), and prints:

* who the model's commuters into Area C are (workplace in the core): workers by segment, the share
  with a car, their mean one-way distance and their expected car share on the first day (the
  calibrated warm start's learnt times held fixed), at both charges;
* the year's ``car_trips_to_area_c``, car vehicle-km, vehicle-hours, delay and peak extra time of
  both runs and the change;
* one JSON line with the figures.

Usage: python benchmarks/area_c.py [--scale 0.1] [--seed 42] [--charges 0 5]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.behaviour.mode_choice import CAR, TRANSIT  # noqa: E402
from sim.prepare import build_model  # noqa: E402
from sim.runner import simulate  # noqa: E402
from sim.scenario.load import load_scenario  # noqa: E402
from sim.scenario.schema import SEGMENTS, WORKDAYS_PER_YEAR  # noqa: E402

KPIS = ("car_trips_to_area_c", "car_vkm", "car_vehicle_hours", "delay_hours", "peak_extra_time")


def _core_workers(sc) -> dict:
    """The first day's expected mode shares of the workers whose workplace is in Area C, by segment."""
    m = build_model(sc)
    pop, w = m.population, m.population.weight
    core = m.city.in_area_c[pop.work]
    p = m.mode_probabilities()
    out = {"jobs": float(w[core].sum()),
           "car_share": float(np.average(p[core, CAR], weights=w[core])),
           "transit_share": float(np.average(p[core, TRANSIT], weights=w[core])), "by_segment": {}}
    for s, name in enumerate(SEGMENTS):
        g = core & (m.segment == s)
        if g.any():
            out["by_segment"][name] = {"jobs": float(w[g].sum()), "car_available": float(np.average(pop.car_available[g], weights=w[g])),
                                       "km": float(np.average(m.options.dist_km[g], weights=w[g])),
                                       "car_share": float(np.average(p[g, CAR], weights=w[g]))}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--charges", type=float, nargs=2, default=[0.0, 5.0])
    args = ap.parse_args()
    res = {}
    for c in args.charges:
        sc = load_scenario(ROOT / "scenarios" / "milan_baseline.yaml", [f"policy.area_c_charge_eur={c}"],
                           scale=args.scale, seed=args.seed)
        core = _core_workers(sc)
        _, s = simulate(sc, counterfactual=False)
        res[c] = {"core": core, **{k: s[k] for k in KPIS}}
        print(f"charge {c:g} EUR: {core['jobs']:,.0f} jobs in Area C; first-day car share {core['car_share']:.2%}, "
              f"transit {core['transit_share']:.2%}", flush=True)
        for name, g in core["by_segment"].items():
            print(f"  {name}: {g['jobs']:,.0f} jobs, car available {g['car_available']:.0%}, {g['km']:.1f} km one way, "
                  f"car share {g['car_share']:.2%}")
        print(f"  year: car trips into Area C {s['car_trips_to_area_c']:,.0f} "
              f"({s['car_trips_to_area_c'] / WORKDAYS_PER_YEAR:,.0f} a workday)", flush=True)
    a, b = (res[c] for c in args.charges)
    for k in KPIS:
        print(f"{k}: {a[k]:,.4g} -> {b[k]:,.4g} ({(b[k] / a[k] - 1) * 100:+.2f}%)")
    print(json.dumps({"benchmark": "area_c", "scale": args.scale, "seed": args.seed,
                      "runs": {f"{c:g}": r for c, r in res.items()}}))


if __name__ == "__main__":
    main()
