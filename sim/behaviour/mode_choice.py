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

from dataclasses import dataclass

import numpy as np

from sim.behaviour.traffic import transit_network
from sim.scenario.schema import MODES

CAR, TRANSIT, BIKE, WALK, MOTO = range(5)
N_MODES = len(MODES)
# bound on an alternative constant (utility units): a segment whose target share of a mode is ~0 would
# drive its constant to -inf; at -30 the mode's share is below 1e-13 already
ASC_LIMIT = 30.0


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
    return np.clip(new, -ASC_LIMIT, ASC_LIMIT)


# ---------------------------------------------------------------------------------- composition
# What follows composes the kernels above into the weekly choice of the model: each worker's
# options (times of the modes whose time is fixed, daily costs with Area C, parking and fares,
# which modes are available), the travel times workers expect (learnt day to day), and the review
# of mode and slot by the share of workers who reconsider each week.

@dataclass
class Expected:
    """Travel times workers expect, learnt day to day: car minutes (active OD pair, slot), transit crowding (network, slot)."""

    car_min: np.ndarray
    crowd: np.ndarray

    def learn(self, *, car_min_today: np.ndarray, crowd_today: np.ndarray, rate: float) -> None:
        """Move a share ``rate`` of the way toward today's times (in place)."""
        self.car_min += rate * (car_min_today - self.car_min)
        self.crowd += rate * (crowd_today - self.crowd)


@dataclass
class Options:
    """Each worker's commute options, fixed for the run (arrays per worker; ``_t`` ones modes first (5, n)).

    ``od_local``: index of the worker's OD pair among the active pairs; ``dist_km``: one-way car
    path length; ``car_access_min``: parking search and walk added to the car; ``transit_invehicle_min``:
    uncrowded in-vehicle transit time; ``fixed_one_way_t``: one-way minutes of the modes whose time
    does not depend on the day (car and transit rows zero: those are learnt or lived day by day);
    ``moto_delay_factor``: minutes of a motorbike's time per minute of car time over free flow (the
    motorbike row of ``fixed_one_way_t`` is its time at free flow, access included);
    ``cost_terms_t``: ``beta_cost * daily EUR``, -inf where the mode is unavailable; ``transit_network``:
    urban or regional (:func:`sim.behaviour.traffic.transit_network`).
    """

    segment: np.ndarray
    transit_network: np.ndarray
    od_local: np.ndarray
    dist_km: np.ndarray
    car_access_min: np.ndarray
    transit_invehicle_min: np.ndarray
    fixed_one_way_t: np.ndarray
    cost_terms_t: np.ndarray
    moto_delay_factor: float


def transit_pass_covered(*, transit_pass, worker_firm: np.ndarray, firm_u_pass: np.ndarray, level: float) -> np.ndarray:
    """Workers whose employer pays their transit season ticket (bool per worker).

    ``transit_pass``: the scenario's ``policy.welfare_transit_pass``; an employer pays when its own
    uniform draw ``firm_u_pass`` is below ``share_of_employers`` at the lever's intensity ``level``
    (0-1), so a larger share (or a later point of the ramp) covers a superset of employers, and
    all of an employer's workers are covered or none.
    """
    if not transit_pass.enabled:
        return np.zeros(len(worker_firm), dtype=bool)
    return firm_u_pass[worker_firm] < transit_pass.share_of_employers * level


