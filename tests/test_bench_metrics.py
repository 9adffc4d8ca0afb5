"""Benchmark metrics against hand computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hqopt.bench.metrics import (
    best_at,
    best_tts,
    bootstrap_ci,
    gap,
    median,
    quantiles,
    reached,
    success_probability,
    time_to_target,
    tts,
)

# a synthetic minimisation run: verified improvements at these elapsed seconds
HISTORY = [(0.2, 50.0), (0.7, 42.0), (1.3, 40.0), (2.0, 39.0)]


def test_time_to_target_from_a_synthetic_history() -> None:
    assert time_to_target(HISTORY, 40.0, sign=1) == 1.3  # first point at or below 40
    assert time_to_target(HISTORY, 41.0, sign=1) == 1.3  # 42 is not good enough
    assert time_to_target(HISTORY, 50.0, sign=1) == 0.2
    assert time_to_target(HISTORY, 38.0, sign=1) is None  # never reached
    assert time_to_target([], 1.0, sign=1) is None
    rising = [(0.1, 5.0), (0.4, 9.0), (0.8, 11.0)]  # a maximisation
    assert time_to_target(rising, 9.0, sign=-1) == 0.4
    assert time_to_target(rising, 12.0, sign=-1) is None
    assert time_to_target([(0.5, 40.0 + 1e-12)], 40.0, sign=1) == 0.5  # within the reach tolerance


def test_reached_and_gap() -> None:
    assert reached(2098.0, 2098.0, -1) and not reached(2097.0, 2098.0, -1) and not reached(None, 1.0, 1)
    assert gap(2000.0, 2098.0, -1) == pytest.approx(98 / 2098)  # max: 98 below
    assert gap(-3300.0, -3414.0, 1) == pytest.approx(114 / 3414)  # min: 114 above
    assert gap(-3414.0, -3414.0, 1) == 0.0
    assert gap(None, 1.0, 1) is None


def test_best_at_is_the_step_function_of_the_history() -> None:
    assert best_at(HISTORY, [0.0, 0.2, 1.0, 1.99, 5.0]) == [None, 50.0, 42.0, 40.0, 39.0]


def test_success_probability_by_hand() -> None:
    assert success_probability([True, False, False, True, True]) == 0.6
    assert success_probability([False] * 3) == 0.0
    assert math.isnan(success_probability([]))


def test_tts_by_hand() -> None:
    # t = 2 s, p = 0.6: 2 * ln(0.01) / ln(0.4) = 2 * (-4.605170) / (-0.916291) = 10.051766
    assert tts(2.0, 0.6) == pytest.approx(10.051766, abs=1e-6)
    assert tts(2.0, 1.0) == 2.0  # always succeeds: one run
    assert tts(2.0, 0.0) == math.inf  # never succeeds
    assert tts(3.0, 0.99) == pytest.approx(3.0)  # p equal to the confidence: one run
    assert tts(1.0, 0.5, confidence=0.75) == pytest.approx(2.0)  # ln(0.25)/ln(0.5) = 2
    assert math.isnan(tts(1.0, 1.5))


def test_quantiles_keep_infinite_times() -> None:
    # positions 0.75, 1.5, 2.25 in [1, 2, 3, inf]
    assert quantiles([3.0, 1.0, math.inf, 2.0]) == [1.75, 2.5, math.inf]
    assert quantiles([math.inf, math.inf, 1.0], (0.0, 0.5)) == [1.0, math.inf]
    assert median(np.array([4.0, 1.0, 2.0])) == 2.0


def test_bootstrap_by_hand() -> None:
    assert bootstrap_ci([7.0] * 5) == (7.0, 7.0)
    # two points: the mean of a resample is 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4,
    # so the 40 % central interval (30th..70th percentile) is {0.5} and the 95 % one is [0, 1]
    assert bootstrap_ci([0.0, 1.0], confidence=0.4, resamples=4000) == (0.5, 0.5)
    assert bootstrap_ci([0.0, 1.0], confidence=0.95, resamples=4000) == (0.0, 1.0)
    assert bootstrap_ci([1.0, 2.0, 9.0], seed=3) == bootstrap_ci([1.0, 2.0, 9.0], seed=3)  # seeded
    assert all(math.isnan(x) for x in bootstrap_ci([]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=12), st.sampled_from([0.5, 0.9, 0.95]))
def test_bootstrap_interval_is_ordered_and_inside_the_data(values, confidence) -> None:
    lo, hi = bootstrap_ci(values, confidence=confidence, resamples=200)
    assert min(values) - 1e-6 <= lo <= hi <= max(values) + 1e-6


def test_analyse_summarises_runs_by_hand() -> None:
    from hqopt.bench.report import analyse

    def run(seed: int, history: list, wall: float = 2.0) -> dict:
        objective = history[-1][1] if history else None
        return {"instance": "i", "solver": "s", "seed": seed, "sense": "max", "objective": objective,
                "feasible": objective is not None, "history": history, "wall_seconds": wall, "time_limit": 2.0}  # fmt: skip

    runs = [
        run(0, [(0.2, 80.0), (0.5, 100.0)]),  # reaches the target 100 at 0.5 s
        run(1, [(1.0, 100.0)]),  # at 1.0 s
        run(2, [(0.3, 90.0)]),  # never: gap 10 %
        run(3, [(3.5, 100.0)]),  # too late: 3.5 s > 2 s + 0.5 s allowed overrun
        run(4, []),  # nothing feasible: no gap
    ]
    report = analyse(runs, {"i": (100.0, "given")})
    s = report.summary[0]
    assert [r["success"] for r in report.runs] == [True, True, False, False, False]
    assert s["success"] == pytest.approx(2 / 5) and s["feasible"] == 4
    # TTT values sorted: 0.5, 1.0, inf, inf, inf -> q1 at position 1 = 1.0, median at 2 = inf
    assert (s["ttt_q1"], s["ttt_median"]) == (1.0, math.inf)
    assert s["tts99"] == pytest.approx(2.0 * math.log(0.01) / math.log(0.6))  # t = 2 s mean wall time
    assert s["mean_gap"] == pytest.approx(0.10 / 4)  # gaps 0, 0, 0.10, 0 over the 4 feasible runs
    assert s["best_objective"] == 100.0


def test_best_tts_by_hand() -> None:
    # t = 0.1: p = 1/4, 0.1 * ln(0.01)/ln(0.75) = 1.6008; t = 0.2: p = 2/4, 0.2 * ln(0.01)/ln(0.5) = 1.3288
    value, at = best_tts([0.2, math.inf, 0.1, math.inf])
    assert at == 0.2 and value == pytest.approx(1.328771, abs=1e-6)
    assert best_tts([0.05, 0.07]) == (0.07, 0.07)  # p = 1 at 0.07 s: one run of 0.07 s
    assert best_tts([math.inf, math.inf]) == (math.inf, math.inf)


def test_wilson_interval_by_hand_and_against_a_bootstrap_on_few_runs() -> None:
    from hqopt.bench.metrics import wilson_interval

    lo, hi = wilson_interval([True, True])
    assert round(lo, 3) == 0.342 and hi == 1.0  # a bootstrap says (1, 1): all resamples are successes
    assert bootstrap_ci([1.0, 1.0]) == (1.0, 1.0)
    lo, hi = wilson_interval([True] * 15 + [False] * 5)  # p = 0.75, z = 1.96: textbook 0.531 .. 0.888
    assert (round(lo, 3), round(hi, 3)) == (0.531, 0.888)
    assert wilson_interval([False] * 4)[0] == 0.0 and wilson_interval([False] * 4)[1] < 0.5
    assert all(math.isnan(x) for x in wilson_interval([]))
