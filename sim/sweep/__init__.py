"""Parameter sweeps: sweep files (:mod:`.spec`), the store (:mod:`.store`), executors (local pool, Dask,
SLURM shards; :mod:`.executors`) and the analysis (Sobol indices, response plots; :mod:`.analyze`)."""

from .spec import Sweep, load_sweep
from .store import Store, comparable

__all__ = ["Sweep", "load_sweep", "Store", "comparable"]
