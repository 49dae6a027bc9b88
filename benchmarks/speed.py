"""Speed of the fast model on the real Milan at full scale, measured against the machine in the same run.

Every case runs in a fresh child process (spawn), so its set-up, peak memory and imports are its own:

* ``cold``: set-up (city, population, calibration) with an empty calibration cache (a new folder);
* ``warm`` (x ``--repeat``): set-up again with that cache filled, then one simulated year (``--days``
  workdays, default 250) of the fast model, then the fixed reference kernel (``benchmarks/kernel.py``)
  over the same workers; ``year_vs_kernel`` = year seconds / the kernel's seconds for the same
  worker-days (the kernel runs ``--kernel-days`` days, scaled to the year's), so a loaded or slower
  machine moves both; peak RSS and bytes per worker (peak RSS / workers: the whole process, imports
  and city included);
* ``reference``: a small sample (``--ref-workers``, default 10,000) of the same scenario for
  ``--ref-days`` days: the fast model and the per-agent reference (``sim/reference.py``) on the same
  city, population, seed and calibration, side by side; ``ratio_vs_reference`` = the fast model's
  worker-days per second / the reference's;
* ``region`` (``--region``): a Lombardy-sized population (``--region-workers``, default 4,000,000)
  made by sampling the real city at a rate above 1: every stratum (size class x inbound) of the 1.38 M
  workers is drawn ``rate`` times over, each worker weighing 1/rate of a real one, so the zones, jobs,
  OD flows and road loads are the real city's (weighted totals unchanged) with ~2.9x the agents to
  simulate. It is calibrated cold (its own cache folder) and runs one year.

Min and median over ``--repeat`` warm children (year_s, setup_warm_s, year_vs_kernel). ``--quick``: a 5%
sample, 20 days, 2,000 workers for the reference, a 3x region of that sample; under two minutes.
BLAS (which the model does not call) is held to one thread. Ends with one JSON line.

    python benchmarks/speed.py                      # full scale, 3 repeats, reference at 10k x 5 days
    python benchmarks/speed.py --region             # ... and the 4 M-worker line
    python benchmarks/speed.py --quick --region
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy, here and in the children
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCENARIO = "scenarios/milan_baseline.yaml"
YEAR = 250


def _scenario(scale: float, days: int):
    """The Milan baseline at sampling rate ``scale`` (a rate above 1 replicates every stratum; see the module doc)."""
    from sim.scenario.load import load_scenario
    sc = load_scenario(ROOT / SCENARIO, [], scale=min(scale, 1.0), days=days)
    return sc.model_copy(update={"scale": scale}) if scale > 1.0 else sc  # the schema caps a sample at 1


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _child(case: str, params: dict, cache: str, queue) -> None:
    os.environ["SMARTCOMMUTE_CACHE"] = cache
    os.environ.pop("SMARTCOMMUTE_NO_CACHE", None)
    from sim.prepare import build_model

    sc = _scenario(params["scale"], params["days"])
    t0 = time.perf_counter()
    model = build_model(sc)
    row = {"case": case, "workers": model.population.n_workers, "zones": model.city.n_zones,
           "setup_s": round(time.perf_counter() - t0, 3)}
    if case in ("warm", "region"):
        days = params["days"]
        t0 = time.perf_counter()
        model.run(days)
        run_s = time.perf_counter() - t0
        row.update(days=days, year_s=round(run_s / days * YEAR, 3), worker_days_per_s=round(row["workers"] * days / run_s))
        row["peak_rss_mb"] = round(_peak_mb(), 1)  # the model's own peak, before the kernel
        row["bytes_per_worker"] = round(row["peak_rss_mb"] * 2**20 / row["workers"])
        del model
        from benchmarks.kernel import kernel_seconds
        k_days = params["kernel_days"]
        k_s = kernel_seconds(row["workers"], k_days)
        row.update(kernel_days=k_days, kernel_worker_days_per_s=round(row["workers"] * k_days / k_s),
                   kernel_year_s=round(k_s / k_days * YEAR, 3))
        row["year_vs_kernel"] = round(row["year_s"] / row["kernel_year_s"], 2)
    elif case == "reference":
        from sim.reference import run_reference
        days = params["days"]
        t0 = time.perf_counter()
        model.run(days)
        fast_s = time.perf_counter() - t0
        _, ref_s = run_reference(sc, model.calibration, days, city=model.city, population=model.population)
        n = row["workers"]
        row.update(days=days, fast_worker_days_per_s=round(n * days / fast_s), reference_worker_days_per_s=round(n * days / ref_s),
                   fast_s=round(fast_s, 3), reference_s=round(ref_s, 2))
        row["ratio_vs_reference"] = round(row["fast_worker_days_per_s"] / row["reference_worker_days_per_s"], 1)
    if "peak_rss_mb" not in row:
        row["peak_rss_mb"] = round(_peak_mb(), 1)
    queue.put(row)


def run_case(case: str, params: dict, cache: str) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(case, params, cache, queue))
    proc.start()
    row = queue.get()
    proc.join()
    return row


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _min_med(values: list[float]) -> dict:
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a 5%% sample, 20 days, reference on 2,000 workers (under two minutes)")
    p.add_argument("--scale", type=float, help="sampling rate of the city (default 1.0; quick 0.05)")
    p.add_argument("--days", type=int, help="workdays simulated per warm case (default 250; quick 20); year_s is scaled to 250")
    p.add_argument("--repeat", type=int, help="warm children (default 3; quick 1): min and median")
    p.add_argument("--kernel-days", type=int, default=20, help="days of the reference kernel per warm case (default 20)")
    p.add_argument("--ref-workers", type=int, help="workers of the reference comparison (default 10,000; quick 2,000)")
    p.add_argument("--ref-days", type=int, help="days of the reference comparison (default 5)")
    p.add_argument("--region", action="store_true", help="also the region line (--region-workers)")
    p.add_argument("--region-workers", type=int, help="workers of the region line (default 4,000,000; quick 3x the sample)")
    p.add_argument("--region-days", type=int, help="days of the region line (default --days)")
    args = p.parse_args(argv)
    q = args.quick
    scale = args.scale or (0.05 if q else 1.0)
    days = args.days or (20 if q else YEAR)
    repeat = args.repeat or (1 if q else 3)
    ref_workers, ref_days = args.ref_workers or (2_000 if q else 10_000), args.ref_days or 5

    from sim.world.build import workers_represented
    sc = _scenario(1.0, days)
    full = workers_represented(sc.city, sc.population)  # the city's OD total (1.38 M)
    print(f"Milan baseline ({SCENARIO}): {full:,.0f} workers represented; sample {scale:g}, {days} days per case; "
          f"load average at start {_load()}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="speed-cache-") as cache:
        cold = run_case("cold", {"scale": scale, "days": days}, cache)
        cold["load"] = _load()
        rows.append(cold)
        print(f"cold   workers {cold['workers']:>9}  setup_cold_s {cold['setup_s']:>8.2f}  peak_rss_mb {cold['peak_rss_mb']:>8.1f}  load {cold['load']}", flush=True)
        warm = []
        for i in range(repeat):
            r = run_case("warm", {"scale": scale, "days": days, "kernel_days": args.kernel_days}, cache)
            r["load"] = _load()
            warm.append(r)
            rows.append(r)
            print(f"warm {i + 1} workers {r['workers']:>9}  setup_warm_s {r['setup_s']:>6.2f}  year_s {r['year_s']:>7.2f}  "
                  f"kernel_year_s {r['kernel_year_s']:>6.2f} ({r['kernel_worker_days_per_s'] / 1e6:.1f} M wd/s)  year_vs_kernel {r['year_vs_kernel']:>5.2f}  "
                  f"peak_rss_mb {r['peak_rss_mb']:>7.1f}  bytes/worker {r['bytes_per_worker']:>6}  load {r['load']}", flush=True)
        ref = run_case("reference", {"scale": ref_workers / full, "days": ref_days}, cache)
        ref["load"] = _load()
        rows.append(ref)
        print(f"reference  workers {ref['workers']:>7}  days {ref['days']}  fast {ref['fast_worker_days_per_s']:>10} wd/s  "
              f"reference {ref['reference_worker_days_per_s']:>7} wd/s  ratio_vs_reference {ref['ratio_vs_reference']:>6}  load {ref['load']}", flush=True)
        region = None
        if args.region:
            rw = args.region_workers or (round(3 * scale * full) if q else 4_000_000)
            with tempfile.TemporaryDirectory(prefix="speed-cache-region-") as rcache:
                region = run_case("region", {"scale": rw / full, "days": args.region_days or days,
                                             "kernel_days": args.kernel_days}, rcache)
            region["load"] = _load()
            region["rate"] = round(rw / full, 4)
            rows.append(region)
    setup_warm = _min_med([r["setup_s"] for r in warm])
    summary = {
        "workers": warm[0]["workers"], "days": days, "repeat": repeat,
        "year_s": _min_med([r["year_s"] for r in warm]),
        "year_vs_kernel": _min_med([r["year_vs_kernel"] for r in warm]),
        "kernel_worker_days_per_s": _min_med([r["kernel_worker_days_per_s"] for r in warm]),
        "setup_cold_s": cold["setup_s"], "setup_warm_s": setup_warm,
        "setup_cold_over_warm": round(cold["setup_s"] / setup_warm["median"], 1),
        "ratio_vs_reference": ref["ratio_vs_reference"], "reference_workers": ref["workers"], "reference_days": ref["days"],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in warm), "bytes_per_worker": max(r["bytes_per_worker"] for r in warm),
    }
    print(f"\nreal city, {summary['workers']} workers, {days} days (min / median of {repeat}):")
    for k in ("year_s", "year_vs_kernel", "kernel_worker_days_per_s", "setup_warm_s"):
        print(f"  {k:<26} {summary[k]['min']:>12} / {summary[k]['median']}")
    for k in ("setup_cold_s", "setup_cold_over_warm", "ratio_vs_reference", "peak_rss_mb", "bytes_per_worker"):
        print(f"  {k:<26} {summary[k]:>12}")
    if region is not None:
        summary["region"] = {k: region[k] for k in ("workers", "rate", "days", "setup_s", "year_s", "year_vs_kernel",
                                                      "peak_rss_mb", "bytes_per_worker", "load")}
        print(f"--region  workers {region['workers']} (rate {region['rate']} of the real city's strata), {region['days']} days: "
              f"setup_cold_s {region['setup_s']}  year_s {region['year_s']}  year_vs_kernel {region['year_vs_kernel']}  "
              f"peak_rss_mb {region['peak_rss_mb']}  bytes/worker {region['bytes_per_worker']}  load {region['load']}")
    print(f"load average at end {_load()}")
    print(json.dumps({"benchmark": "speed", "scenario": SCENARIO, "scale": scale, "summary": summary, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