def options(*, od_local: np.ndarray, dist_km: np.ndarray, free_flow_min: np.ndarray, transit_invehicle_min: np.ndarray,
            home_in_milan: np.ndarray, work_in_milan: np.ndarray, work_in_area_c: np.ndarray,
            car_available: np.ndarray, mode_cfg, city_cfg, policy, transit_pass: np.ndarray | None = None) -> Options:
    """Each worker's options: times, daily costs (the Area C charge, the transit fare and the
    employer-paid season ticket levers act here), availability.

    Args:
        od_local, dist_km, free_flow_min, transit_invehicle_min: per worker (n,); ``free_flow_min`` is
            the one-way car time at free flow on the worker's path.
        home_in_milan, work_in_milan, work_in_area_c: bool per worker.
        mode_cfg, city_cfg, policy: the scenario's ``mode``, ``city`` and ``policy`` sections.
        transit_pass: bool per worker, :func:`transit_pass_covered` (None: nobody); a covered
            worker's transit costs nothing at the margin (the employer pays the season ticket).
    """
    m, c, pol = mode_cfg, city_cfg, policy
    n = len(dist_km)
    car_access_min = c.car_access_min + np.where(work_in_milan, c.car_access_municipality_min, 0.0)
    parking_eur = np.where(work_in_area_c, c.parking_cost_core_eur, np.where(work_in_milan, c.parking_cost_municipality_eur, 0.0))
    car_cost_eur = 2 * m.car_cost_per_km * dist_km + parking_eur + np.where(work_in_area_c, pol.area_c_charge_eur, 0.0)
    # the urban fare covers trips inside the Comune; regional trips pay by distance on top
    both_milan = home_in_milan & work_in_milan
    transit_cost_eur = 2 * (pol.transit_fare_eur + np.where(both_milan, 0.0, m.regional_fare_per_km * dist_km))
    if transit_pass is not None:
        transit_cost_eur = np.where(transit_pass, 0.0, transit_cost_eur)
    moto_cost_eur = 2 * m.moto_cost_per_km * dist_km
    # a motorbike suffers a share of the car's delay: (t0 + share*(car - t0))/speed = fixed part + factor*car
    moto_delay_factor = m.moto_congestion_share / m.moto_speed_factor
    moto_min = (1.0 - m.moto_congestion_share) * free_flow_min / m.moto_speed_factor + c.car_access_min
    zeros = np.zeros_like(dist_km)
    fixed_one_way_t = np.ascontiguousarray(mode_times(zeros, zeros, dist_km, moto_min, m.walk_speed_kmh, m.bike_speed_kmh).T)
    available = np.stack([car_available, np.ones(n, bool), dist_km <= m.bike_max_km, dist_km <= m.walk_max_km, np.ones(n, bool)])
    costs_eur = np.stack([car_cost_eur, transit_cost_eur, zeros, zeros, moto_cost_eur])  # daily EUR per mode
    return Options(segment=segment(home_in_milan, work_in_milan), transit_network=transit_network(home_in_milan, work_in_milan),
                   od_local=od_local, dist_km=dist_km,
                   car_access_min=car_access_min, transit_invehicle_min=transit_invehicle_min,
                   fixed_one_way_t=fixed_one_way_t, cost_terms_t=cost_terms(costs_eur, available, m.beta_cost_per_eur),
                   moto_delay_factor=moto_delay_factor)


def mode_utilities_for(opt: Options, idx: np.ndarray, *, slot: np.ndarray, expected: Expected, asc: np.ndarray,
                       mode_cfg, transit_access_min: float) -> np.ndarray:
    """Mode utilities (5, len(idx)), modes first, of workers ``idx`` departing in ``slot`` (their slots), with expected times."""
    S = expected.car_min.shape[1]
    times = np.take(opt.fixed_one_way_t, idx, axis=1)  # one-way minutes; car and transit rows filled here
    np.take(expected.car_min.reshape(-1), opt.od_local[idx] * S + slot, out=times[CAR])
    times[MOTO] += opt.moto_delay_factor * times[CAR]
    times[CAR] += opt.car_access_min[idx]
    np.multiply(opt.transit_invehicle_min[idx], expected.crowd[opt.transit_network[idx], slot], out=times[TRANSIT])
    times[TRANSIT] += transit_access_min
    times *= 2  # round trip
    asc_t = np.take(asc.T, opt.segment[idx], axis=1)
    return utilities_t(asc_t, times, np.take(opt.cost_terms_t, idx, axis=1), mode_cfg.beta_time_per_min)


