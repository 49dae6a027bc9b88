"""Random numbers keyed by (seed, day, stream).

A worker's draw for a given day and decision is element ``i`` of the array drawn for that
(seed, day, stream): it does not depend on how many numbers were drawn before, on the order of
the sub-models, or on the implementation (the fast model and the per-agent reference read the same
arrays). Two runs with the same seed share their draws (common random numbers), so a policy's
difference from its baseline is the policy's effect, not noise.
"""

from __future__ import annotations

import numpy as np

# One id per decision that consumes random numbers. Append new streams at the end: ids are part
# of the results' reproducibility.
STREAMS = {
    "firm_size": 1, "firm_zone": 2, "firm_sector": 3, "worker_firm": 4, "worker_home": 5,
    "worker_gender": 6, "worker_caregiver": 7, "worker_car": 8, "worker_telework": 9,
    "worker_base_stress": 10, "firm_adopt_init": 11, "firm_stagger": 12, "worker_flex": 13,
    "worker_welfare": 14, "adoption": 20, "remote_pref": 21, "remote_weekday": 22,
    "mode": 23, "slot": 24, "quit": 25, "route_noise": 26, "review": 27,
    "worker_dependant": 28, "quit_reason": 29, "hire_gender": 30, "hire_child": 31, "hire_dependant": 32,
    "hire_base_stress": 33,
    "sme_enrol": 40,  # the order in which firms join a capped SME programme (40: clear of other branches' new ids)
    "firm_transit_pass": 41,  # whether an employer pays its workers' transit season ticket
}
SETUP_DAY = -1  # the 'day' key of draws made while building the population


class KeyedRNG:
    """Arrays of random numbers keyed by (seed, day, stream).

    Args:
        seed: the scenario seed (0 <= seed < 2**32).
    """

    def __init__(self, seed: int):
        self.seed = int(seed)

    def generator(self, day: int, stream: str) -> np.random.Generator:
        """A fresh Philox generator for (seed, day, stream)."""
        key = (self.seed << 64) | ((day + 2) << 16) | STREAMS[stream]
        return np.random.Generator(np.random.Philox(key=key))

    def uniform(self, day: int, stream: str, size) -> np.ndarray:
        """Uniform [0, 1) float64 array of ``size`` for (day, stream)."""
        return self.generator(day, stream).random(size)

    def normal(self, day: int, stream: str, size) -> np.ndarray:
        """Standard normal float64 array of ``size`` for (day, stream)."""
        return self.generator(day, stream).standard_normal(size)

    def gumbel(self, day: int, stream: str, size, rows: np.ndarray | None = None) -> np.ndarray:
        """Standard Gumbel float64 array, -log(-log(u)), for (day, stream); only ``rows`` if given."""
        u = self.uniform(day, stream, size)
        if rows is not None:
            u = np.take(u, rows, axis=0)
        np.clip(u, 1e-300, None, out=u)  # in place: -log(-log(u))
        np.log(u, out=u)
        np.negative(u, out=u)
        np.log(u, out=u)
        return np.negative(u, out=u)
