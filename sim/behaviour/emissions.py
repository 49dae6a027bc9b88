"""Emissions: speed-dependent car CO2, transit and moto factors, home energy on remote days.

Car CO2 per vehicle-km follows a COPERT-like curve ``k*(a + b/v + c*v^2)`` (highest in stop-and-go,
lowest at 50-80 km/h), scaled by ``k`` so that it equals the urban factor (235.6 g/km) at the urban
reference speed. A remote day adds the workstation's electricity all year and, per household, the
rest of the home's extra electricity and the heating gas of the heating season (climate zone E: 15
October - 15 April) only in a home that would otherwise be empty, the heating only with autonomous
heating (a centralised boiler runs to the building's schedule); plus some extra non-work car travel.

Each worker carries the *expected* household: the probability that the home would otherwise be empty
(living alone, or nobody else at home that day) and that its heating is autonomous, by home place
(Comune di Milano or outside), from :func:`household_shares`. Expected factors rather than drawn
attributes: the KPIs are weighted totals of a sample, so the expectation is exact, adds no sampling
noise and moves no keyed draw of the other sub-models.

Transit CO2 of a commute is marginal by default (``transit_accounting: marginal``: what one rider
more or less changes, ~0 g/pkm while the service is within capacity), or the fleet's average per
passenger-km (``average``), :func:`transit_g_per_pkm`.
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


POLLUTANTS = ("nox", "pm25_exhaust", "pm25_wear")  # the air-quality series, grams per vehicle-km below


def _scaled_curve(speed_kmh, curve, urban_g_per_km: float, reference_kmh: float):
    """``k*(a + b/v + c*v^2)`` with ``k`` making it ``urban_g_per_km`` at ``reference_kmh`` (speed floored at 1 km/h)."""
    a, b, c = curve
    k = urban_g_per_km / (a + b / reference_kmh + c * reference_kmh * reference_kmh)
    v = np.maximum(speed_kmh, 1.0)
    return k * (a + b / v + c * v * v)


def tyre_speed_factor(speed_kmh):
    """EMEP/EEA 1.A.3.b.vi speed correction of tyre wear: 1.39 below 40 km/h, linear to 0.902 at 90, flat above."""
    v = np.asarray(speed_kmh, dtype=np.float64)
    return np.where(v < 40.0, 1.39, np.where(v <= 90.0, -0.00974 * v + 1.78, 0.902))


def brake_speed_factor(speed_kmh):
    """EMEP/EEA 1.A.3.b.vi speed correction of brake wear: 1.67 below 40 km/h, linear to 0.185 at 95, flat above."""
    v = np.asarray(speed_kmh, dtype=np.float64)
    return np.where(v < 40.0, 1.67, np.where(v <= 95.0, -0.0270 * v + 2.75, 0.185))


def car_pollutant_g_per_km(speed_kmh, cfg: EmissionsConfig) -> dict[str, np.ndarray]:
    """Cars' grams per vehicle-km at ``speed_kmh`` of each of :data:`POLLUTANTS` (NOx and PM2.5 exhaust on
    their COPERT-like curves, PM2.5 of tyre and brake wear with the EMEP/EEA speed corrections)."""
    v = np.asarray(speed_kmh, dtype=np.float64)
    vr = cfg.urban_reference_speed_kmh
    return {"nox": _scaled_curve(v, cfg.nox_speed_curve, cfg.nox_urban_g_per_km, vr),
            "pm25_exhaust": _scaled_curve(v, cfg.pm25_exhaust_speed_curve, cfg.pm25_exhaust_urban_g_per_km, vr),
            "pm25_wear": cfg.tyre_pm25_g_per_km * tyre_speed_factor(v) + cfg.brake_pm25_g_per_km * brake_speed_factor(v)}


def moto_pollutant_g_per_km(cfg: EmissionsConfig) -> dict[str, float]:
    """Motorbikes' flat grams per km of each of :data:`POLLUTANTS`."""
    return {"nox": cfg.moto_nox_g_per_km, "pm25_exhaust": cfg.moto_pm25_exhaust_g_per_km,
            "pm25_wear": cfg.moto_pm25_wear_g_per_km}


