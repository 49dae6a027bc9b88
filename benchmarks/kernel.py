"""A fixed reference kernel: the machine's speed at a plain numpy commuting day (no project code).

One day of a simple commuting model over N workers: a logit remote/office choice, car trips counted
by (corridor, departure slot) bucket, BPR delay per bucket, each commuter's travel time, CO2 and a
stress update. It never changes, so its worker-days per second measure the machine (and its load)
in the same run as the model: ``benchmarks/speed.py`` divides the model's times by this kernel's
time for the same worker-days (``year_vs_kernel``).

    python benchmarks/kernel.py                     # 1.38M workers, 20 days
    python benchmarks/kernel.py --workers 100000 --days 50
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # one core, as speed.py
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

CORRIDORS, SLOTS = 400, 12  # buckets: corridor x departure slot


def kernel_seconds(workers: int, days: int, seed: int = 0) -> float:
    """Seconds to run ``days`` days of the kernel over ``workers`` workers (set-up not timed)."""
    rng = np.random.default_rng(seed)
    corridor = rng.integers(0, CORRIDORS, workers)
    slot = rng.integers(0, SLOTS, workers)
    bucket = corridor * SLOTS + slot
    free_min = rng.uniform(10.0, 60.0, workers)
    km = free_min * 0.5
    car = rng.random(workers) < 0.4
    asc = rng.normal(0.0, 1.0, workers)  # taste for the office
    capacity = np.full(CORRIDORS * SLOTS, workers / (CORRIDORS * SLOTS) * 0.3)
    stress = np.full(workers, 30.0)
    delay_b = np.zeros(CORRIDORS * SLOTS)
    t0 = time.perf_counter()
    for _ in range(days):
        u = rng.random(workers)
        travel_prev = free_min + delay_b[bucket]
        util = asc - 0.03 * travel_prev - 0.02 * stress  # office vs remote
        office = u < 1.0 / (1.0 + np.exp(-util))
        driving = office & car
        flow = np.bincount(bucket, weights=driving, minlength=CORRIDORS * SLOTS)
        delay_b = 20.0 * 0.15 * (flow / capacity) ** 4  # BPR on a 20-minute bucket
        travel = np.where(office, free_min + delay_b[bucket] * car, 0.0)
        co2_kg = np.where(driving, km * 0.17, 0.0) + np.where(office & ~car, km * 0.03, 0.0)
        stress = 0.9 * stress + 0.1 * (20.0 + 0.5 * travel)
        _totals = (co2_kg.sum(), travel.sum(), office.sum())  # noqa: F841 -- the day's record
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", type=int, default=1_380_000)
    p.add_argument("--days", type=int, default=20)
    args = p.parse_args(argv)
    s = kernel_seconds(args.workers, args.days)
    wd_s = args.workers * args.days / s
    print(f"kernel: {args.workers} workers x {args.days} days in {s:.3f} s = {wd_s / 1e6:.2f} M worker-days/s")
    print(json.dumps({"benchmark": "kernel", "workers": args.workers, "days": args.days, "seconds": round(s, 4),
                      "worker_days_per_s": round(wd_s)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
