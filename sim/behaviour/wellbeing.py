"""Wellbeing: daily strain by component, exponentially weighted stress, the quit hazard, quits and hires.

Daily strain (stress points, clipped to the 0-10 scale) is the sum of its components:

* base: the worker's personal baseline;
* commute (office days): ``strain_<mode>_per_hour`` x round-trip hours (active modes weigh least);
* delay: ``w_delay_per_hour`` x round-trip hours of congestion delay (car in stop-and-go traffic);
* crowding: ``w_crowding`` x transit load above ``mode.crowding_threshold``;
* conflict: work-family conflict of the worker's care group (youngest child 0-2, 3-5, 6-14, none; plus
  carers of a dependant), x (1 + ``conflict_per_commute_hour`` x round-trip hours) on an office day,
  x ``remote_conflict_factor`` on a remote day, x ``flexible_conflict_factor`` under flexible hours;
  corporate welfare's childcare cuts the child part for covered parents of children 0-5 only;
* isolation (remote days): ``w_isolation_per_day`` per remote day above ``isolation_free_days``.

Stress moves toward today's strain by 1/memory_days each day. The daily quit hazard is
``h0[cell] * exp(quit_stress_coef * stress)`` with ``cell`` = gender x parent of a child aged 0-2:
caregiving enters once, through the conflict inside stress; ``h0`` per cell is calibrated on the
baseline to the INL resignations of parents of children under 3 and to the other workers' target.
The probability of quitting today, ``1 - exp(-hazard)``, summed over the employed is the *expected*
number of quits (exact given the state, no sampling noise); the realised quits are keyed draws.

A quitter leaves the position: the row is vacant (employed False) for ``vacancy_workdays``, commutes
nowhere and counts in no figure; then a new hire drawn from the population margins (gender, care
group, personal baseline) takes the position with a fresh stress. Each quit has a reason (care,
job-to-job, other) drawn with the INL shares of its cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from sim.rng import KeyedRNG
from sim.scenario.schema import MODES, SIZE_CLASSES, WORKDAYS_PER_YEAR, PopulationConfig, WellbeingConfig
from sim.world.population import care_groups

STRESS_MAX = 10.0  # top of the stress scale: strain is clipped to [0, 10]
COMPONENTS = ("base", "commute", "delay", "crowding", "conflict", "isolation")  # strain components, in summing order
CELLS = ("man", "father_u3", "woman", "mother_u3")  # quit-hazard cells: 2 * woman + parent of a child 0-2
REASONS = ("care", "job_to_job", "other")
VACANT = -1  # vacant_until of a filled position


# ---------------------------------------------------------------------------------- kernels
def mode_strain_per_hour(cfg: WellbeingConfig) -> np.ndarray:
    """Commute strain per round-trip hour by mode (5,), in MODES order."""
    return np.array([getattr(cfg, f"strain_{m}_per_hour") for m in MODES])


def personal_conflict(*, child_group: np.ndarray, dependant: np.ndarray, flexible: np.ndarray, welfare_cut: np.ndarray,
                      cfg: WellbeingConfig) -> np.ndarray:
    """Work-family conflict of an office day without commute (n,), by care group and the levers.

    ``welfare_cut`` (n,) is the childcare's relative cut of each covered worker's conflict; it acts on
    the child part of parents of children aged 0-5 only (child_group 1 or 2).
    """
    levels = np.array([cfg.conflict_none, cfg.conflict_child_0_2, cfg.conflict_child_3_5, cfg.conflict_child_6_14])
    young = (child_group == 1) | (child_group == 2)
    child = levels[child_group] * (1.0 - np.where(young, welfare_cut, 0.0))
    total = child + cfg.conflict_dependant * dependant
    return total * np.where(flexible, cfg.flexible_conflict_factor, 1.0)


def update_stress(stress: np.ndarray, strain: np.ndarray, cfg: WellbeingConfig, out: np.ndarray | None = None) -> np.ndarray:
    """Exponentially weighted stress: move 1/memory_days of the way toward today's strain (into ``out`` if given)."""
    step = strain - stress
    step /= cfg.memory_days
    return np.add(stress, step, out=out)


def hazard_cell(woman: np.ndarray, child_group: np.ndarray) -> np.ndarray:
    """Quit-hazard cell of each worker (index into CELLS)."""
    return 2 * woman.astype(np.int64) + (child_group == 1)


def quit_probability(*, h0: np.ndarray, cell: np.ndarray, stress: np.ndarray, cfg: WellbeingConfig) -> np.ndarray:
    """Probability of quitting today (n,): ``1 - exp(-h0[cell] exp(quit_stress_coef stress))``."""
    return -np.expm1(-h0[cell] * np.exp(cfg.quit_stress_coef * stress))


