"""Where the fast model's time goes: cProfile of ``CommuteModel.run`` on the Milan baseline.

Builds the baseline model (``scenarios/milan_baseline.yaml``) at ``--scale`` (set-up not profiled),
runs the first ``--days`` workdays of its year under cProfile and prints the top ``--top`` functions by cumulative time and
by own time (tottime), each with calls, seconds and share of the profiled run time; then one JSON
line. Profiling adds overhead to every Python call, so absolute seconds are higher than in
``benchmarks/speed.py``; the shares are what to read. Use whole weeks (multiples of 5 days): the
weekly plan runs on Mondays.

    python benchmarks/profile.py                       # full Milan (1.38M workers), 20 days, top 10
    python benchmarks/profile.py --scale 0.1 --days 10 --top 15
"""

from __future__ import annotations

import sys
from pathlib import Path

# this file is named like the stdlib's ``profile`` (which cProfile imports): drop its folder from the path
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import cProfile  # noqa: E402
import json  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402

ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def _name(func: tuple) -> str:
    """``file:line(function)`` shortened to the path inside the project (or the builtin's name)."""
    path, line, fn = func
    if path == "~":  # builtins and C functions
        return fn
    p = Path(path)
    if "site-packages" in p.parts:
        p = Path(*p.parts[p.parts.index("site-packages") + 1:])
    elif p.is_relative_to(ROOT):
        p = p.relative_to(ROOT)
    else:
        p = Path(p.name)
    return f"{p}:{line}({fn})"


def _table(title: str, rows: list[dict], total: float) -> list[str]:
    out = [title, f"{'share':>6} {'seconds':>8} {'own s':>8} {'calls':>8}  function"]
    for r in rows:
        out.append(f"{r['cum_s'] / total if 'cum' in title else r['own_s'] / total:>6.1%} "
                   f"{r['cum_s']:>8.2f} {r['own_s']:>8.2f} {r['calls']:>8}  {r['function']}")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0, help="sampling rate of Milan (default 1.0 = 1.38M workers)")
    p.add_argument("--days", type=int, default=20, help="workdays profiled (default 20, four weeks)")
    p.add_argument("--top", type=int, default=10, help="functions per table (default 10)")
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args(argv)

    from sim.prepare import build_model
    from sim.scenario.load import load_scenario

    # the scenario's own horizon (a year): the first --days of it are profiled, and its calibration is the
    # cache entry a run of the baseline (or benchmarks/speed.py) made
    sc = load_scenario(ROOT / "scenarios" / "milan_baseline.yaml", [], scale=args.scale, seed=args.seed)
    t0 = time.perf_counter()
    model = build_model(sc)
    setup_s = time.perf_counter() - t0
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.runcall(model.run, args.days)
    run_s = time.perf_counter() - t0

    stats = pstats.Stats(prof)
    entries = []
    for func, (cc, nc, tt, ct, _callers) in stats.stats.items():
        entries.append({"function": _name(func), "calls": nc, "own_s": round(tt, 3), "cum_s": round(ct, 3)})
    total = stats.total_tt  # profiled run time (seconds, with profiler overhead)
    skip = ("(run)", "(runcall)", "(_wrapped_step)", "disable' of '_lsprof")  # wrappers of the whole run
    by_cum = sorted((e for e in entries if not any(s in e["function"] for s in skip)), key=lambda e: -e["cum_s"])[:args.top]
    by_own = sorted(entries, key=lambda e: -e["own_s"])[:args.top]
    n = model.population.n_workers
    print(f"Milan baseline, scale {args.scale:g} ({n} workers), {args.days} days profiled: "
          f"{run_s:.2f} s under cProfile ({run_s / args.days:.3f} s/day), set-up {setup_s:.1f} s (not profiled)")
    print("\n".join(_table(f"top {args.top} by cumulative time (share of run time)", by_cum, total)))
    print("\n".join(_table(f"top {args.top} by own time (tottime; share of run time)", by_own, total)))
    print(json.dumps({"benchmark": "profile", "scale": args.scale, "workers": n, "days": args.days,
                      "setup_s": round(setup_s, 2), "run_s": round(run_s, 2), "profiled_s": round(total, 2),
                      "s_per_day": round(run_s / args.days, 4), "top_cumulative": by_cum, "top_own": by_own}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
