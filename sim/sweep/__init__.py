"""Parameter sweeps: sweep files (:mod:`.spec`), the store (:mod:`.store`), executors (local pool, Dask,
SLURM shards; :mod:`.executors`) and the analysis (Sobol indices, response plots; :mod:`.analyze`)."""

from sim.sweep.spec import Sweep, load_sweep
from sim.sweep.store import Store, comparable

__all__ = ["Sweep", "load_sweep", "Store", "comparable"]
