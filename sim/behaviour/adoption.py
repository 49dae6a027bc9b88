"""Adoption of smart working by firms: Bass diffusion by size class with a return-to-office hazard.

Every ``adoption.workdays_per_month`` workdays (a "month": ``U = WORKDAYS_PER_YEAR /
workdays_per_month`` updates a year) a firm that does not offer smart working adopts it with
probability ``1 - exp(-(p + q*A)/U)``, where ``A`` is the employment-weighted share of adopters in its size
class (innovation ``p`` plus imitation ``q*A``, Bass 1969); a firm that offers it returns to the
office with probability ``r`` per update. ``r`` is calibrated so that the Osservatorio shares are a
steady state: ``(1 - A*) * P_adopt(A*) = A* * r``; from the run's second year the targets follow
``adoption.trend_per_year`` (the Osservatorio's trend: SMEs falling, the PA rising) and ``r`` is the
steady state of the year's targets. The SME-support lever multiplies ``p`` and ``r`` for the
supported classes (at its intensity of the day), moving their steady state up.
"""

from __future__ import annotations

import numpy as np

from sim.scenario.schema import SIZE_CLASSES, WORKDAYS_PER_YEAR, Scenario
from sim.world.calendar import scaled

N_CLASSES = len(SIZE_CLASSES)


def target_firm_share(scenario: Scenario, year: int = 0) -> np.ndarray:
    """Employment share of adopting firms per class in year ``year`` of the run: the year's target allowed
    share (``target * (1 + trend_per_year)^year``, at most the teleworkable share) / teleworkable share."""
    tele = scenario.population.teleworkable_share_by_class()
    t, trend = scenario.adoption.target_allowed_share, scenario.adoption.trend_per_year
    return np.array([min(t[c] * (1.0 + trend[c]) ** year, tele[c]) / tele[c] if tele[c] > 0 else 0.0
                     for c in SIZE_CLASSES])


def updates_per_year(workdays_per_month: int) -> float:
    """Adoption updates in a year of ``WORKDAYS_PER_YEAR`` workdays, one every ``workdays_per_month``."""
    return WORKDAYS_PER_YEAR / workdays_per_month


def is_update_day(day: int, workdays_per_month: int) -> bool:
    """Whether the monthly adoption update happens before workday ``day`` (never on day 0)."""
    return day > 0 and day % workdays_per_month == 0


def adopt_probability(p_year: np.ndarray, q_year: float, share: np.ndarray, updates_year: float) -> np.ndarray:
    """Probability per update that a non-adopting firm adopts, per class (rates per year over ``updates_year`` updates)."""
    return 1.0 - np.exp(-(p_year + q_year * share) / updates_year)


def steady_state_return_probability(scenario: Scenario, year: int = 0) -> np.ndarray:
    """Monthly return-to-office probability per class that makes year ``year``'s target shares a steady state."""
    a = target_firm_share(scenario, year)
    p = np.full(N_CLASSES, scenario.adoption.bass_p_per_year)
    pa = adopt_probability(p, scenario.adoption.bass_q_per_year, a, updates_per_year(scenario.adoption.workdays_per_month))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(a > 0, (1.0 - a) * pa / np.where(a > 0, a, 1.0), 1.0)
    return np.clip(r, 0.0, 1.0)


def baseline_return_probability(scenario: Scenario, calibrated: np.ndarray, year: int) -> np.ndarray:
    """The return probability of the baseline trend in year ``year`` of the run: the calibration's in year 0
    (the start year's targets), then the steady state of the year's targets (``adoption.trend_per_year``)."""
    if year == 0 or not any(scenario.adoption.trend_per_year.values()):
        return calibrated
    return steady_state_return_probability(scenario, year)


