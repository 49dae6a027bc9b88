"""The city a scenario asks for: the synthetic grid, a CSV city, or the real Città metropolitana di Milano.

One entry point for the model and the reference model, so that :mod:`sim.world.city` (the City type
and the grid/CSV builders) and :mod:`sim.world.milan` (which builds on them) do not import each other.
"""

from __future__ import annotations

from sim.scenario.schema import CityConfig
from sim.world.city import City, load_csv_city, build_synthetic_city
from sim.world.milan import build_milan_city


def build_city(cfg: CityConfig) -> City:
    """The city of ``cfg.source`` (synthetic, csv or milan)."""
    if cfg.source == "milan":
        return build_milan_city(cfg)
    return load_csv_city(cfg) if cfg.source == "csv" else build_synthetic_city(cfg)
