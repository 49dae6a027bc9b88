"""Random numbers keyed by (seed, day, stream).

A worker's draw for a given day and decision is element ``i`` of the array drawn for that
(seed, day, stream): it does not depend on how many numbers were drawn before, on the order of
the sub-models, or on the implementation (the fast model and the per-agent reference read the same
arrays). Two runs with the same seed share their draws (common random numbers), so a policy's
difference from its baseline is the policy's effect, not noise.

The generator is numpy's Philox4x64-10, a counter-based generator: number ``i`` of an array is the lane
``i % 4`` of the block whose counter is ``i // 4 + 1``. The arrays are made here by a compiled copy of
numpy's loop (the same numbers, tested against ``generator(...).random``), and a decision that needs only a
few elements (today's quitters' reasons, today's hires, the week's reviewers) reads them directly
(:meth:`KeyedRNG.uniform_at`): the same numbers as ``uniform(...)[rows]``, without making the other million.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.special import ndtri

# One id per decision that consumes random numbers. Append new streams at the end: ids are part
# of the results' reproducibility.
STREAMS = {
    "firm_size": 1, "firm_zone": 2, "firm_sector": 3, "worker_firm": 4, "worker_home": 5,
    "worker_gender": 6, "worker_caregiver": 7, "worker_car": 8, "worker_telework": 9,
    "worker_base_stress": 10, "firm_adopt_init": 11, "firm_stagger": 12, "worker_flex": 13,
    "worker_welfare": 14, "adoption": 20, "remote_pref": 21, "remote_weekday": 22,
    "mode": 23, "slot": 24, "quit": 25, "route_noise": 26, "review": 27,
    "worker_dependant": 28, "quit_reason": 29, "hire_gender": 30, "hire_child": 31, "hire_dependant": 32,
    "hire_base_stress": 33,
    "sme_enrol": 40,  # the order in which firms join a capped SME programme (40: clear of other branches' new ids)
    "firm_transit_pass": 41,  # whether an employer pays its workers' transit season ticket
}
SETUP_DAY = -1  # the 'day' key of draws made while building the population


class KeyedRNG:
    """Arrays of random numbers keyed by (seed, day, stream).

    Args:
        seed: the scenario seed (0 <= seed < 2**32).
    """

    def __init__(self, seed: int):
        self.seed = int(seed)

    def generator(self, day: int, stream: str) -> np.random.Generator:
        """A fresh Philox generator for (seed, day, stream)."""
        return np.random.Generator(np.random.Philox(key=self._key(day, stream)))

    def _key(self, day: int, stream: str) -> int:
        """The 128-bit Philox key of (seed, day, stream)."""
        return (self.seed << 64) | ((day + 2) << 16) | STREAMS[stream]

    def _key_words(self, day: int, stream: str) -> tuple[np.uint64, np.uint64]:
        """The key as numpy's Philox holds it: low 64 bits first."""
        key = self._key(day, stream)
        return np.uint64(key & _MASK64), np.uint64(key >> 64)

    def uniform(self, day: int, stream: str, size) -> np.ndarray:
        """Uniform [0, 1) float64 array of ``size`` for (day, stream): ``generator(day, stream).random(size)``,
        made here in one compiled pass (the same numbers, faster than numpy's own loop)."""
        out = np.empty(size)
        _philox_fill(*self._key_words(day, stream), out.reshape(-1))
        return out

    def uniform_at(self, day: int, stream: str, rows: np.ndarray) -> np.ndarray:
        """Elements ``rows`` of ``uniform(day, stream, size)`` (any size above the rows), made directly."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty(len(rows))
        _philox_at(*self._key_words(day, stream), rows, out)
        return out

    def normal_at(self, day: int, stream: str, rows: np.ndarray) -> np.ndarray:
        """Standard normal draws at ``rows`` by the inverse normal CDF of :meth:`uniform_at`: element ``i`` does not
        depend on which other rows are asked for (unlike :meth:`normal`, whose method consumes a varying count)."""
        return ndtri(self.uniform_at(day, stream, rows))

    def normal(self, day: int, stream: str, size) -> np.ndarray:
        """Standard normal float64 array of ``size`` for (day, stream)."""
        return self.generator(day, stream).standard_normal(size)

    def gumbel(self, day: int, stream: str, size, rows: np.ndarray | None = None) -> np.ndarray:
        """Standard Gumbel float64 array, -log(-log(u)), for (day, stream); only ``rows`` if given."""
        if rows is None:
            u = self.uniform(day, stream, size)
        else:  # rows of a (n, k) array: its flat elements k*row .. k*row + k-1
            k = size[1]
            flat = (k * np.asarray(rows, dtype=np.int64)[:, None] + np.arange(k)).reshape(-1)
            u = self.uniform_at(day, stream, flat).reshape(-1, k)
        np.clip(u, 1e-300, None, out=u)  # in place: -log(-log(u))
        np.log(u, out=u)
        np.negative(u, out=u)
        np.log(u, out=u)
        return np.negative(u, out=u)


# Philox4x64-10 as numpy implements it (Salmon et al. 2011, Random123): multipliers and Weyl key increments
_MASK64 = (1 << 64) - 1
_M0, _M1 = np.uint64(0xD2E7470EE14C6C93), np.uint64(0xCA5A826395121157)
_W0, _W1 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBB67AE8584CAA73B)
_LO32, _S32, _S11 = np.uint64(0xFFFFFFFF), np.uint64(32), np.uint64(11)


@njit(cache=True, nogil=True)
def _mulhilo(a, b):
    """High and low 64 bits of the 128-bit product of two uint64."""
    a_lo, a_hi, b_lo, b_hi = a & _LO32, a >> _S32, b & _LO32, b >> _S32
    p0, p1, p2, p3 = a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi
    mid = (p0 >> _S32) + (p1 & _LO32) + (p2 & _LO32)
    return p3 + (p1 >> _S32) + (p2 >> _S32) + (mid >> _S32), a * b


@njit(cache=True, nogil=True)
def _philox_block(key0, key1, block):
    """The four uint64 of block ``block`` (counter ``block + 1``: numpy increments it before its first block)."""
    c0, c1, c2, c3 = np.uint64(block + 1), np.uint64(0), np.uint64(0), np.uint64(0)
    k0, k1 = key0, key1
    for r in range(10):
        if r > 0:
            k0 += _W0
            k1 += _W1
        hi0, lo0 = _mulhilo(_M0, c0)
        hi1, lo1 = _mulhilo(_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


@njit(cache=True, nogil=True)
def _to_double(x):
    """numpy's double from a uint64: the top 53 bits / 2**53."""
    return (x >> _S11) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True)
def _philox_fill(key0, key1, out):
    """``Generator(Philox(key)).random(len(out))`` into ``out``."""
    n = len(out)
    for block in range((n + 3) // 4):
        c = _philox_block(key0, key1, block)
        for lane in range(min(4, n - 4 * block)):
            out[4 * block + lane] = _to_double(c[lane])


@njit(cache=True, nogil=True)
def _philox_at(key0, key1, rows, out):
    """``Generator(Philox(key)).random(size)[rows]`` into ``out``; a block is made once for a run of rows in it."""
    last = -1
    c = (np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0))
    for j in range(len(rows)):
        block = rows[j] // 4
        if block != last:
            last = block
            c = _philox_block(key0, key1, block)
        out[j] = _to_double(c[rows[j] % 4])