def cell_targets_per_1000(cfg: WellbeingConfig) -> np.ndarray:
    """Yearly quits per 1,000 of each cell (CELLS order) the calibration aims at."""
    return np.array([cfg.target_quits_men_per_1000, cfg.target_quits_fathers_u3_per_1000,
                     cfg.target_quits_women_per_1000, cfg.target_quits_mothers_u3_per_1000])


def base_hazard(mean_multiplier: np.ndarray, cfg: WellbeingConfig) -> np.ndarray:
    """Base daily hazard per cell (4,) so that each cell's yearly quits per 1,000 hit its target.

    Args:
        mean_multiplier: the weighted mean of ``exp(quit_stress_coef * stress)`` in each cell (4,).
    """
    # a rate per worker-year (positions are refilled): today's probability is target / 1000 / workdays
    daily = -np.log1p(-cell_targets_per_1000(cfg) / 1000.0 / WORKDAYS_PER_YEAR)
    return np.divide(daily, mean_multiplier, out=np.zeros(4), where=mean_multiplier > 0)


def reason_shares(cfg: WellbeingConfig) -> np.ndarray:
    """Shares (4, 3) of the quit reasons REASONS in each cell CELLS."""
    def row(care, j2j):
        return [care, j2j, 1.0 - care - j2j]
    return np.array([row(cfg.care_share_men, cfg.job_to_job_share_others),
                     row(cfg.care_share_fathers_u3, cfg.job_to_job_share_fathers_u3),
                     row(cfg.care_share_women, cfg.job_to_job_share_others),
                     row(cfg.care_share_mothers_u3, cfg.job_to_job_share_mothers_u3)])


def draw_reasons(u: np.ndarray, cell: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Reason index (REASONS) of each quitter from its uniform draw: care below the care share, then job-to-job, else other."""
    care, j2j = shares[cell, 0], shares[cell, 1]
    return np.where(u < care, 0, np.where(u < care + j2j, 1, 2)).astype(np.int8)


def high_stress_threshold(stress: np.ndarray, weight: np.ndarray, share: float) -> float:
    """Stress above which a weighted ``share`` of the workers lie (the calibrated high-stress threshold)."""
    order = np.argsort(stress, kind="stable")
    cum = np.cumsum(weight[order])
    k = min(int(np.searchsorted(cum, (1.0 - share) * cum[-1], side="left")), len(order) - 1)
    return float(stress[order[k]])


# ---------------------------------------------------------------------------------- composition
def welfare_conflict_cut(*, welfare, worker_class: np.ndarray, u_welfare: np.ndarray,
                         level: float = 1.0) -> np.ndarray:
    """Share of the child part of conflict the childcare scheme removes for each worker (0 where not covered).

    ``welfare``: the scenario's ``policy.corporate_welfare``; a worker is covered when the draw
    ``u_welfare`` is below the coverage of the employer's size class (a larger coverage covers a superset),
    times the lever's intensity ``level`` (0 before the lever starts, 1 once fully phased in).
    """
    from_class = np.array([getattr(welfare.coverage, k) for k in SIZE_CLASSES])
    return np.where(welfare.enabled & (u_welfare < from_class[worker_class] * level), welfare.conflict_reduction, 0.0)


@dataclass
class Strain:
    """Today's strain (n,) and its components' weighted sums over the employed (6,) in COMPONENTS order
    (before the clip to the scale)."""

    total: np.ndarray
    part_sums: np.ndarray


def strain_today(*, base: np.ndarray, mode: np.ndarray, round_trip_min: np.ndarray, round_delay_min: np.ndarray,
                 crowd_excess: np.ndarray, conflict: np.ndarray, remote: np.ndarray, remote_days_week: np.ndarray,
                 weight: np.ndarray, employed: np.ndarray, cfg: WellbeingConfig) -> Strain:
    """Everyone's strain today: commuters from what they lived, remote workers from conflict and isolation.

    Args:
        base, conflict: personal baseline and :func:`personal_conflict` (n,); mode: the week's mode (n,);
        round_trip_min, round_delay_min, crowd_excess: what each worker lived (zero at home);
        remote: bool (n,), at home today; remote_days_week: remote days planned this week (n,);
        weight, employed: each position's weight and whether it is filled (the components' sums count the filled).
    """
    total = np.empty(len(base))
    part_sums = _strain_loop(base, mode, round_trip_min, round_delay_min, crowd_excess, conflict, remote, remote_days_week,
                             weight, employed, mode_strain_per_hour(cfg), cfg.w_delay_per_hour, cfg.w_crowding,
                             cfg.remote_conflict_factor, cfg.conflict_per_commute_hour, cfg.w_isolation_per_day,
                             cfg.isolation_free_days, total)
    return Strain(total=total, part_sums=part_sums)


@njit(cache=True, nogil=True)
def _strain_loop(base, mode, round_trip_min, round_delay_min, crowd_excess, conflict, remote, remote_days_week,
                 weight, employed, per_hour, w_delay_per_hour, w_crowding, remote_conflict_factor,
                 conflict_per_commute_hour, w_isolation_per_day, isolation_free_days, total):
    """:func:`strain_today` worker by worker in one pass (the components of the module's docstring, summed in
    COMPONENTS order, clipped to the scale) into ``total`` (n,); returns the components' weighted sums (6,)."""
    part = np.empty(6)
    part_sums = np.zeros(6)
    for i in range(len(base)):
        hours = round_trip_min[i] / 60.0
        part[0] = base[i]
        part[1] = per_hour[mode[i]] * hours
        part[2] = w_delay_per_hour * (round_delay_min[i] / 60.0)
        part[3] = w_crowding * crowd_excess[i]
        if remote[i]:
            part[4] = conflict[i] * remote_conflict_factor
            part[5] = w_isolation_per_day * max(0, remote_days_week[i] - isolation_free_days)
        else:
            part[4] = conflict[i] * (1.0 + conflict_per_commute_hour * hours)
            part[5] = 0.0
        t = part[0] + part[1]
        for k in range(2, 6):
            t += part[k]
        total[i] = min(max(t, 0.0), STRESS_MAX)
        if employed[i]:
            for k in range(6):
                part_sums[k] += weight[i] * part[k]
    return part_sums


