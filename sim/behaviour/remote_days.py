"""Weekly remote-work plan: how many days, and which weekdays.

How many: ``preferred + caregiver_extra*caregiver + peer_weight*(peers - preferred) + sd*z``,
rounded and clipped to the employer's cap; the policy floor then raises it and the policy cap
lowers it. Only workers allowed smart working (their firm adopted it and their job is
teleworkable) get remote days. Which days: the ``k`` weekdays with the largest
``log(weekday_weight) + Gumbel`` keys, i.e. weighted sampling without replacement, so Monday and
Friday come first more often.
"""

from __future__ import annotations

import numpy as np


def policy_floor_cap(policy, level: float = 1.0) -> tuple[int, int]:
    """The remote-days floor and cap in force at intensity ``level``: they move from (0, 5) toward
    (floor, cap) by whole days, half a day rounded up; at full intensity exactly the lever's."""
    if level >= 1.0:
        return policy.floor, policy.cap
    return int(policy.floor * level + 0.5), 5 - int((5 - policy.cap) * level + 0.5)


def remote_day_count(allowed: np.ndarray, firm_cap: np.ndarray, caregiver: np.ndarray, peer_mean: np.ndarray,
                     z: np.ndarray, preferred: float, caregiver_extra: float, peer_weight: float, sd: float,
                     policy_floor: int, policy_cap: int) -> np.ndarray:
    """Remote days this week per worker (int8, 0..5)."""
    desired = preferred + caregiver_extra * caregiver + peer_weight * (peer_mean - preferred) + sd * z
    days = np.clip(np.rint(desired), 0, firm_cap)
    days = np.minimum(np.maximum(days, policy_floor), policy_cap)
    return np.where(allowed, days, 0).astype(np.int8)


def remote_weekdays_t(days: np.ndarray, log_weight: np.ndarray, gumbel_t: np.ndarray) -> np.ndarray:
    """Bool (5, n), weekdays first: which weekdays each worker stays home, ``days[i]`` of them.

    Args:
        days: remote days per worker (n,).
        log_weight: log of the weekday weights (5,).
        gumbel_t: standard Gumbel draws, weekdays first (5, n).
    """
    keys = gumbel_t + log_weight[:, None]
    # rank of each day by descending key, ties to the earlier weekday (a stable sort's rank): each
    # pair of weekdays is compared once, and the one that comes first raises the other's rank
    d = len(keys)
    rank = np.zeros(keys.shape, dtype=np.int8)
    for j in range(d):
        for k in range(j + 1, d):
            j_first = keys[j] >= keys[k]
            rank[k] += j_first
            rank[j] += ~j_first
    return rank < days


def remote_weekdays(days: np.ndarray, log_weight: np.ndarray, gumbel: np.ndarray) -> np.ndarray:
    """Bool (n, 5): which weekdays each worker stays home, ``days[i]`` of them (:func:`remote_weekdays_t`).

    Args:
        days: remote days per worker.
        log_weight: log of the weekday weights (5,).
        gumbel: standard Gumbel draws (n, 5).
    """
    return remote_weekdays_t(days, log_weight, gumbel.T).T


def firm_mean_days(days: np.ndarray, allowed: np.ndarray, firm: np.ndarray, weight: np.ndarray,
                   n_firms: int, default: float) -> np.ndarray:
    """Weighted mean remote days of allowed colleagues, per worker's firm (``default`` where none)."""
    w = weight * allowed
    num = np.bincount(firm, weights=w * days, minlength=n_firms)
    den = np.bincount(firm, weights=w, minlength=n_firms)
    mean = np.where(den > 0, num / np.where(den > 0, den, 1.0), default)
    return mean[firm]


def plan_week(*, allowed: np.ndarray, all_remote: bool, last_days: np.ndarray, firm_cap: np.ndarray, caregiver: np.ndarray,
              worker_firm: np.ndarray, weight: np.ndarray, n_firms: int, z: np.ndarray, gumbel, log_weekday_weight: np.ndarray,
              cfg, policy, level: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The week's remote plan of every worker: how many days (int8, n) and which weekdays (bool (5, n), weekdays first).

    Args:
        allowed: who may work remotely (only they get remote days); all_remote: the all-remote regime (5 days each).
        last_days: each worker's remote days last week (the colleagues' mean is the peer effect).
        z: one standard normal per worker (preference); gumbel(rows): standard Gumbel draws (n, 5) of the given rows.
        cfg, policy: the scenario's ``remote_days`` and ``policy.remote_days`` (floor and cap levers) sections.
        level: the floor and cap's intensity this week (see :func:`policy_floor_cap`).
    """
    n = len(allowed)
    floor, cap = policy_floor_cap(policy, level)
    a = np.nonzero(allowed)[0]
    days = np.zeros(n, dtype=np.int8)
    if len(a):
        peers = firm_mean_days(last_days[a], allowed[a], worker_firm[a], weight[a], n_firms, cfg.preferred_days)
        days[a] = remote_day_count(allowed[a], firm_cap[a], caregiver[a], peers, z[a], cfg.preferred_days,
                                   cfg.caregiver_extra_days, cfg.peer_weight, cfg.preference_sd, floor, cap)
    if all_remote:
        days[:] = 5
    # which weekdays: only workers with 1-4 remote days have a choice to make
    remote_t = np.zeros((5, n), dtype=bool)
    remote_t[:, np.nonzero(days == 5)[0]] = True
    some = np.nonzero((days > 0) & (days < 5))[0]
    if len(some):
        remote_t[:, some] = remote_weekdays_t(days[some], log_weekday_weight, np.ascontiguousarray(gumbel(some).T))
    return days, remote_t
