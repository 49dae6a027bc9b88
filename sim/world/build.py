"""The city a scenario asks for: the synthetic grid, a CSV city, or the real Città metropolitana di Milano.

One entry point for the model and the reference model, so that :mod:`sim.world.city` (the City type
and the grid/CSV builders) and :mod:`sim.world.milan` (which builds on them) do not import each other.
"""

from __future__ import annotations

from functools import lru_cache

from sim.scenario.schema import CityConfig, PopulationConfig
from sim.world.city import City, load_csv_city, build_synthetic_city
from sim.world.milan import build_milan_city


def build_city(cfg: CityConfig) -> City:
    """The city of ``cfg.source`` (synthetic, csv or milan)."""
    if cfg.source == "milan":
        return build_milan_city(cfg)
    return load_csv_city(cfg) if cfg.source == "csv" else build_synthetic_city(cfg)


@lru_cache(maxsize=8)
def _city_workers(city_json: str) -> float | None:
    return build_city(CityConfig.model_validate_json(city_json)).workers_total


def workers_represented(cfg: CityConfig, population: PopulationConfig) -> float:
    """Full-population workers a scenario represents (what a sample's weights add up to): the real
    city's OD total, else the population section's internal + inbound workers. Cached per city section."""
    total = _city_workers(cfg.model_dump_json())
    return total if total is not None else float(population.workers_internal + population.workers_inbound)