@dataclass
class AirToday:
    """Grams of one car, by pollutant: along each link in each slot (link, slot) at the link's speed of the
    slot, and along each active OD pair's path (active OD, slot; inside a zone at the local speed)."""

    link_g: dict[str, np.ndarray]
    od_g: dict[str, np.ndarray]


def od_car_grams(*, P, link_km: np.ndarray, link_min: np.ndarray, intra_rows: np.ndarray, intra_km: np.ndarray,
                 intra_speed_kmh: float, cfg: EmissionsConfig) -> tuple[np.ndarray, AirToday]:
    """Grams of one car trip per active OD pair and slot at each link's speed of the slot: CO2 (active OD, slot),
    and the :class:`AirToday` of :data:`POLLUTANTS`.

    ``P``: (active OD, link) path incidence; trips inside a zone (``intra_rows``, ``intra_km`` long) run at the
    local free-flow speed. The four link tables go through the paths side by side, in one product.
    """
    speed = link_km[:, None] / (link_min / 60.0)
    intra_speed = np.array(intra_speed_kmh)
    per_km = {"co2": car_g_per_km(speed, cfg), **car_pollutant_g_per_km(speed, cfg)}
    intra = {"co2": car_g_per_km(intra_speed, cfg), **car_pollutant_g_per_km(intra_speed, cfg)}
    link_g = {k: link_km[:, None] * v for k, v in per_km.items()}
    n_slots = link_min.shape[1]
    along_paths = P @ np.hstack(list(link_g.values()))
    od_g = {}
    for j, k in enumerate(link_g):
        g = along_paths[:, j * n_slots:(j + 1) * n_slots]
        g[intra_rows] = (intra_km * intra[k])[:, None]
        od_g[k] = g
    co2 = od_g.pop("co2")
    return co2, AirToday(link_g={p: link_g[p] for p in POLLUTANTS}, od_g=od_g)


def in_heating_season(date: dt.date, cfg: EmissionsConfig) -> bool:
    """True between heating_start and heating_end (the season spans the new year)."""
    md = (date.month, date.day)
    start = tuple(int(p) for p in cfg.heating_start.split("-"))
    end = tuple(int(p) for p in cfg.heating_end.split("-"))
    return md >= start or md <= end if start > end else start <= md <= end


def transit_g_per_pkm(*, from_gateway: np.ndarray, cfg: EmissionsConfig) -> np.ndarray:
    """Transit CO2 (g per passenger-km) of each worker's commute under ``cfg.transit_accounting``: the
    marginal factor for everyone, or the average of the regional rail (commuters from a gateway, outside
    the metropolitan city) or of the urban mix."""
    if cfg.transit_accounting == "marginal":
        return np.full(len(from_gateway), cfg.transit_marginal_g_per_pkm)
    return np.where(from_gateway, cfg.regional_rail_g_per_pkm, cfg.transit_g_per_pkm)


@dataclass
class Household:
    """Each worker's expected household (n,): ``empty``, the probability that the home would otherwise be
    empty on a workday; ``autonomous``, that its heating is autonomous."""

    empty: np.ndarray
    autonomous: np.ndarray


def household_shares(*, in_milan: np.ndarray, cfg: EmissionsConfig) -> Household:
    """The expected household of workers living in the Comune di Milano (``in_milan``) or outside it:
    empty = alone + (1 - alone) x (1 - other_adult_home_share)."""
    alone = np.where(in_milan, cfg.one_person_share_milan, cfg.one_person_share_outside)
    empty = alone + (1.0 - alone) * (1.0 - cfg.other_adult_home_share)
    autonomous = 1.0 - np.where(in_milan, cfg.centralised_share_milan, cfg.centralised_share_outside)
    return Household(empty=empty, autonomous=autonomous)


