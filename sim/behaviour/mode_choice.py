"""Mode (car, transit, bike, walk, moto) and departure slot: multinomial logit.

Mode utility: ``asc[segment, mode] + beta_time*minutes + beta_cost*euros``; walk and bike are
unavailable beyond their longest distance, car without a car. The slot is then chosen given the
mode: ``slot_scale*(beta_time*T_s + beta_early*early_min + beta_late*late_min)`` (Small 1982
schedule delay), where arrival = slot mid-time + T_s and the penalty-free window is the flexible
hours' half-width. Draws use one uniform per worker and decision (inverse CDF), so the fast model and
the reference make the same choice from the same number.

Segments (calibration groups of the alternative constants): 0 inside Milan, 1 entering Milan,
2 leaving Milan, 3 within the hinterland.

The kernels ending in ``_t`` take alternatives first (alternatives x workers): every step is then an
operation on whole contiguous rows, and sums run alternative by alternative, in the reference's
order. ``probabilities``, ``choose`` and ``slot_utilities`` are the same rules, workers first.
"""

from __future__ import annotations

import numpy as np

from sim.scenario.schema import MODES

CAR, TRANSIT, BIKE, WALK, MOTO = range(5)
N_MODES = len(MODES)


def segment(home_in_milan: np.ndarray, work_in_milan: np.ndarray) -> np.ndarray:
    """Calibration segment of each worker's commute."""
    return np.where(home_in_milan, np.where(work_in_milan, 0, 2), np.where(work_in_milan, 1, 3)).astype(np.int8)


def mode_times(car_min, transit_min, dist_km, moto_min, walk_speed, bike_speed) -> np.ndarray:
    """Door-to-door minutes per mode (n, 5); car and transit already include access and crowding."""
    return np.stack([car_min, transit_min, dist_km / bike_speed * 60.0, dist_km / walk_speed * 60.0, moto_min], axis=1)


def cost_terms(costs: np.ndarray, available: np.ndarray, beta_cost: float) -> np.ndarray:
    """The fixed part of each mode's utility: ``beta_cost*euros``, or -inf where the mode is unavailable."""
    return np.where(available, beta_cost * costs, -np.inf)


def utilities_t(asc_t: np.ndarray, times_t: np.ndarray, cost_terms_t: np.ndarray, beta_time: float) -> np.ndarray:
    """Utility (5, n), modes first: ``asc + beta_time*minutes + cost term``, computed in place of ``times_t``.

    Args:
        asc_t: each worker's alternative constants (5, n).
        times_t: round-trip minutes per mode (5, n); overwritten.
        cost_terms_t: :func:`cost_terms` (5, n) (-inf makes the mode unavailable).
    """
    times_t *= beta_time
    times_t += asc_t
    times_t += cost_terms_t
    return times_t


def probabilities_t(util_t: np.ndarray) -> np.ndarray:
    """Logit probabilities over the first axis of ``util_t`` (alternatives x workers), in place.

    Alternatives first: every step is an operation on whole contiguous rows (numpy's reductions along
    a short last axis are several times slower), and the normaliser is added up alternative by
    alternative, in the order of the per-agent reference. Columns of all -inf are not allowed.
    """
    util_t -= util_t.max(axis=0)
    np.exp(util_t, out=util_t)
    total = util_t[0].copy()
    for row in util_t[1:]:
        total += row
    util_t /= total
    return util_t


def choose_t(prob_t: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Alternative drawn by inverse CDF, one uniform per column of ``prob_t`` (alternatives x workers).

    Overwrites ``prob_t`` with the cumulative probabilities. The draw is the number of cumulative
    probabilities below ``u`` times the total, i.e. the first alternative at or above it; the last
    row is left out of the count, which caps the draw at the last alternative.
    """
    for j in range(1, len(prob_t)):
        prob_t[j] += prob_t[j - 1]
    threshold = u * prob_t[-1]
    return (prob_t[:-1] < threshold).sum(axis=0, dtype=np.int8)


def probabilities(util: np.ndarray) -> np.ndarray:
    """Logit probabilities along the last axis (rows of all -inf are not allowed)."""
    return np.moveaxis(probabilities_t(np.array(np.moveaxis(util, -1, 0), dtype=np.float64, order="C")), 0, -1)


def choose(prob: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index of the alternative drawn by inverse CDF with one uniform per row."""
    return choose_t(np.array(prob.T, dtype=np.float64, order="C"), u)


def slot_utilities_t(times_t: np.ndarray, slot_mid_min: np.ndarray, work_start_min: np.ndarray,
                     window_min: np.ndarray, beta_time: float, beta_early: float, beta_late: float,
                     scale: float) -> np.ndarray:
    """Utility (n_slots, n) of departing in each slot, slots first.

    Args:
        times_t: door-to-door minutes (n_slots, n) if leaving in that slot, or (1, n) when the
            time does not depend on the slot.
        slot_mid_min: departure time of each slot, minutes after midnight (n_slots,).
        work_start_min: preferred arrival per worker (n,).
        window_min: half-width without schedule penalty per worker (n,), 0 without flexible hours.
    """
    arrival = slot_mid_min[:, None] + times_t
    early = (work_start_min - window_min) - arrival
    np.maximum(early, 0.0, out=early)
    late = arrival  # reused in place: arrival is not needed after this
    late -= work_start_min
    late -= window_min
    np.maximum(late, 0.0, out=late)
    util = early  # likewise: beta_early*early + beta_time*time (+ is commutative), + beta_late*late
    util *= beta_early
    util += beta_time * times_t
    late *= beta_late
    util += late
    util *= scale
    return util


def slot_utilities(times_by_slot: np.ndarray, slot_mid_min: np.ndarray, work_start_min: np.ndarray,
                   window_min: np.ndarray, beta_time: float, beta_early: float, beta_late: float,
                   scale: float) -> np.ndarray:
    """Utility (n, n_slots) of departing in each slot (:func:`slot_utilities_t` with workers first).

    Args:
        times_by_slot: door-to-door minutes (n, n_slots) if leaving in that slot.
        slot_mid_min: departure time of each slot, minutes after midnight (n_slots,).
        work_start_min: preferred arrival per worker (n,).
        window_min: half-width without schedule penalty per worker (n,), 0 without flexible hours.
    """
    return slot_utilities_t(times_by_slot.T, slot_mid_min, work_start_min, window_min, beta_time, beta_early,
                            beta_late, scale).T


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
