"""Emissions: speed-dependent car CO2, transit and moto factors, home energy on remote days.

Car CO2 per vehicle-km follows a COPERT-like curve ``k*(a + b/v + c*v^2)`` (highest in stop-and-go,
lowest at 50-80 km/h), scaled by ``k`` so that it equals the urban factor (235.6 g/km) at the urban
reference speed. A remote day adds household electricity all year and heating gas in the heating
season (climate zone E: 15 October - 15 April), plus some extra non-work car travel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sim.scenario.schema import EmissionsConfig


def car_curve_scale(cfg: EmissionsConfig) -> float:
    """Multiplier ``k`` making the curve equal ``car_urban_g_per_km`` at the urban reference speed."""
    a, b, c = cfg.speed_curve
    v = cfg.urban_reference_speed_kmh
    return cfg.car_urban_g_per_km / (a + b / v + c * v * v)


def car_g_per_km(speed_kmh: np.ndarray, cfg: EmissionsConfig) -> np.ndarray:
    """Car CO2 (g per vehicle-km) at ``speed_kmh``."""
    a, b, c = cfg.speed_curve
    v = np.maximum(speed_kmh, 1.0)
    return car_curve_scale(cfg) * (a + b / v + c * v * v)


def od_car_g(*, P, link_km: np.ndarray, link_min: np.ndarray, intra_rows: np.ndarray, intra_km: np.ndarray,
             intra_speed_kmh: float, cfg: EmissionsConfig) -> np.ndarray:
    """Grams of CO2 of one car trip per active OD pair and slot, at each link's speed of the slot.

    ``P``: (active OD, link) path incidence; trips inside a zone (``intra_rows``, ``intra_km`` long)
    run at the local free-flow speed.
    """
    speed = link_km[:, None] / (link_min / 60.0)
    link_g = link_km[:, None] * car_g_per_km(speed, cfg)
    od_g = P @ link_g
    od_g[intra_rows] = (intra_km * car_g_per_km(np.array(intra_speed_kmh), cfg))[:, None]
    return od_g


def in_heating_season(date: dt.date, cfg: EmissionsConfig) -> bool:
    """True between heating_start and heating_end (the season spans the new year)."""
    md = (date.month, date.day)
    start = tuple(int(p) for p in cfg.heating_start.split("-"))
    end = tuple(int(p) for p in cfg.heating_end.split("-"))
    return md >= start or md <= end if start > end else start <= md <= end


def home_kg_per_remote_day(heating: bool, cfg: EmissionsConfig) -> float:
    """Extra household CO2 (kg) of one remote day."""
    kg = cfg.home_electricity_kwh * cfg.grid_kg_per_kwh
    if heating:
        kg += cfg.home_heating_kwh * cfg.gas_kg_per_kwh
    return kg


def extra_trip_kg_per_remote_day(cfg: EmissionsConfig) -> float:
    """CO2 (kg) of the extra non-work car travel of one remote day, at the urban factor."""
    return cfg.extra_trip_km_per_remote_day * cfg.car_urban_g_per_km / 1000.0


@dataclass
class RemoteDay:
    """CO2 of today's remote days: ``home_kg`` per remote worker (home energy), ``extra_kg`` per remote
    worker of ``car_available`` (extra non-work trips by car), ``extra_trip_kg`` per car owner, ``heating`` (today in the season)."""

    heating: bool
    home_kg: float
    extra_trip_kg: float
    extra_kg: np.ndarray


def remote_day_kg(*, date: dt.date, car_available: np.ndarray, cfg: EmissionsConfig) -> RemoteDay:
    """Extra CO2 of a remote day on ``date`` for remote workers with or without a car (``car_available`` per remote worker)."""
    heating = in_heating_season(date, cfg)
    extra = extra_trip_kg_per_remote_day(cfg)
    return RemoteDay(heating=heating, home_kg=home_kg_per_remote_day(heating, cfg), extra_trip_kg=extra,
                     extra_kg=np.where(car_available, extra, 0.0))


def heating_fraction(cfg: EmissionsConfig, dates: list[dt.date]) -> float:
    """Share of the workdays ``dates`` (the calendar's, :mod:`sim.world.calendar`) in the heating season."""
    return sum(in_heating_season(d, cfg) for d in dates) / len(dates)


def break_even_km(cfg: EmissionsConfig, heating_share: float) -> float:
    """One-way car commute (km, urban factor) above which a remote day saves CO2 on average.

    Saving of a remote day = 2 * d * car factor - home energy - extra trips; zero at the break-even d.
    """
    home = (1 - heating_share) * home_kg_per_remote_day(False, cfg) + heating_share * home_kg_per_remote_day(True, cfg)
    return (home + extra_trip_kg_per_remote_day(cfg)) / (2.0 * cfg.car_urban_g_per_km / 1000.0)
