"""Independent search chains on all cores, run in short slices that report to the Budget.

Each chain is a :class:`~hqopt.engine.kernels.State` driven by one compiled
strategy (``sa``, ``tabu`` or ``rts``). The chains of one slice run in threads
(the kernels release the GIL); between slices the Python side reports a new
best at once, checks the deadline / stop flag and, in a timed run, restarts
the worst chain from the race's incumbent when that is better.

Seeds: chain ``c`` gets ``seed_sequence(seed, workers)[c]``; slice ``k`` of a
chain reseeds the kernel's generator from (chain seed, k). An untimed run does
a fixed number of fixed-size slices, so the same seed and ``workers`` replay it.

Example:
    >>> import dimod
    >>> from hqopt.budget import Budget
    >>> from hqopt.engine.problem import build_problem
    >>> cqm = dimod.CQM.from_bqm(dimod.BQM({0: -1.0, 1: -1.0}, {(0, 1): 3.0}, 0, "BINARY"))
    >>> result = search(build_problem(cqm), cqm, Budget(None), seed=3, workers=2)
    >>> result.best_objective, result.info["strategy"]
    (-1.0, 'tabu')
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import dimod
import numpy as np

from hqopt.backends.base import seed_sequence
from hqopt.budget import Budget
from hqopt.engine import kernels as K
from hqopt.engine.problem import EngineProblem
from hqopt.errors import BackendError

STRATEGIES = ("sa", "tabu", "rts")
#: wall time one slice aims at in a timed run (seconds)
SLICE_SECONDS = 0.03
#: SA sweeps (moves per variable) in one anneal
SWEEPS = 1000


def default_strategy(problem: EngineProblem) -> str:
    """Robust tabu for a pure permutation, 1-flip tabu for QUBO, annealing otherwise."""
    kind = problem.structure.kind
    return {"permutation": "rts", "unconstrained": "tabu"}.get(kind, "sa")


def check_strategy(problem: EngineProblem, strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise BackendError(f"backend 'ls': strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    kind = problem.structure.kind
    if strategy == "tabu" and kind != "unconstrained":
        raise BackendError("backend 'ls': strategy 'tabu' needs an unconstrained binary model (QUBO); use 'sa'")
    if strategy == "rts" and kind != "permutation":
        raise BackendError("backend 'ls': strategy 'rts' needs a pure permutation model (QAP, assignment); use 'sa'")


def _untimed_units(problem: EngineProblem, strategy: str) -> int:
    """A chain's fixed work in an untimed run (moves or iterations), growing with size."""
    n = max(problem.num_variables, 1)
    if strategy == "sa":
        return int(min(4e7, max(4e6, 4 * SWEEPS * n)))
    if strategy == "tabu":
        return int(min(2e5, max(2e4, 100 * n)))
    groups = problem.arrays.perm.shape[0]
    return int(min(1e5, max(5e3, 100 * groups * groups)))