def policy_rates(scenario: Scenario, return_prob: np.ndarray, level: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Innovation coefficient and return probability per class once the SME-support lever applies at
    intensity ``level`` (0-1, :func:`sim.world.calendar.intensity`): the multipliers move linearly from 1."""
    p = np.full(N_CLASSES, scenario.adoption.bass_p_per_year)
    r = return_prob.copy()
    sme = scenario.policy.sme_support
    if sme.enabled and level > 0:
        for cls in sme.classes:
            k = SIZE_CLASSES.index(cls)
            p[k] *= scaled(sme.innovation_multiplier, 1.0, level)
            r[k] *= scaled(sme.return_hazard_factor, 1.0, level)
    return p, r


def class_shares(adopted: np.ndarray, firm_class: np.ndarray, employees: np.ndarray) -> np.ndarray:
    """Employment-weighted share of adopting firms in each class."""
    num = np.bincount(firm_class, weights=employees * adopted, minlength=N_CLASSES)
    den = np.bincount(firm_class, weights=employees, minlength=N_CLASSES)
    return np.divide(num, den, out=np.zeros(N_CLASSES), where=den > 0)


def enrol_firms(*, enrolled: np.ndarray, adopted: np.ndarray, firm_class: np.ndarray, classes: list[str],
                u: np.ndarray, cap: int) -> np.ndarray:
    """The SME programme takes on up to ``cap`` more firms: firms of the supported ``classes`` not enrolled and
    not offering smart working, in the order of ``u`` (one uniform per firm: who applies first); bool per firm."""
    supported = np.isin(firm_class, [SIZE_CLASSES.index(c) for c in classes])
    candidates = np.nonzero(supported & ~enrolled & ~adopted)[0]
    out = enrolled.copy()
    out[candidates[np.argsort(u[candidates], kind="stable")[:cap]]] = True
    return out


def monthly_update(adopted: np.ndarray, firm_class: np.ndarray, employees: np.ndarray, p_year: np.ndarray,
                   q_year: float, return_prob: np.ndarray, u: np.ndarray, updates_year: float, *,
                   enrolled: np.ndarray | None = None, base_rates: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """One month of diffusion.

    Args:
        adopted: bool per firm, this month's state.
        firm_class: size class index per firm.
        employees: full-population employees per firm (weights of the class share).
        p_year: innovation coefficient per class (1/year); q_year: imitation coefficient (1/year).
        return_prob: monthly probability per class that an adopter returns to the office.
        u: one uniform draw per firm.
        updates_year: updates in a year (:func:`updates_per_year`).
        enrolled, base_rates: with a cap on the SME programme, the firms it supports (bool per firm): they get
            ``p_year``/``return_prob``, the others ``base_rates`` (p, r per class, without the lever).

    Returns:
        the new bool state per firm.
    """
    share = class_shares(adopted, firm_class, employees)
    p_adopt = adopt_probability(p_year, q_year, share, updates_year)[firm_class]
    r = return_prob[firm_class]
    if enrolled is not None:
        p0, r0 = base_rates
        p_adopt = np.where(enrolled, p_adopt, adopt_probability(p0, q_year, share, updates_year)[firm_class])
        r = np.where(enrolled, r, r0[firm_class])
    return np.where(adopted, u >= r, u < p_adopt)


def initial_adopters(*, scenario: Scenario, firm_class: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The year starts with adopters drawn at the target shares (one uniform per firm)."""
    return u < target_firm_share(scenario)[firm_class]


def allowed_workers(*, regime: str, adopted: np.ndarray, worker_firm: np.ndarray, teleworkable: np.ndarray) -> np.ndarray:
    """Workers allowed smart working: their firm adopted it and their job is teleworkable.

    ``regime`` (``policy.smart_working``): ``"off"`` allows nobody (the counterfactual), ``"all_remote"`` everybody.
    """
    if regime == "off":
        return np.zeros(len(worker_firm), dtype=bool)
    if regime == "all_remote":
        return np.ones(len(worker_firm), dtype=bool)
    return adopted[worker_firm] & teleworkable
