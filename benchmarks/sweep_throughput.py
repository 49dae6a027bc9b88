"""Sweep throughput: runs per hour on a local pool and on a Dask LocalCluster, 1 and 2 workers.

A small sweep on the real Milan (``scenarios/milan_baseline.yaml``): ``--runs`` points of one lever
(``policy.area_c_charge_eur``, evenly spaced 0..15 EUR), one seed, no counterfactual, a ``--scale``
sample for a short horizon of ``--days`` workdays, run through :func:`sim.sweep.executors.run_sweep`
exactly as ``run.py sweep`` runs it (each run in a worker process, rows streamed to the store). The
levers do not change the calibration inputs, so every point reads the one cached calibration, which
is made first (``calibration_s``: one cold run of the same scenario) in a cache folder of its own.

For each executor and worker count: the session's wall time (pool or cluster start included), runs
per hour at the measured horizon, and the speed-up 1 -> 2 workers. The Dask cluster is a
``LocalCluster`` on 127.0.0.1 (one thread per worker process), closed at the end of its session.

Projected to a year: one warm run of ``--days`` is timed in this process, its set-up ``a`` and its
seconds per day ``b`` apart, and each measured rate is multiplied by
``(a + b*days) / (a + b*250)``: the parallel efficiency measured, the per-run cost projected. The
projection assumes a run's cost is linear in its days (the weekly plan and the monthly adoption
repeat). The figures of a shared machine move with its load: the load average is printed with each.

    python benchmarks/sweep_throughput.py                 # 10% sample, 10 days, 8 runs per session
    python benchmarks/sweep_throughput.py --quick         # 1% sample, 5 days, 4 runs
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # one core per worker
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
YEAR = 250


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _sweep_file(folder: Path, *, scale: float, days: int, runs: int) -> Path:
    levels = [round(15.0 * i / max(1, runs - 1), 3) for i in range(runs)]
    text = (f"name: throughput\nbase: {ROOT / 'scenarios' / 'milan_baseline.yaml'}\n"
            f"days: {days}\nscale: {scale}\nseeds: 1\ncounterfactual: false\n"
            f"parameters:\n  - path: policy.area_c_charge_eur\n    levels: {levels}\n"
            f"design:\n  type: grid\noutputs: [car_vkm, co2_net_t]\n")
    path = folder / "throughput.yaml"
    path.write_text(text)
    return path


def _one_run_s(scale: float, days: int) -> tuple[float, float]:
    """Seconds of one run's set-up (``build_model``; warm once the cache is filled) and of its ``days`` days, in this process."""
    from sim.prepare import build_model
    from sim.scenario.load import load_scenario
    sc = load_scenario(ROOT / "scenarios" / "milan_baseline.yaml", [], scale=scale, days=days)
    t0 = time.perf_counter()
    model = build_model(sc)
    t1 = time.perf_counter()
    model.run(days)
    return t1 - t0, time.perf_counter() - t1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="1%% sample, 5 days, 4 runs per session")
    p.add_argument("--scale", type=float, help="sample of the real city (default 0.1; quick 0.01)")
    p.add_argument("--days", type=int, help="workdays per run (default 10; quick 5)")
    p.add_argument("--runs", type=int, help="runs per session (default 8; quick 4)")
    p.add_argument("--workers", default="1,2", help="worker counts (default 1,2)")
    p.add_argument("--executors", default="local,dask", help="executors (default local,dask)")
    args = p.parse_args(argv)
    scale = args.scale or (0.01 if args.quick else 0.1)
    days = args.days or (5 if args.quick else 10)
    runs = args.runs or (4 if args.quick else 8)
    workers = [int(w) for w in args.workers.split(",")]

    from sim.sweep.executors import run_sweep
    from sim.sweep.spec import load_sweep

    rows = []
    with tempfile.TemporaryDirectory(prefix="sweep-throughput-") as tmp:
        tmp = Path(tmp)
        os.environ["SMARTCOMMUTE_CACHE"] = str(tmp / "cache")  # the workers inherit it
        os.environ.pop("SMARTCOMMUTE_NO_CACHE", None)
        t0 = time.perf_counter()
        _one_run_s(scale, days)  # fills the cache: the calibration every point reads
        cal_cold_s = time.perf_counter() - t0
        fixed, run_s = _one_run_s(scale, days)  # warm
        per_day = run_s / days
        year_factor = (fixed + per_day * days) / (fixed + per_day * YEAR)
        print(f"Milan baseline, sample {scale:g}, {runs} runs of {days} days per session (area_c_charge_eur 0..15, one seed, "
              f"no counterfactual); calibration made once in {cal_cold_s:.1f} s; one warm run: {fixed:.2f} s set-up + "
              f"{per_day:.3f} s/day (so a year's run ~{fixed + per_day * YEAR:.1f} s); load {_load()}", flush=True)
        sweep = load_sweep(_sweep_file(tmp, scale=scale, days=days, runs=runs))
        for ex in args.executors.split(","):
            for k in workers:
                rep = run_sweep(sweep, tmp / f"store-{ex}-{k}", executor=ex, workers=k, progress=False)
                assert rep.ok == runs and rep.failed == 0, (ex, k, rep.errors[:2])
                rph = runs / rep.wall_s * 3600
                row = {"executor": ex, "workers": k, "runs": runs, "wall_s": round(rep.wall_s, 2),
                       "runs_per_hour": round(rph), "runs_per_hour_year_projected": round(rph * year_factor),
                       "load": _load()}
                rows.append(row)
                print(f"{ex:>6} {k} worker(s): {runs} runs in {rep.wall_s:7.2f} s = {rph:8.0f} runs/h at {days} days "
                      f"(projected to a {YEAR}-day year: {rph * year_factor:6.0f} runs/h)  load {row['load']}", flush=True)
    speedup = {}
    for ex in args.executors.split(","):
        r = {row["workers"]: row for row in rows if row["executor"] == ex}
        if 1 in r and 2 in r:
            speedup[ex] = round(r[1]["wall_s"] / r[2]["wall_s"], 2)
            print(f"{ex:>6} speed-up 1 -> 2 workers: {speedup[ex]}x")
    best2 = max((row["runs_per_hour_year_projected"] for row in rows if row["workers"] == 2), default=None)
    if best2:
        print(f"1,000 one-year runs of this sample on 2 workers (projected): {1000 / best2:.2f} h")
    print(json.dumps({"benchmark": "sweep_throughput", "scale": scale, "days": days, "runs": runs,
                      "calibration_s": round(cal_cold_s, 2), "run_fixed_s": round(fixed, 3), "run_per_day_s": round(per_day, 4),
                      "year_factor": round(year_factor, 4), "rows": rows, "speedup_1_to_2": speedup}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
