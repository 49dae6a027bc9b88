"""Commute: what each worker lives on a workday, given the week's plan and the day's roads and trains.

The weekly plan fixes each worker's mode and departure slot for the week, so each commuter's day is
read from one lookup table by *plan cell*: the car minutes of the worker's (active OD pair, slot)
for car commuters, the crowding multiplier of the (transit network, slot) for transit riders, and 1 for the modes whose
time never changes. One-way time = ``cell * time_factor + time_offset`` (multiplying by 1 and adding
0 are exact, so this equals a formula per mode). The same cells count today's trips: cars per
(OD pair, slot) and transit riders per (network, slot), in one weighted ``bincount``.

A car commuter's delay is the car time over free flow in the morning, and ``traffic.evening_factor``
times it in the evening; a motorbike rider's is ``mode.moto_congestion_share`` of it (at the motorbike's speed); a transit rider's crowding excess is the load above the crowding threshold.
Remote workers live none of it (their entries are zero).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from sim.behaviour.mode_choice import CAR, MOTO, TRANSIT


@dataclass
class Plan:
    """Per-worker arrays fixed for the week (n,): the plan cell, the one-way time's factor and offset,
    whether the worker drives, the free-flow car time, kg CO2 of an office day by transit or moto, and
    the weight of the worker's trip in the day's counts (vehicles for cars, riders for transit)."""

    key: np.ndarray
    time_factor: np.ndarray
    time_offset: np.ndarray
    delay_factor: np.ndarray
    car_t0: np.ndarray
    car_kg_factor: np.ndarray
    fixed_kg: np.ndarray
    trip_weight: np.ndarray
    n_cells: int  # active OD pairs x slots
    n_slots: int
    n_networks: int  # transit networks (sim.scenario.schema.TRANSIT_NETWORKS)

    @property
    def n_transit_cells(self) -> int:
        return self.n_networks * self.n_slots


def empty_plan(n_workers: int, *, n_active_od: int, n_slots: int, n_networks: int) -> Plan:
    """A plan whose arrays are all to be filled by :func:`update_plan`."""
    arrays = {name: np.empty(n_workers, dtype=np.int64 if name == "key" else np.float64)
              for name in ("key", "time_factor", "time_offset", "delay_factor", "car_t0", "car_kg_factor",
                           "fixed_kg", "trip_weight")}
    return Plan(**arrays, n_cells=n_active_od * n_slots, n_slots=n_slots, n_networks=n_networks)


def update_plan(plan: Plan, ids: np.ndarray, *, mode: np.ndarray, slot: np.ndarray, options, paths_t0_min: np.ndarray,
                transit_g_per_pkm: np.ndarray, weight: np.ndarray, moto_g_per_km: float, car_occupancy: float,
                transit_access_min: float) -> None:
    """Fill the plan's rows ``ids`` from the workers' mode and slot (in place).

    Args:
        mode, slot: the whole population's plan (n,).
        options: the :class:`~sim.behaviour.mode_choice.Options`.
        paths_t0_min: free-flow car minutes per active OD pair.
        transit_g_per_pkm, weight: per worker (n,).
    """
    o = options
    _plan_loop(np.asarray(ids, dtype=np.int64), mode, slot, o.od_local, o.transit_network, o.fixed_one_way_t,
               o.moto_delay_factor, o.transit_invehicle_min, o.car_access_min, transit_access_min, paths_t0_min, o.dist_km,
               transit_g_per_pkm, moto_g_per_km, weight, car_occupancy, plan.n_slots, plan.n_cells, plan.n_transit_cells,
               plan.key, plan.time_factor, plan.time_offset, plan.delay_factor, plan.car_t0, plan.car_kg_factor,
               plan.fixed_kg, plan.trip_weight)


@njit(cache=True, nogil=True)
def _plan_loop(ids, mode, slot, od_local, transit_network, fixed_one_way_t, moto_delay_factor, transit_invehicle_min,
               car_access_min, transit_access_min, paths_t0_min, dist_km, transit_g_per_pkm, moto_g_per_km, weight,
               car_occupancy, n_slots, n_cells, n_transit_cells, key, time_factor, time_offset, delay_factor, car_t0,
               car_kg_factor, fixed_kg, trip_weight):
    """:func:`update_plan` worker by worker: each mode's cell, time factor and offset, delay factor, free-flow car
    time, CO2 of the modes whose emissions do not depend on the traffic, and trip weight in the day's counts."""
    for i in ids:
        m = mode[i]
        s = np.int64(slot[i])
        od = np.int64(od_local[i])
        if m == CAR or m == MOTO:  # a motorbike reads its (OD pair, slot)'s car minutes: it suffers a share of the delay
            key[i] = od * n_slots + s
            car_t0[i] = paths_t0_min[od]
        elif m == TRANSIT:
            key[i] = n_cells + np.int64(transit_network[i]) * n_slots + s
            car_t0[i] = 0.0
        else:  # bike, walk: a cell whose value is 1, times the fixed minutes
            key[i] = n_cells + n_transit_cells
            car_t0[i] = 0.0
        fixed_min = fixed_one_way_t[m, i]  # zero for car and transit; a motorbike's time at free flow
        if m == CAR:
            time_factor[i], time_offset[i], delay_factor[i] = 1.0, car_access_min[i], 1.0
        elif m == TRANSIT:
            time_factor[i], time_offset[i], delay_factor[i] = transit_invehicle_min[i], transit_access_min, 0.0
        elif m == MOTO:
            time_factor[i], time_offset[i], delay_factor[i] = moto_delay_factor, fixed_min, moto_delay_factor
        else:
            time_factor[i], time_offset[i], delay_factor[i] = fixed_min, 0.0, 0.0
        car_kg_factor[i] = 1.0 if m == CAR else 0.0
        if m == TRANSIT:
            fixed_kg[i] = 2 * dist_km[i] * transit_g_per_pkm[i] / 1000.0
        elif m == MOTO:
            fixed_kg[i] = 2 * dist_km[i] * moto_g_per_km / 1000.0
        else:
            fixed_kg[i] = 0.0
        trip_weight[i] = weight[i] / car_occupancy if m == CAR else (weight[i] if m == TRANSIT else 0.0)