def home_kg_per_remote_day(heating: bool, cfg: EmissionsConfig, *, empty=1.0, autonomous=1.0):
    """Extra home CO2 (kg) of one remote day: the workstation's electricity, plus, with probability
    ``empty`` (the home would otherwise be empty), the household's other extra electricity and in the
    heating season its extra heating: all of ``home_heating_kwh`` with autonomous heating (probability
    ``autonomous``), ``centralised_heating_factor`` of it with centralised heating. ``empty`` and
    ``autonomous`` may be arrays (one value per worker); the defaults are a worker alone at home with
    autonomous heating."""
    household = cfg.home_electricity_kwh * cfg.grid_kg_per_kwh
    if heating:
        share = autonomous + (1.0 - autonomous) * cfg.centralised_heating_factor
        household = household + cfg.home_heating_kwh * cfg.gas_kg_per_kwh * share
    return cfg.workstation_kwh * cfg.grid_kg_per_kwh + empty * household


def extra_trip_kg_per_remote_day(cfg: EmissionsConfig) -> float:
    """CO2 (kg) of the extra non-work car travel of one remote day, at the urban factor."""
    return cfg.extra_trip_km_per_remote_day * cfg.car_urban_g_per_km / 1000.0


@dataclass
class RemoteDay:
    """CO2 of today's remote days, per remote worker: ``home_kg`` (home energy of the expected household),
    ``extra_kg`` (extra non-work trips by car, for those with a car); ``extra_trip_kg`` per car owner,
    ``heating`` (today in the season)."""

    heating: bool
    home_kg: np.ndarray
    extra_trip_kg: float
    extra_kg: np.ndarray


def remote_day_kg(*, date: dt.date, car_available: np.ndarray, empty: np.ndarray, autonomous: np.ndarray,
                  cfg: EmissionsConfig) -> RemoteDay:
    """Extra CO2 of a remote day on ``date`` for remote workers (each argument per remote worker: with
    or without a car, their :class:`Household`'s ``empty`` and ``autonomous``)."""
    heating = in_heating_season(date, cfg)
    extra = extra_trip_kg_per_remote_day(cfg)
    home = np.broadcast_to(home_kg_per_remote_day(heating, cfg, empty=empty, autonomous=autonomous), np.shape(empty))
    return RemoteDay(heating=heating, home_kg=np.asarray(home, dtype=np.float64), extra_trip_kg=extra,
                     extra_kg=np.where(car_available, extra, 0.0))


def heating_fraction(cfg: EmissionsConfig, dates: list[dt.date]) -> float:
    """Share of the workdays ``dates`` (the calendar's, :mod:`sim.world.calendar`) in the heating season."""
    return sum(in_heating_season(d, cfg) for d in dates) / len(dates)


def break_even_km(*, home_kg: float, cfg: EmissionsConfig, car_occupancy: float = 1.0) -> float:
    """One-way car commute (km, urban factor) above which a remote day saves CO2, for a car commuter
    whose remote day costs ``home_kg`` at home and who shares the car with ``car_occupancy`` people.

    Saving of a remote day = 2 * d * car factor / occupancy - home energy - extra trips; zero at the
    break-even d. The transit accounting does not enter: a car commuter's remote day saves car CO2.
    """
    return (home_kg + extra_trip_kg_per_remote_day(cfg)) / (2.0 * cfg.car_urban_g_per_km / 1000.0 / car_occupancy)


def remote_day_net_kg(*, one_way_km: float, mode: str, heating: bool, cfg: EmissionsConfig, car_occupancy: float = 1.0,
                      empty=1.0, autonomous=1.0, gateway: bool = False, has_car: bool = True) -> float:
    """CO2 (kg) a remote day adds, net, for one worker commuting ``one_way_km`` by ``mode`` ('car' at the
    urban factor shared by ``car_occupancy``, 'transit' under ``cfg.transit_accounting``): home energy
    plus extra car trips (if ``has_car``) less the commute's CO2. Negative: the remote day saves CO2."""
    if mode == "car":
        commute = 2 * one_way_km * cfg.car_urban_g_per_km / car_occupancy / 1000.0
    elif mode == "transit":
        commute = 2 * one_way_km * float(transit_g_per_pkm(from_gateway=np.array([gateway]), cfg=cfg)[0]) / 1000.0
    else:
        raise ValueError(f"mode must be 'car' or 'transit', got {mode!r}")
    extra = extra_trip_kg_per_remote_day(cfg) if has_car else 0.0
    return float(home_kg_per_remote_day(heating, cfg, empty=empty, autonomous=autonomous)) + extra - commute