def _slice_units(problem: EngineProblem, strategy: str) -> int:
    """First slice's size: a few ms of work (timed runs then adapt it to SLICE_SECONDS)."""
    n = max(problem.num_variables, 1)
    if strategy == "sa":
        return 200_000
    if strategy == "tabu":
        return max(20, 200_000 // n)
    groups = max(problem.arrays.perm.shape[0], 2)
    return max(10, 400_000 // (groups * groups))


def _start(problem: EngineProblem, strategy: str, seed: int) -> K.State:
    """A chain: random structure-keeping state, calibrated temperatures and weights, repaired."""
    P = problem.arrays
    state = K.new_state(P, np.clip(np.zeros(len(P.lb), dtype=np.int64), P.lb, P.ub))
    K.seed_and_randomize(P, state, seed)
    K.calibrate(P, state, seed)
    if problem.num_rows or problem.structure.groups:
        K.greedy(P, state, seed, 50)
    n = max(problem.num_variables, 1)
    state.scal[K.LENGTH] = SWEEPS * n
    state.scal[K.REHEAT] = 0.3
    if strategy == "tabu":
        state.ints[K.TENURE_MIN] = max(1, n // 100)
        state.ints[K.TENURE_MAX] = 10
        state.ints[K.STALL_LIMIT] = max(2000, 10 * n)
    elif strategy == "rts":
        groups = P.perm.shape[0]
        state.ints[K.TENURE_MIN] = max(1, int(0.9 * groups))
        state.ints[K.TENURE_MAX] = max(2, math.ceil(1.1 * groups))
        state.ints[K.STALL_LIMIT] = 5 * groups * groups
    K.refresh(P, state)
    K.keep_best(P, state)
    return state


_KERNELS = {"sa": K.anneal, "tabu": K.tabu_flips, "rts": K.robust_tabu}


@dataclass
class SearchResult:
    """The chains' best states (index order) and facts for BackendOutput.info."""

    states: np.ndarray
    best_objective: float
    best_violation: float
    info: dict[str, Any] = field(default_factory=dict)


def _rank(state: K.State) -> tuple[float, float]:
    return float(state.scal[K.BEST_VIOL]), float(state.scal[K.BEST_OBJ])


def _adopt_incumbent(problem: EngineProblem, incumbent: dict[Any, float] | None, chains: list[K.State]) -> bool:
    """Restart the worst chain from the race's incumbent if it is feasible and better than every chain."""
    if not incumbent:
        return False
    P = problem.arrays
    x = np.array([round(incumbent.get(v, lb)) for v, lb in zip(problem.labels, P.lb)], dtype=np.int64)
    if problem.num_rows and problem.violations(x).max(initial=0.0) > K.TOL:
        return False
    groups_ok = all(x[P.gvars[P.gptr[g]:P.gptr[g + 1]]].sum() == 1 for g in range(len(P.gptr) - 1))
    best = min(chains, key=_rank)
    value = problem.objective(x) - problem.offset
    if not groups_ok or _rank(best)[0] > K.TOL or value >= _rank(best)[1] - 1e-9:
        return False
    worst = max(chains, key=_rank)
    worst.x[:] = x
    K.refresh(P, worst)
    K.keep_best(P, worst)
    return True


def search(
    problem: EngineProblem,
    cqm: dimod.ConstrainedQuadraticModel,
    budget: Budget,
    seed: int | None,
    *,
    workers: int,
    strategy: str | None = None,
) -> SearchResult:
    """Run ``workers`` chains of ``strategy`` until the budget ends (or a fixed amount of work without one)."""
    strategy = strategy or default_strategy(problem)
    check_strategy(problem, strategy)
    P = problem.arrays
    kernel = _KERNELS[strategy]
    t0 = time.perf_counter()
    seeds = seed_sequence(seed, workers)
    chains = [_start(problem, strategy, s) for s in seeds]
    start_s = time.perf_counter() - t0
    units = _slice_units(problem, strategy)
    total = None if budget.limited else _untimed_units(problem, strategy)
    done = slices = adopted = 0
    reported = (math.inf, math.inf)

    def report() -> None:
        nonlocal reported
        best = min(chains, key=_rank)
        if _rank(best) < reported:
            reported = _rank(best)
            budget.report(problem.samples(best.best_x[None, :], cqm))

    report()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while not budget.expired():
            step = units if total is None else min(units, total - done)
            if step <= 0:
                break
            t_slice = time.perf_counter()
            slice_seeds = [(s * 1_000_003 + slices) & 0x7FFFFFFF for s in seeds]
            list(pool.map(kernel, [P] * workers, chains, [step] * workers, slice_seeds))
            slices += 1
            done += step
            report()
            if total is None:
                took = max(time.perf_counter() - t_slice, 1e-4)
                target = min(SLICE_SECONDS, max(budget.remaining(), 1e-3) / 2)
                units = int(max(1, min(units * 4, units * target / took)))
                if slices % 10 == 0 and _adopt_incumbent(problem, budget.incumbent(), chains):
                    adopted += 1
    best = min(chains, key=_rank)
    order = sorted(chains, key=_rank)
    states = np.unique(np.stack([c.best_x for c in order]), axis=0)
    info = {
        "strategy": strategy,
        "workers": workers,
        "slices": slices,
        "work_per_chain": done,
        "work_unit": "moves" if strategy == "sa" else "iterations",
        "start_seconds": round(start_s, 4),
        "search_seconds": round(time.perf_counter() - t0 - start_s, 4),
        "restarts": int(sum(c.ints[K.ANNEALS] for c in chains)),
        "incumbents_adopted": adopted,
    }
    return SearchResult(states, float(best.scal[K.BEST_OBJ]) + problem.offset, float(best.scal[K.BEST_VIOL]), info)