@dataclass
class Quits:
    """Today's expected and realised quits: ``p`` the probability of quitting of every worker (0 for a
    vacant row), ``ids`` the realised quitters (sorted), ``reason`` their reason (REASONS index), ``cell``
    every worker's hazard cell."""

    p: np.ndarray
    ids: np.ndarray
    reason: np.ndarray
    cell: np.ndarray


def quits_today(*, u: np.ndarray, u_reason_at, stress: np.ndarray, employed: np.ndarray, woman: np.ndarray,
                child_group: np.ndarray, h0: np.ndarray, cfg: WellbeingConfig) -> Quits:
    """Who would quit (probabilities) and who quits today (draw ``u`` below the probability, employed only);
    ``u_reason_at(ids)``: the reason draws of the workers ``ids`` (the keyed array's elements ``ids``)."""
    cell = hazard_cell(woman, child_group)
    p = quit_probability(h0=h0, cell=cell, stress=stress, cfg=cfg) * employed
    ids = np.nonzero(u < p)[0]
    return Quits(p=p, ids=ids, reason=draw_reasons(u_reason_at(ids), cell[ids], reason_shares(cfg)), cell=cell)


@dataclass
class Hires:
    """New hires drawn from the population margins for every row (only the rows filled today are used)."""

    woman: np.ndarray
    child_group: np.ndarray
    dependant: np.ndarray
    base_stress: np.ndarray


def draw_hires(keyed: KeyedRNG, day: int, rows: np.ndarray, cfg: PopulationConfig) -> Hires:
    """New hires for the positions ``rows`` from the population margins: elements ``rows`` of the arrays keyed by
    (day, hire_*), the same in every model; gender, care group and personal baseline as in :mod:`sim.world.population`."""
    woman = keyed.uniform_at(day, "hire_gender", rows) < cfg.women_share
    child, dependant = care_groups(cfg, woman, u_child=keyed.uniform_at(day, "hire_child", rows),
                                   u_dependant=keyed.uniform_at(day, "hire_dependant", rows))
    base = np.clip(cfg.base_stress_mean + cfg.base_stress_sd * keyed.normal_at(day, "hire_base_stress", rows), 0, None)
    return Hires(woman=woman, child_group=child, dependant=dependant, base_stress=base)


def fill_vacancies(state, day: int, hires_for) -> np.ndarray:
    """Fill the positions whose vacancy ends today with new hires (in place); returns their ids.

    ``state``: the model (arrays ``employed``, ``vacant_until``, ``woman``, ``child_group``,
    ``dependant``, ``caregiver``, ``base_stress``, ``stress``); ``hires_for(ids)``: the :class:`Hires` of the positions ``ids``.
    """
    ids = np.nonzero(state.vacant_until == day)[0]
    if not len(ids):
        return ids
    h = hires_for(ids)
    state.woman[ids] = h.woman
    state.child_group[ids] = h.child_group
    state.dependant[ids] = h.dependant
    state.caregiver[ids] = (h.child_group > 0) | h.dependant
    state.base_stress[ids] = h.base_stress
    state.stress[ids] = h.base_stress
    state.employed[ids] = True
    state.vacant_until[ids] = VACANT
    return ids


def vacate(state, quit_ids: np.ndarray, *, day: int, cfg: WellbeingConfig) -> None:
    """The quitters leave their positions: vacant until ``day + vacancy_workdays`` (in place)."""
    state.employed[quit_ids] = False
    state.vacant_until[quit_ids] = day + cfg.vacancy_workdays
