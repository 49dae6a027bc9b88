"""Peak memory of building a model by grid size and worker count (the schema's upper bounds come from it).

    python benchmarks/memory_by_size.py            # grid 15 and 31 with 20,000 workers; 400,000 workers on grid 15

Each case runs in its own process (peak RSS is per process) and builds the city, the population and
the calibration of a 1-day scenario.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = """
import resource, sys, time
sys.path.insert(0, {root!r})
from sim.prepare import build_model
from sim.scenario.load import load_scenario
t0 = time.perf_counter()
sc = load_scenario({root!r} + "/scenarios/milan_baseline.yaml", ["city.grid_size={grid}",
                   "population.workers_internal={workers}", "population.workers_inbound=0"], days=1)
build_model(sc)
print(f"grid {grid:3d}  workers {workers:9,d}  build {{time.perf_counter() - t0:6.1f}} s  "
      f"peak RSS {{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f}} MB")
"""

if __name__ == "__main__":
    for grid, workers in [(15, 20_000), (31, 20_000), (15, 400_000)]:
        subprocess.run([sys.executable, "-c", CASE.format(root=str(ROOT), grid=grid, workers=workers)], check=True)