def trips_today(plan: Plan, remote_ids: np.ndarray, present: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Today's commuter cars by (active OD, slot) (n_active_od, n_slots) and transit riders by (network, slot);
    ``present``: share of workers not on leave today (the calendar's August slowdown) scales every trip."""
    S, cells, T = plan.n_slots, plan.n_cells, plan.n_transit_cells
    trip_w = plan.trip_weight * present
    trip_w[remote_ids] = 0.0
    counts = np.bincount(plan.key, weights=trip_w, minlength=cells + T + 1)
    return counts[:cells].reshape(-1, S), counts[cells:cells + T].reshape(plan.n_networks, S)


@dataclass
class Day:
    """What each worker lived today (n,): round-trip minutes and delay minutes, transit crowding excess, kg CO2 of the commute."""

    round_trip_min: np.ndarray
    round_delay_min: np.ndarray
    crowd_excess: np.ndarray
    commute_kg: np.ndarray


def live_day(plan: Plan, remote_ids: np.ndarray, *, od_min: np.ndarray, crowd: np.ndarray, load: np.ndarray,
             od_car_g: np.ndarray, evening_factor: float, crowding_threshold: float, car_occupancy: float) -> Day:
    """Each worker's day from the day's tables by plan cell.

    Args:
        od_min: car minutes (active OD, slot) today; crowd, load: transit crowding multiplier and load by (network, slot);
        od_car_g: grams of CO2 of one car trip (active OD, slot).
    """
    cells, T = plan.n_cells, plan.n_transit_cells
    # the day's table by plan cell, two values side by side (one memory fetch per worker): car cells hold the one-way
    # car minutes and the kg CO2 of a car's round trip per worker, transit cells the crowding multiplier and the
    # crowding excess, the last cell 1 (times the fixed minutes) and 0
    table = np.zeros((cells + T + 1, 2))
    table[:cells, 0] = od_min.reshape(-1)
    table[:cells, 1] = (2 * od_car_g / car_occupancy / 1000.0).reshape(-1)
    table[cells:cells + T, 0] = crowd.reshape(-1)
    table[cells:cells + T, 1] = np.maximum(0.0, load - crowding_threshold).reshape(-1)
    table[-1, 0] = 1.0
    n = len(plan.key)
    day = Day(round_trip_min=np.empty(n), round_delay_min=np.empty(n), crowd_excess=np.empty(n), commute_kg=np.empty(n))
    _live_loop(plan.key, plan.time_factor, plan.time_offset, plan.delay_factor, plan.car_t0, plan.car_kg_factor,
               plan.fixed_kg, table, cells, evening_factor,
               day.round_trip_min, day.round_delay_min, day.crowd_excess, day.commute_kg)
    for a in (day.round_trip_min, day.round_delay_min, day.crowd_excess, day.commute_kg):
        a[remote_ids] = 0.0
    return day


@njit(cache=True, nogil=True)
def _live_loop(key, time_factor, time_offset, delay_factor, car_t0, car_kg_factor, fixed_kg, table, n_car_cells,
               evening_factor, round_trip_min, round_delay_min, crowd_excess, commute_kg):
    """:func:`live_day` worker by worker in one pass (the module's formulas): into the last four arrays."""
    for i in range(len(key)):
        cell = key[i]
        one_way = table[cell, 0]
        car_cell = cell < n_car_cells
        delay_min = (one_way - car_t0[i]) * delay_factor[i]  # car minutes - free flow, times 1, the moto share or 0
        one_way = one_way * time_factor[i] + time_offset[i]
        round_trip_min[i] = 2 * one_way - delay_min + evening_factor * delay_min
        round_delay_min[i] = (1 + evening_factor) * delay_min
        crowd_excess[i] = 0.0 if car_cell else table[cell, 1]
        # motorbikes read the car cells for their time only (car_kg_factor 0)
        commute_kg[i] = (table[cell, 1] if car_cell else 0.0) * car_kg_factor[i] + fixed_kg[i]
