"""Tracing one worker through every step (``--trace-worker ID``), the way ActivitySim traces a household.

The model calls :meth:`WorkerTrace.record` once a day with what the sub-models produced; the rows
(one per day: the week's plan, today's mode and departure, times, delay, CO2, strain, stress, quit)
go to ``trace_worker_<ID>.csv`` in the results folder.
"""

from __future__ import annotations

import numpy as np

from sim.behaviour.schedule import clock
from sim.scenario.schema import MODES, WEEKDAYS


class WorkerTrace:
    """Day-by-day rows of one worker of ``model``."""

    def __init__(self, model, worker_id: int):
        self.model = model
        self.worker_id = int(worker_id)
        self.rows: list[dict] = []

    def record(self, *, day: int, remote: np.ndarray, lived, home, strain: np.ndarray, quit_ids: np.ndarray) -> None:
        """Add today's row (``lived``: the :class:`~sim.behaviour.commute.Day`; ``home``: the remote day's CO2)."""
        m, i = self.model, self.worker_id
        office = not remote[i]
        # today's remote workers are the remote ids in order: this worker's row among them
        row = int(np.count_nonzero(remote[:i]))
        home_kg = float(home.home_kg[row]) + home.extra_trip_kg * m.population.car_available[i] if remote[i] else 0.0
        slot_min = m.scenario.mode.slot_minutes
        self.rows.append({
            "day": day, "date": m.date(day).isoformat(), "weekday": WEEKDAYS[m.calendar.weekday(day)],
            "remote_days_this_week": int(m.remote_days[i]), "remote_today": bool(remote[i]),
            "mode": MODES[m.mode[i]] if office else "",
            "departure": clock(m.slots.mid_min[m.slot[i]] - slot_min / 2) if office else "",
            "travel_min_round_trip": float(lived.round_trip_min[i]), "delay_min_round_trip": float(lived.round_delay_min[i]),
            "co2_commute_kg": float(lived.commute_kg[i]), "co2_home_kg": float(home_kg),
            "strain": float(strain[i]), "stress": float(m.stress[i]), "quit": bool(np.any(quit_ids == i)),
        })
