"""Schedule: the departure slots of the morning, each worker's start of work, and the start-time levers.

The morning is cut into ``mode.n_slots`` departure slots of ``mode.slot_minutes`` from
``mode.first_slot``; the slots whose middle falls between ``traffic.peak_start`` and
``traffic.peak_end`` are the peak (where congestion is measured). A worker's start of work is their
size class's ``mode.work_start``, moved later by ``policy.staggered_hours.shift_minutes`` if their
employer staggers (the public administration when ``public_administration`` is set, and a share
``share_of_firms`` of the other employers, decided by each firm's uniform draw). Flexible hours give
a covered worker (a share ``share_of_workers``, by the worker's uniform draw) a window of
``window_minutes`` around the start without schedule penalty (see :mod:`sim.behaviour.mode_choice`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenario.schema import SIZE_CLASSES, FlexibleHoursPolicy, ModeConfig, StaggeredHoursPolicy, TrafficConfig, parse_clock


@dataclass(frozen=True)
class Slots:
    """The morning's departure slots: count, length (h), middle (minutes after midnight), peak slot indices."""

    n: int
    hours: float
    mid_min: np.ndarray
    peak: np.ndarray


def slots(*, mode_cfg: ModeConfig, traffic_cfg: TrafficConfig) -> Slots:
    """The departure slots and which of them are the peak."""
    first = parse_clock(mode_cfg.first_slot, "mode.first_slot")
    mid = first + mode_cfg.slot_minutes * (np.arange(mode_cfg.n_slots) + 0.5)
    p0, p1 = parse_clock(traffic_cfg.peak_start, ""), parse_clock(traffic_cfg.peak_end, "")
    return Slots(n=mode_cfg.n_slots, hours=mode_cfg.slot_minutes / 60.0, mid_min=mid,
                 peak=np.nonzero((mid >= p0) & (mid < p1))[0])


def work_start_min(*, mode_cfg: ModeConfig, staggered: StaggeredHoursPolicy, worker_class: np.ndarray,
                   worker_firm: np.ndarray, firm_class: np.ndarray, firm_u_stagger: np.ndarray,
                   level: float = 1.0) -> np.ndarray:
    """Start of work per worker (minutes after midnight): the class's start, shifted where the employer staggers.

    At intensity ``level`` (0-1) a share ``level`` of the employers that would shift do (the same draws:
    the shifted set grows as the lever ramps up)."""
    start = np.array([parse_clock(mode_cfg.work_start[k], "") for k in SIZE_CLASSES], dtype=float)
    firm_shift = np.zeros(len(firm_class))
    if staggered.enabled:
        public = SIZE_CLASSES.index("public")
        shifted = np.where(firm_class == public, staggered.public_administration & (firm_u_stagger < level),
                           firm_u_stagger < staggered.share_of_firms * level)
        firm_shift = np.where(shifted, staggered.shift_minutes, 0.0)
    return start[worker_class] + firm_shift[worker_firm]


def flexible_window_min(*, flexible: FlexibleHoursPolicy, u_flex: np.ndarray, level: float = 1.0) -> np.ndarray:
    """Half-width (minutes) of each worker's penalty-free arrival window; 0 without flexible hours.
    At intensity ``level`` the covered share is ``share_of_workers * level``."""
    return np.where(flexible.enabled & (u_flex < flexible.share_of_workers * level), float(flexible.window_minutes), 0.0)


def preferred_slot(*, slot_mid_min: np.ndarray, free_flow_min: np.ndarray, work_start_min: np.ndarray) -> np.ndarray:
    """The slot whose free-flow arrival is closest to each worker's start of work (int8)."""
    arrival = slot_mid_min[None, :] + free_flow_min[:, None]
    return np.argmin(np.abs(arrival - work_start_min[:, None]), axis=1).astype(np.int8)


def clock(minutes: float) -> str:
    """``HH:MM`` of minutes after midnight."""
    minutes = int(round(minutes))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
