"""Mode (car, transit, bike, walk, moto) and departure slot: multinomial logit.

Mode utility: ``asc[segment, mode] + beta_time*minutes + beta_cost*euros``; walk and bike are
unavailable beyond their longest distance, car without a car. The slot is then chosen given the
mode: ``slot_scale*(beta_time*T_s + beta_early*early_min + beta_late*late_min)`` (Small 1982
schedule delay), where arrival = slot mid-time + T_s and the penalty-free window is the flexible
hours' half-width. Draws use one uniform per worker and decision (inverse CDF), so the fast model and
the reference make the same choice from the same number.

Segments (calibration groups of the alternative constants): 0 inside Milan, 1 entering Milan,
2 leaving Milan, 3 within the hinterland.
"""

from __future__ import annotations

import numpy as np

from .schema import MODES

CAR, TRANSIT, BIKE, WALK, MOTO = range(5)
N_MODES = len(MODES)


def segment(home_in_milan: np.ndarray, work_in_milan: np.ndarray) -> np.ndarray:
    """Calibration segment of each worker's commute."""
    return np.where(home_in_milan, np.where(work_in_milan, 0, 2), np.where(work_in_milan, 1, 3)).astype(np.int8)


def mode_times(car_min, transit_min, dist_km, moto_min, walk_speed, bike_speed) -> np.ndarray:
    """Door-to-door minutes per mode (n, 5); car and transit already include access and crowding."""
    return np.stack([car_min, transit_min, dist_km / bike_speed * 60.0, dist_km / walk_speed * 60.0, moto_min], axis=1)


def utilities(asc_worker: np.ndarray, times: np.ndarray, costs: np.ndarray, available: np.ndarray,
              beta_time: float, beta_cost: float) -> np.ndarray:
    """Utility (n, 5) with -inf for unavailable modes."""
    u = asc_worker + beta_time * times + beta_cost * costs
    return np.where(available, u, -np.inf)


def probabilities(util: np.ndarray) -> np.ndarray:
    """Logit probabilities along the last axis (rows of all -inf are not allowed)."""
    e = util - util.max(axis=-1, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=-1, keepdims=True)
    return e


def choose(prob: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index of the alternative drawn by inverse CDF with one uniform per row."""
    cdf = np.cumsum(prob, axis=-1)
    # the cdf never decreases, so the count of entries below u*total is the first index at or above it
    # (the last entry always is: u < 1)
    return np.argmax(cdf >= (u * cdf[:, -1])[:, None], axis=-1).astype(np.int8)


def slot_utilities(times_by_slot: np.ndarray, slot_mid_min: np.ndarray, work_start_min: np.ndarray,
                   window_min: np.ndarray, beta_time: float, beta_early: float, beta_late: float,
                   scale: float) -> np.ndarray:
    """Utility (n, n_slots) of departing in each slot.

    Args:
        times_by_slot: door-to-door minutes (n, n_slots) if leaving in that slot.
        slot_mid_min: departure time of each slot, minutes after midnight (n_slots,).
        work_start_min: preferred arrival per worker (n,).
        window_min: half-width without schedule penalty per worker (n,), 0 without flexible hours.
    """
    arrival = slot_mid_min[None, :] + times_by_slot
    early = (work_start_min - window_min)[:, None] - arrival
    np.maximum(early, 0.0, out=early)
    late = arrival  # reused in place: arrival is not needed after this
    late -= work_start_min[:, None]
    late -= window_min[:, None]
    np.maximum(late, 0.0, out=late)
    util = beta_time * times_by_slot
    early *= beta_early
    util += early
    late *= beta_late
    util += late
    util *= scale
    return util


def segment_shares(prob: np.ndarray, seg: np.ndarray, weight: np.ndarray, n_segments: int = 4) -> np.ndarray:
    """Weighted mode shares (n_segments, 5) from probabilities or one-hot choices."""
    out = np.zeros((n_segments, prob.shape[1]))
    for s in range(n_segments):
        m = seg == s
        if m.any():
            tot = weight[m].sum()
            out[s] = (prob[m] * weight[m, None]).sum(axis=0) / tot if tot > 0 else 0.0
    return out


def update_constants(asc: np.ndarray, shares: np.ndarray, targets: np.ndarray, present: np.ndarray) -> np.ndarray:
    """One step of constant calibration: ``asc += log(target / share)``, walk fixed at 0.

    Segments with no workers (``present`` False) and modes nobody can use keep their constants.
    """
    new = asc.copy()
    ok = present[:, None] & (shares > 1e-12)
    new[ok] += np.log(targets[ok] / shares[ok])
    new -= new[:, [WALK]]
    return np.clip(new, -30.0, 30.0)
