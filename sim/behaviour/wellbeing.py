"""Wellbeing: daily strain, exponentially weighted stress, and the quit hazard.

Daily strain (stress points, clipped to the 0-10 scale) = personal baseline
  + w_commute * round-trip commute hours + w_delay * round-trip delay hours
  + w_crowding * max(0, transit load - crowding threshold)
  + work-family conflict (caregiver or not; x remote_conflict_factor on remote days; cut by corporate welfare)
  + isolation: w_isolation per remote day above isolation_free_days, on remote days.
Stress moves toward today's strain by 1/memory_days each day. The daily quit hazard is
``h0[gender] * caregiver_multiplier * exp(quit_stress_coef*stress + quit_conflict_coef*conflict)``;
``h0`` is calibrated so the baseline gives the INL-derived quits per 1,000. Quitters are replaced by a
new hire with the same characteristics and a fresh stress, so the workforce stays constant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenario.schema import WORKDAYS_PER_YEAR, WellbeingConfig
STRESS_MAX = 10.0  # top of the stress scale: strain is clipped to [0, 10]


def conflict(caregiver: np.ndarray, remote_today: np.ndarray, welfare_cut: np.ndarray, cfg: WellbeingConfig) -> np.ndarray:
    """Work-family conflict today (stress points)."""
    base = np.where(caregiver, cfg.conflict_caregiver, cfg.conflict_other)
    return base * np.where(remote_today, cfg.remote_conflict_factor, 1.0) * (1.0 - welfare_cut)


def daily_strain(base: np.ndarray, commute_h, delay_h, crowd_excess, conflict_today, remote_today, remote_days_week,
                 cfg: WellbeingConfig) -> np.ndarray:
    """Strain of today (stress points); commute terms are zero on remote days.

    Every argument but ``base`` (an array) may be a scalar shared by all workers.
    """
    isolation = cfg.w_isolation_per_day * np.maximum(0, remote_days_week - cfg.isolation_free_days) * remote_today
    strain = np.asarray(np.add(base, cfg.w_commute_per_hour * commute_h), dtype=np.float64)  # summed left to right, in place
    strain += cfg.w_delay_per_hour * delay_h
    strain += cfg.w_crowding * crowd_excess
    strain += conflict_today
    strain += isolation
    return np.clip(strain, 0.0, STRESS_MAX, out=strain)


def update_stress(stress: np.ndarray, strain: np.ndarray, cfg: WellbeingConfig, out: np.ndarray | None = None) -> np.ndarray:
    """Exponentially weighted stress: move 1/memory_days of the way toward today's strain (into ``out`` if given)."""
    step = strain - stress
    step /= cfg.memory_days
    return np.add(stress, step, out=out)


def hazard_multiplier(stress: np.ndarray, conflict_today: np.ndarray, caregiver: np.ndarray, cfg: WellbeingConfig) -> np.ndarray:
    """Relative daily quit hazard (before the calibrated h0)."""
    cg = np.where(caregiver, cfg.caregiver_quit_multiplier, 1.0)
    return cg * np.exp(cfg.quit_stress_coef * stress + cfg.quit_conflict_coef * conflict_today)


def base_hazard(mean_multiplier: np.ndarray, cfg: WellbeingConfig) -> np.ndarray:
    """Base daily hazard [men, women] so that quits per 1,000 per year hit the targets.

    Args:
        mean_multiplier: the mean of :func:`hazard_multiplier` over men and over women [men, women].
    """
    targets = np.array([cfg.target_quits_men_per_1000, cfg.target_quits_women_per_1000])
    daily = -np.log(1.0 - targets / 1000.0) / WORKDAYS_PER_YEAR
    return np.divide(daily, mean_multiplier, out=np.zeros(2), where=mean_multiplier > 0)


def quit_probability(h0: np.ndarray, woman: np.ndarray, multiplier: np.ndarray) -> np.ndarray:
    """Probability of quitting today."""
    return 1.0 - np.exp(-h0[woman.astype(np.int8)] * multiplier)


# ---------------------------------------------------------------------------------- composition
def welfare_conflict_cut(*, welfare, u_welfare: np.ndarray, level: float = 1.0) -> np.ndarray:
    """Share of work-family conflict corporate welfare removes for each worker (0 where not covered).

    ``welfare``: the scenario's ``policy.corporate_welfare`` (covered: a share ``coverage`` of the
    workers, by each worker's uniform draw; ``coverage * level`` at intensity ``level``).
    """
    return np.where(welfare.enabled & (u_welfare < welfare.coverage * level), welfare.conflict_reduction, 0.0)


@dataclass
class Conflict:
    """Each worker's work-family conflict on an office day and on a remote day (fixed for the run), and the highest."""

    office: np.ndarray
    remote: np.ndarray
    max: float


def conflicts(*, caregiver: np.ndarray, welfare_cut: np.ndarray, cfg: WellbeingConfig) -> Conflict:
    n = len(caregiver)
    office = conflict(caregiver, np.zeros(n, bool), welfare_cut, cfg)
    remote = conflict(caregiver, np.ones(n, bool), welfare_cut, cfg)
    return Conflict(office=office, remote=remote, max=float(max(office.max(initial=0.0), remote.max(initial=0.0))))


def strain_today(*, base: np.ndarray, round_trip_min: np.ndarray, round_delay_min: np.ndarray, crowd_excess: np.ndarray,
                 conflict_: Conflict, remote_ids: np.ndarray, remote_days_week: np.ndarray, cfg: WellbeingConfig) -> np.ndarray:
    """Everyone's strain today: commuters from what they lived, remote workers from conflict and isolation."""
    strain = daily_strain(base, round_trip_min / 60.0, round_delay_min / 60.0, crowd_excess, conflict_.office, False, 0, cfg)
    strain[remote_ids] = daily_strain(base[remote_ids], 0.0, 0.0, 0.0, conflict_.remote[remote_ids], True,
                                      remote_days_week[remote_ids], cfg)
    return strain


def draw_quits(*, u: np.ndarray, stress: np.ndarray, remote_today: np.ndarray, conflict_: Conflict, caregiver: np.ndarray,
               woman: np.ndarray, h0: np.ndarray, cfg: WellbeingConfig) -> np.ndarray:
    """Who quits today (sorted worker ids): uniform draw ``u`` < quit probability.

    The probability is tiny, so it is computed only for the few workers whose draw is below its
    upper bound over everyone (highest stress today, highest conflict of the run, as a caregiver:
    the caregiver multiplier is >= 1); the result is the same as computing it for all.
    """
    top = hazard_multiplier(np.array([stress.max()]), np.array([conflict_.max]), np.ones(1, dtype=bool), cfg)
    bound = quit_probability(np.array([h0.max()]), np.zeros(1, dtype=bool), top)[0]
    cand = np.nonzero(u < bound)[0]
    if not len(cand):
        return cand
    conf = np.where(remote_today[cand], conflict_.remote[cand], conflict_.office[cand])
    mult = hazard_multiplier(stress[cand], conf, caregiver[cand], cfg)
    return cand[u[cand] < quit_probability(h0, woman[cand], mult)]


def replace_quitters(stress: np.ndarray, quit_ids: np.ndarray, *, base_stress: np.ndarray) -> None:
    """A quitter is replaced by a new hire in the same position with a fresh stress (in place)."""
    stress[quit_ids] = base_stress[quit_ids]
