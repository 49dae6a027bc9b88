"""Speed of the fast model against the per-agent reference, side by side in one run.

For each size (workers sampled from the Milan baseline), in a fresh process so peak memory is that
size's own: set-up seconds (city, population, calibration), seconds per simulated year (250
workdays) of the fast model, of its no-smart-working counterfactual, worker-days per second, peak
RSS, and -- where it finishes in reasonable time -- the reference's worker-days per second on the
same scenario, seed and calibration, and ``ratio_vs_reference``. Ends with one JSON line.

    python benchmarks/speed.py            # 10k, 100k, 1.21M workers; reference at 10k
    python benchmarks/speed.py --quick    # small sizes, under two minutes
    python benchmarks/speed.py --scales 0.1,0.3,1.0   # fractions of Milan (workers = scale x 1.21M)
    python benchmarks/speed.py --scales 1.0 --scenarios scenarios/examples/grid_city.yaml,scenarios/milan_baseline.yaml
                                          # the grid and the real city side by side (issue 14)

The last column, seconds per simulated year per million workers sampled, is flat when the cost
grows linearly with the number of workers. The targets are per core: BLAS (which the model's run
does not call) is held to one thread.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy, here and in the children
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FULL_WORKERS = 1_210_000
YEAR = 250


def measure(workers: int, days: int, ref_days: int, queue, scenario: str = "scenarios/milan_baseline.yaml") -> None:
    """Run in a child process: time the fast model (and the reference if ref_days > 0)."""
    from sim.prepare import Inputs, build_model
    from sim.runner import counterfactual_scenario
    from sim.scenario.load import load_scenario

    scale = min(1.0, workers / FULL_WORKERS)
    sc = load_scenario(ROOT / scenario, [], scale=scale, days=days)
    t0 = time.perf_counter()
    model = build_model(sc)
    setup_s = time.perf_counter() - t0
    n = model.population.n_workers
    calibration = model.calibration
    t0 = time.perf_counter()
    model.run(days)
    fast_s = time.perf_counter() - t0
    cf = build_model(counterfactual_scenario(sc), Inputs(city=model.city, population=model.population, calibration=calibration))
    t0 = time.perf_counter()
    cf.run(days)
    cf_s = time.perf_counter() - t0
    row = {
        "scenario": sc.name, "zones": model.city.n_zones, "workers": n, "days": days, "setup_s": round(setup_s, 2),
        "s_per_year": round(fast_s / days * YEAR, 2),
        "counterfactual_s_per_year": round(cf_s / days * YEAR, 2),
        "worker_days_per_s": round(n * days / fast_s),
    }
    if ref_days:
        from sim.reference import run_reference
        ref_model, ref_s = run_reference(sc, calibration, ref_days, city=model.city, population=model.population)
        row["reference_days"] = ref_days
        row["reference_worker_days_per_s"] = round(n * ref_days / ref_s)
        row["ratio_vs_reference"] = round(row["worker_days_per_s"] / row["reference_worker_days_per_s"], 1)
    row["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    queue.put(row)


def run_size(workers: int, days: int, ref_days: int, scenario: str) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=measure, args=(workers, days, ref_days, queue, scenario))
    proc.start()
    row = queue.get()
    proc.join()
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes only (under two minutes)")
    p.add_argument("--days", type=int, help="simulated days per size (default 250, quick 20)")
    p.add_argument("--ref-days", type=int, help="days run by the reference (default 20, quick 10)")
    p.add_argument("--scales", help="comma-separated fractions of Milan, e.g. 0.1,0.3,1.0 (workers = scale x 1,210,000) "
                                    "instead of the default sizes; the reference runs only where workers <= 10,000")
    p.add_argument("--scenarios", default="scenarios/milan_baseline.yaml",
                   help="comma-separated scenario files (relative to the repository), each run at every size")
    args = p.parse_args(argv)
    if args.quick:
        sizes, days, ref_days, ref_max = [10_000, 50_000], args.days or 20, args.ref_days or 10, 10_000
    else:
        sizes, days, ref_days, ref_max = [10_000, 100_000, FULL_WORKERS], args.days or YEAR, args.ref_days or 20, 10_000
    if args.scales:
        sizes = [round(float(f) * FULL_WORKERS) for f in args.scales.split(",")]
    rows = []
    header = f"{'scenario':>16} {'zones':>5} {'workers':>9} {'days':>5} {'setup s':>8} {'s/year':>8} {'cf s/year':>9} {'worker-days/s':>14} {'ref wd/s':>10} {'ratio':>7} {'peak MB':>8} {'s/year per M workers':>21}"
    print(header)
    for scenario, w in [(sc, w) for sc in args.scenarios.split(",") for w in sizes]:
        row = run_size(w, days, ref_days if w <= ref_max else 0, scenario)
        row["s_per_year_per_million"] = round(row["s_per_year"] / row["workers"] * 1e6, 2)
        rows.append(row)
        print(f"{row['scenario']:>16} {row['zones']:>5} {row['workers']:>9} {row['days']:>5} {row['setup_s']:>8} {row['s_per_year']:>8} {row['counterfactual_s_per_year']:>9} "
              f"{row['worker_days_per_s']:>14} {row.get('reference_worker_days_per_s', '-'):>10} "
              f"{row.get('ratio_vs_reference', '-'):>7} {row['peak_rss_mb']:>8} {row['s_per_year_per_million']:>21}", flush=True)
    print(json.dumps({"benchmark": "speed", "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