def slot_utilities_for(opt: Options, mode: np.ndarray, idx: np.ndarray, *, expected: Expected, slot_mid_min: np.ndarray,
                       work_start_min: np.ndarray, window_min: np.ndarray, mode_cfg, transit_access_min: float) -> np.ndarray:
    """Departure-slot utilities (n_slots, len(idx)), slots first, of workers who all travel by car,
    all by transit, all by motorbike, or all by a mode whose time does not depend on the slot (bike, walk)."""
    m = mode_cfg
    first = int(mode[0]) if len(mode) else BIKE
    if first == CAR:
        times = np.take(expected.car_min.T, opt.od_local[idx], axis=1)
        times += opt.car_access_min[idx]
    elif first == TRANSIT:
        times = expected.crowd[opt.transit_network[idx]].T * opt.transit_invehicle_min[idx]
        times += transit_access_min
    elif first == MOTO:
        times = np.take(expected.car_min.T, opt.od_local[idx], axis=1)
        times *= opt.moto_delay_factor
        times += opt.fixed_one_way_t[MOTO, idx]
    else:
        times = opt.fixed_one_way_t[mode, idx][None, :]
    return slot_utilities_t(times, slot_mid_min, work_start_min[idx], window_min[idx],
                            m.beta_time_per_min, m.beta_early_per_min, m.beta_late_per_min, m.slot_scale)


def slot_groups(mode: np.ndarray) -> list[np.ndarray]:
    """Positions of the car, transit, motorbike and bike-or-walk workers in ``mode`` (empty groups left out)."""
    groups = (mode == CAR, mode == TRANSIT, mode == MOTO, (mode == BIKE) | (mode == WALK))
    return [np.nonzero(g)[0] for g in groups if g.any()]


# run options that hold the weekly travel choices at the habits the year starts with (the calibration's warm-up
# end state), to split a lever's effect: None (choices free), "modes" (each worker keeps their mode and only
# re-chooses the departure slot given it), "modes_and_slots" (both kept; remote days are still planned)
HOLD_CHOICES = (None, "modes", "modes_and_slots")


def check_hold_choices(hold: str | None) -> None:
    """Refuse a ``hold_choices`` that is not one of :data:`HOLD_CHOICES`."""
    if hold not in HOLD_CHOICES:
        raise ValueError(f"hold_choices: expected one of {', '.join(map(str, HOLD_CHOICES))}, got {hold!r}")


def who_reviews(*, u_review: np.ndarray, review_share: float, everyone: bool) -> np.ndarray:
    """Ids of the workers who reconsider mode and slot this week (habits: a share; everyone on a cold start)."""
    return np.arange(len(u_review)) if everyone else np.nonzero(u_review < review_share)[0]


def choose_modes_and_slots(who: np.ndarray, *, u_mode: np.ndarray, u_slot: np.ndarray, mode_utilities,
                           slot_utilities, hold: str | None = None, mode_now: np.ndarray | None = None,
                           slot_now: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mode, then departure slot given the mode, of the workers ``who`` (logit, one uniform each).

    ``mode_utilities(who)`` gives (5, len(who)); ``slot_utilities(mode, ids)`` gives (n_slots, len(ids))
    for a group of workers sharing a kind of mode. Returns (mode int8, slot int8) per worker of ``who``.
    ``hold`` (:data:`HOLD_CHOICES`) keeps the mode (``mode_now``, per worker of the population) or the
    mode and the slot (``slot_now``) instead of choosing them; the draws are keyed, so they are the same
    whether used or not.
    """
    if hold == "modes_and_slots":
        return mode_now[who].astype(np.int8), slot_now[who].astype(np.int8)
    if hold == "modes":
        mode = mode_now[who].astype(np.int8)
    else:
        mode = choose_t(probabilities_t(mode_utilities(who)), u_mode)
    slot = np.empty(len(who), dtype=np.int8)
    for g in slot_groups(mode):  # car, transit, motorbike, the rest: each group's times in one array
        slot[g] = choose_t(probabilities_t(slot_utilities(mode[g], who[g])), u_slot[g])
    return mode, slot
