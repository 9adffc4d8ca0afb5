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
    (-1.0, 'sa')
"""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import dimod
import numpy as np

from hqopt.backends.base import seed_sequence
from hqopt.budget import Budget
from hqopt.engine import kernels as K
from hqopt.engine.problem import EngineProblem, build_problem
from hqopt.errors import BackendError

STRATEGIES = ("sa", "tabu", "rts")
#: wall time one slice aims at in a timed run (seconds)
SLICE_SECONDS = 0.03
#: SA sweeps (moves per variable) in one anneal
SWEEPS = 1000


def default_strategy(problem: EngineProblem) -> str:
    """Robust tabu for a pure permutation, annealing otherwise (measured: SA beats 1-flip tabu on Gset)."""
    kind = problem.structure.kind
    return "rts" if kind == "permutation" else "sa"


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
        return 20_000 if problem.num_rows or problem.structure.groups else 200_000
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
    n = max(problem.num_variables, 1)
    state.scal[K.LENGTH] = SWEEPS * n
    state.scal[K.REHEAT] = 0.3
    if problem.num_rows or problem.structure.groups:
        K.greedy(P, state, seed, 50)
        state.scal[K.TEMP] = state.scal[K.T0] * state.scal[K.REHEAT]  # don't melt the repaired start
    if strategy == "tabu":
        state.ints[K.TENURE_MIN] = max(1, n // 100)
        state.ints[K.TENURE_MAX] = 10
        state.ints[K.STALL_LIMIT] = max(2000, 10 * n)
    elif strategy == "rts":
        groups = P.perm.shape[0]
        state.ints[K.TENURE_MIN] = max(1, int(0.9 * groups))
        state.ints[K.TENURE_MAX] = max(2, math.ceil(1.1 * groups))
        state.ints[K.STALL_LIMIT] = 5 * groups * groups
    _KERNELS[strategy](P, state, 0, seed)  # compiles the strategy's kernel (JIT) if needed
    return state


def _random_state(problem: EngineProblem, seed: int) -> np.ndarray:
    """A structure-keeping random assignment made in NumPy (when the compiled code is not ready)."""
    P = problem.arrays
    rng = np.random.default_rng(seed)
    x = P.lb.copy()
    binary = P.free[P.ub[P.free] - P.lb[P.free] == 1]
    x[binary] += rng.integers(0, 2, len(binary))
    if P.perm.shape[0]:
        x[P.perm[np.arange(P.perm.shape[0]), rng.permutation(P.perm.shape[1])[: P.perm.shape[0]]]] = 1
    else:
        for g in range(len(P.gptr) - 1):
            x[P.gvars[rng.integers(P.gptr[g], P.gptr[g + 1])]] = 1
    return x


def _start_all(problem: EngineProblem, strategy: str, seeds: list[int], budget: Budget) -> list[K.State] | None:
    """The chains' start states, or None when the deadline comes first (a cold JIT compile).

    The compile goes on in a daemon thread so the next run finds it cached.
    """
    done: list[list[K.State]] = []
    worker = threading.Thread(target=lambda: done.append([_start(problem, strategy, s) for s in seeds]), daemon=True)
    worker.start()
    while worker.is_alive() and not budget.expired():
        worker.join(timeout=min(0.05, max(budget.remaining(), 1e-3)))
    return done[0] if done else None


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
    initial: dict[Any, float] | None = None,
) -> SearchResult:
    """Run ``workers`` chains of ``strategy`` until the budget ends (or a fixed amount of work without one).

    ``initial`` (a feasible assignment better than every start) replaces the worst chain's start.
    """
    strategy = strategy or default_strategy(problem)
    check_strategy(problem, strategy)
    P = problem.arrays
    kernel = _KERNELS[strategy]
    t0 = time.perf_counter()
    seeds = seed_sequence(seed, workers)
    started = _start_all(problem, strategy, seeds, budget)
    start_s = time.perf_counter() - t0
    if started is None:
        x = _random_state(problem, seeds[0])
        budget.report(problem.samples(x[None, :], cqm))
        info = {"strategy": strategy, "workers": workers, "start_seconds": round(start_s, 4),
                "compile": "not finished within the time limit (cold numba cache): a random start is returned"}
        return SearchResult(x[None, :], problem.objective(x), float(problem.violations(x).sum()), info)
    chains = started
    # one copy of the arrays per chain: threads sharing one copy contend on its reference counts
    own = [P] + [type(P)(*(a.copy() for a in P)) for _ in range(workers - 1)]
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

    _adopt_incumbent(problem, initial, chains)
    report()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while not budget.expired():
            step = units if total is None else min(units, total - done)
            if step <= 0:
                break
            t_slice = time.perf_counter()
            slice_seeds = [(s * 1_000_003 + slices) & 0x7FFFFFFF for s in seeds]
            list(pool.map(kernel, own, chains, [step] * workers, slice_seeds))
            slices += 1
            done += step
            report()
            if total is None:
                took = max(time.perf_counter() - t_slice, 1e-4)
                target = min(SLICE_SECONDS, max(budget.remaining(), 1e-3) / 2)
                if slices == 1 and strategy == "sa":  # anneals long enough to cool, short enough to restart
                    per_anneal = step / took * budget.remaining() / 4
                    for c in chains:
                        c.scal[K.LENGTH] = min(c.scal[K.LENGTH], max(20.0 * problem.num_variables, per_anneal))
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


def warmup() -> float:
    """Compile (or load from numba's cache) every kernel on tiny problems; returns the seconds it took.

    The first ``ls`` run on a fresh install otherwise spends its time limit
    compiling: ``python -c "import hqopt.engine as e; e.warmup()"`` once after
    installing avoids that.
    """
    t0 = time.perf_counter()
    qubo = dimod.CQM.from_bqm(dimod.BQM({0: -1.0, 1: -1.0, 2: 1.0}, {(0, 1): 3.0}, 0, "BINARY"))
    perm, capacitated = _tiny_assignment(False), _tiny_assignment(True)
    for cqm, strategy in ((qubo, "tabu"), (qubo, "sa"), (perm, "rts"), (capacitated, "sa")):
        search(build_problem(cqm), cqm, Budget(None), 0, workers=1, strategy=strategy)
    return time.perf_counter() - t0


def _tiny_assignment(capacity: bool) -> dimod.ConstrainedQuadraticModel:
    """A 3x3 assignment CQM (a permutation; with ``capacity`` also one penalised row)."""
    cqm = dimod.CQM()
    x = [[dimod.Binary((i, p)) for p in range(3)] for i in range(3)]
    cqm.set_objective(x[0][0] * x[1][1] + x[2][2] * x[0][1])
    for i in range(3):
        cqm.add_constraint(sum(x[i]) == 1)
        cqm.add_constraint(sum(x[j][i] for j in range(3)) == 1)
    if capacity:
        cqm.add_constraint(x[0][0] + x[1][0] <= 1)
    return cqm
