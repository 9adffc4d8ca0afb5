"""Benchmark metrics: gap, time-to-target, success probability (Wilson interval), TTS(99 %), bootstrap CIs.

Every function is pure and works on plain numbers, so each can be checked by
hand. Objectives are in the problem's own sense (``sign`` is +1 to minimise,
-1 to maximise, as :attr:`hqopt.Sense.sign`).

Example:
    >>> time_to_target([(0.1, 12.0), (0.4, 10.0), (0.9, 9.0)], target=10.0, sign=1)
    0.4
    >>> round(tts(2.0, 0.5), 4)  # 2 s runs that succeed half of the time: 2 * ln(0.01)/ln(0.5)
    13.2877
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import NormalDist

import numpy as np

#: relative tolerance for "the target is reached": |target| * REACH_TOL (at least REACH_TOL)
REACH_TOL = 1e-9


def reached(objective: float | None, target: float, sign: int) -> bool:
    """True when ``objective`` is at least as good as ``target`` (within :data:`REACH_TOL`).

    >>> reached(-3414.0, -3414.0, 1), reached(2097.0, 2098.0, -1)
    (True, False)
    """
    if objective is None:
        return False
    return sign * (objective - target) <= REACH_TOL * max(1.0, abs(target))


def gap(objective: float | None, target: float, sign: int) -> float | None:
    """Relative distance to the target, positive when worse: ``sign*(objective-target)/|target|``.

    >>> gap(2000.0, 2098.0, -1)  # a maximisation 98 below its target
    0.04671115347950429
    """
    if objective is None:
        return None
    return sign * (objective - target) / max(abs(target), 1e-9) + 0.0  # + 0.0: no "-0.0"


def time_to_target(history: Sequence[Sequence[float]], target: float, sign: int) -> float | None:
    """The first elapsed time at which a verified improvement reached ``target``; None if never.

    ``history`` is :attr:`hqopt.Result.history`: ``(elapsed_seconds, objective)``
    of each verified feasible improvement, in time order.
    """
    for elapsed, objective in history:
        if reached(objective, target, sign):
            return float(elapsed)
    return None


def best_at(history: Sequence[Sequence[float]], times: Sequence[float]) -> list[float | None]:
    """The best objective found by each of ``times`` (a step function of ``history``; None before the first).

    >>> best_at([(0.5, 10.0), (1.5, 8.0)], [0.0, 1.0, 2.0])
    [None, 10.0, 8.0]
    """
    out: list[float | None] = []
    k, best = 0, None
    for t in times:
        while k < len(history) and history[k][0] <= t:
            best = float(history[k][1])
            k += 1
        out.append(best)
    return out


def success_probability(successes: Sequence[bool]) -> float:
    """The fraction of runs that reached the target.

    >>> success_probability([True, False, True, True])
    0.75
    """
    if not successes:
        return math.nan
    return sum(bool(s) for s in successes) / len(successes)


def wilson_interval(successes: Sequence[bool], confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a success probability; NaNs for no runs.

    Unlike a bootstrap it is not ``(1, 1)`` when every one of a few runs succeeds:
    two successes in two runs leave ``p`` anywhere above about 0.34.

    >>> [round(x, 3) for x in wilson_interval([True, True])]
    [0.342, 1.0]
    >>> [round(x, 3) for x in wilson_interval([True] * 15 + [False] * 5)]
    [0.531, 0.888]
    """
    n = len(successes)
    if n == 0:
        return (math.nan, math.nan)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = sum(bool(s) for s in successes) / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def tts(run_seconds: float, p: float, confidence: float = 0.99) -> float:
    """Time to solution: ``t * ln(1 - confidence) / ln(1 - p)`` seconds, the expected
    time of independent restarts of ``t``-second runs to reach the target with
    probability ``confidence``; ``t`` when ``p = 1``, infinite when ``p = 0``.

    >>> tts(1.0, 1.0), tts(1.0, 0.0), round(tts(1.0, 0.99), 6)
    (1.0, inf, 1.0)
    """
    if not 0.0 <= p <= 1.0 or math.isnan(p):
        return math.nan
    if p >= 1.0:
        return float(run_seconds)
    if p <= 0.0:
        return math.inf
    return run_seconds * math.log(1.0 - confidence) / math.log(1.0 - p)


def best_tts(times_to_target: Sequence[float], confidence: float = 0.99) -> tuple[float, float]:
    """TTS at the best restart time: ``min over t of tts(t, p(t))`` with ``p(t)`` the fraction of
    runs (``inf`` = never) that reached the target by ``t``; returns ``(tts, t)``.

    For anytime solvers whose runs are longer than needed: a 2 s run that
    always reaches the target at 0.05 s has TTS 2 s but a best TTS of 0.05 s.

    >>> value, t = best_tts([0.1, 0.2, math.inf, math.inf])  # 0.2 ln(0.01)/ln(0.5) < 0.1 ln(0.01)/ln(0.75)
    >>> round(value, 4), t
    (1.3288, 0.2)
    >>> best_tts([math.inf])
    (inf, inf)
    """
    reached_at = sorted(t for t in times_to_target if math.isfinite(t))
    best = (math.inf, math.inf)
    for k, t in enumerate(reached_at):
        value = tts(t, (k + 1) / len(times_to_target), confidence)
        if value < best[0]:
            best = (value, t)
    return best


def quantiles(values: Sequence[float], qs: Sequence[float] = (0.25, 0.5, 0.75)) -> list[float]:
    """Quantiles with infinite values kept (an unsuccessful run's time-to-target is ``inf``).

    Linear interpolation as :func:`numpy.quantile`; a quantile that falls among
    infinite values is ``inf``.

    >>> quantiles([1.0, 2.0, 3.0, math.inf])
    [1.75, 2.5, inf]
    """
    if not len(values):
        return [math.nan] * len(qs)
    data = np.sort(np.asarray(values, dtype=float))
    out = []
    for q in qs:
        pos = q * (len(data) - 1)
        lo, hi = math.floor(pos), math.ceil(pos)
        if math.isinf(data[hi]):  # sorted: only the upper neighbour can be the first inf
            out.append(math.inf)
        else:
            out.append(float(data[lo] + (data[hi] - data[lo]) * (pos - lo)))
    return out


def bootstrap_ci(
    values: Sequence[float],
    statistic: Callable[[np.ndarray], float] = np.mean,
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of ``statistic`` (seeded, so reports repeat).

    Resamples ``values`` with replacement ``resamples`` times and returns the
    ``(1-confidence)/2`` and ``(1+confidence)/2`` quantiles of the statistic.
    (A dozen lines of NumPy: scipy.stats.bootstrap would need SciPy in the core.)

    >>> bootstrap_ci([4.0, 4.0, 4.0])
    (4.0, 4.0)
    """
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, data.size, size=(resamples, data.size))
    stats = np.array([statistic(data[row]) for row in picks], dtype=float)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = quantiles(stats.tolist(), (alpha, 1.0 - alpha))
    return (lo, hi)


def median(values: np.ndarray) -> float:
    """The median, infinite values kept (see :func:`quantiles`); for :func:`bootstrap_ci`."""
    return quantiles(list(values), (0.5,))[0]


__all__ = [
    "REACH_TOL",
    "best_at",
    "best_tts",
    "bootstrap_ci",
    "gap",
    "median",
    "quantiles",
    "reached",
    "success_probability",
    "time_to_target",
    "tts",
    "wilson_interval",
]
