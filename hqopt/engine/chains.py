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
    (-1.0, 'mixed')
"""

from __future__ import annotations

import math
import pickle
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import dimod
import numpy as np

from hqopt.backends.base import seed_sequence
from hqopt.budget import Budget
from hqopt.engine import kernels as K
from hqopt.engine.problem import EngineProblem, build_problem, define
from hqopt.errors import BackendError

STRATEGIES = ("sa", "tabu", "mixed", "rts")
#: wall time one slice aims at in a timed run (seconds)
SLICE_SECONDS = 0.03
#: seconds a report may take for a run out of time to search one slice anyway (a small model's report)
FORCED_SLICE_REPORT_COST = 0.01
#: the most variables and quadratic terms of a model whose unstarted run is polished by a steepest descent (about 10 ms)
DESCENT_MAX_TERMS = 20_000
#: SA sweeps (moves per variable) in one anneal
SWEEPS = 1000
#: least seconds between two reports of improvements (each is verified by solve)
REPORT_GAP = 0.1
#: restarts from the best state begin at this fraction of T0
REHEAT = 0.3
#: random start + greedy repair, at most this many times while the result is infeasible
REPAIR_ATTEMPTS = 5

#: reports' worth of time a timed search keeps back for its end
END_REPORTS = 3

#: share of the time left when the chains start that their greedy repair may use (timed runs only)
REPAIR_SHARE = 0.5

#: ``info["compile"]`` of a run whose whole time limit went on compiling (``solve`` warns with it)
COLD_START = (
    "the ls engine was still compiling when the time limit ended (a cold numba cache), so the answer is a random "
    "start, not a search; compile once with `python -c \"import hqopt.engine as e; e.warmup()\"` or give more time"
)
#: ``info["compile"]`` of a run whose whole time limit went on starting the chains (compiled code, a large model)
SLOW_START = (
    "the ls engine was still starting its chains (a random start and greedy repair of each) when the time limit "
    "ended, so the answer is a random start, not a search; give more time"
)
#: ``info["stopped"]`` of a run stopped (not timed out) while starting its chains
STOPPED_AT_START = "stopped before the chains had started (another member of the race proved its answer, or Ctrl-C)"


def default_strategy(problem: EngineProblem) -> str:
    """Robust tabu for a pure permutation; for a QUBO ``mixed`` (annealing and 1-flip tabu chains
    side by side: SA wins on Gset, tabu on gka b, where SA stays 35-700 % off in 2 s); else annealing."""
    kind = problem.structure.kind
    return "rts" if kind == "permutation" else "mixed" if kind == "unconstrained" else "sa"


def chain_strategies(strategy: str, workers: int) -> list[str]:
    """The strategy of each chain: ``mixed`` alternates annealing and tabu chains.

    >>> chain_strategies("mixed", 3), chain_strategies("sa", 2)
    (['sa', 'tabu', 'sa'], ['sa', 'sa'])
    """
    if strategy == "mixed":
        return ["sa" if c % 2 == 0 else "tabu" for c in range(workers)]
    return [strategy] * workers


def check_strategy(problem: EngineProblem, strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise BackendError(f"backend 'ls': strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    kind = problem.structure.kind
    if strategy in ("tabu", "mixed") and kind != "unconstrained":
        raise BackendError(f"backend 'ls': strategy {strategy!r} needs an unconstrained binary model (QUBO); use 'sa'")
    if strategy == "rts" and kind != "permutation":
        raise BackendError("backend 'ls': strategy 'rts' needs a pure permutation model (QAP, assignment); use 'sa'")


def _untimed_units(problem: EngineProblem, strategy: str) -> int:
    """A chain's fixed work in an untimed run (moves or iterations), growing with size."""
    n = max(problem.num_variables, 1)
    if strategy == "sa":
        return int(min(4e7, max(5e5, 2 * SWEEPS * n)))
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


def _start(problem: EngineProblem, strategy: str, seed: int, enough: Callable[[], bool] = lambda: False) -> K.State:
    """A chain: random structure-keeping state, calibrated temperatures and weights, repaired.

    More random starts are repaired while the result is infeasible, until
    :data:`REPAIR_ATTEMPTS` or ``enough()`` (a timed run's share of its budget).
    """
    P = problem.arrays
    state = K.new_state(P, np.clip(np.zeros(len(P.lb), dtype=np.int64), P.lb, P.ub))
    K.seed_and_randomize(P, state, seed)
    K.calibrate(P, state, seed)
    n = max(problem.num_variables, 1)
    state.scal[K.LENGTH] = SWEEPS * n
    state.scal[K.REHEAT] = REHEAT
    if problem.num_rows or problem.structure.groups:
        K.greedy(P, state, seed, 50)
        for attempt in range(1, REPAIR_ATTEMPTS):  # more random starts while the repair ends infeasible
            if state.scal[K.BEST_VIOL] <= K.TOL or enough():
                break
            K.seed_and_randomize(P, state, seed + attempt)
            if attempt == 1:  # free binaries where they give the rows most room (e.g. every facility open)
                state.x[P.free] = np.where(_roomy(problem), P.ub[P.free], P.lb[P.free])
                K.refresh(P, state)
            K.greedy(P, state, seed + attempt, 50)
        state.x[:] = state.best_x
        K.refresh(P, state)
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


def _roomy(problem: EngineProblem) -> np.ndarray:
    """Per free variable: does raising it loosen its inequality rows overall (negative ``<=`` weight)?"""
    P = problem.arrays
    sign = np.select([P.sense == 0, P.sense == 1], [1.0, -1.0], 0.0)
    rows = np.repeat(np.arange(len(P.rhs)), np.diff(P.rptr))
    pull = np.bincount(P.rcol, weights=P.rval * sign[rows], minlength=problem.num_variables)
    return pull[P.free] < 0


def _descend_unconstrained(problem: EngineProblem, cqm: dimod.ConstrainedQuadraticModel, x: np.ndarray) -> np.ndarray | None:
    """``x`` improved by steepest descent (dwave-samplers, compiled ahead of time: no numba to wait for),
    for a small unconstrained binary model whose chains could not start in time; ``None`` for any other.

    A QUBO's local minimum costs a few ms; for 20 variables it is often the optimum, where the random start
    is thousands above it. A model with constraints (one-hot groups and permutations too: the engine keeps
    them as structure, not rows) keeps its random start: a descent on the objective would break them. A
    large one does too: the time is already up, and building its BQM alone takes longer than the grace.
    """
    if cqm.constraints or cqm.objective.num_variables + cqm.objective.num_interactions > DESCENT_MAX_TERMS:
        return None  # (checked before any per-variable loop: the time is already up)
    if any(cqm.vartype(v) is not dimod.BINARY for v in cqm.variables):
        return None
    from dwave.samplers import SteepestDescentSolver

    objective = cqm.objective
    bqm = dimod.BQM(objective.linear, objective.quadratic, objective.offset, dimod.BINARY)
    best = SteepestDescentSolver().sample(bqm, initial_states=(x[None, :], problem.labels)).first.sample
    return np.array([best[v] for v in problem.labels], dtype=x.dtype)


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
    return define(P, x)


def _start_all(problem: EngineProblem, plan: list[str], seeds: list[int], budget: Budget) -> list[K.State] | None:
    """The chains' start states, or None when the deadline comes first (a cold JIT compile, a large model).

    Each chain starts in a daemon thread of its own; a compile left running
    goes on there so the next run finds it cached (the command line waits
    for it before exiting: :func:`finish_compile`). A timed run's repairs stop
    at :data:`REPAIR_SHARE` of the time left.
    """
    repair_until = time.perf_counter() + REPAIR_SHARE * budget.remaining() if budget.limited else math.inf
    done: dict[int, K.State] = {}

    def start(c: int) -> None:
        done[c] = _start(problem, plan[c], seeds[c], lambda: time.perf_counter() >= repair_until)

    # one thread a chain (the kernels release the GIL): a large model's repairs run side by side
    workers = [threading.Thread(target=start, args=(c,), name=COMPILE_THREAD, daemon=True) for c in range(len(plan))]
    for worker in workers:
        worker.start()
    for worker in workers:
        while worker.is_alive() and not budget.expired():
            worker.join(timeout=min(0.05, max(budget.remaining(), 1e-3)))
    return [done[c] for c in range(len(plan))] if len(done) == len(plan) else None


_KERNELS = {"sa": K.anneal, "tabu": K.tabu_flips, "rts": K.robust_tabu}
#: name of the threads that start the chains (and compile the kernels on a cold cache)
COMPILE_THREAD = "ls-engine-compile"


def compiling() -> bool:
    """Whether a run left the kernels' compile going on in the background (a cold numba cache)."""
    return any(t.name == COMPILE_THREAD and t.is_alive() for t in threading.enumerate())


def finish_compile(timeout: float | None = None) -> bool:
    """Wait for background compiles to finish (so numba's cache holds them); False if ``timeout`` came first.

    A process that exits while a compile runs loses it: numba caches each
    kernel only when its compile ends, so a string of short runs on a fresh
    install would each start a compile and never finish one.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    for t in threading.enumerate():
        if t.name == COMPILE_THREAD:
            t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
    return not compiling()


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
    """Restart the worst chain from the race's incumbent if it is feasible and better than every chain;
    that chain then works around its best (on a large tight model a random restart rarely gets back)."""
    if not incumbent:
        return False
    P = problem.arrays
    x = np.array([round(incumbent.get(v, lb)) for v, lb in zip(problem.labels, P.lb)], dtype=np.int64)
    if problem.num_rows and problem.violations(x).max(initial=0.0) > K.TOL:
        return False
    best = min(chains, key=_rank)
    value = problem.objective(x) - problem.offset
    if not problem.consistent(x) or (_rank(best)[0] <= K.TOL and value >= _rank(best)[1] - 1e-9):
        return False
    worst = max(chains, key=_rank)
    worst.x[:] = x
    K.calibrate(P, worst, 0)  # temperatures and weights from the moves around the incumbent
    K.keep_best(P, worst)
    worst.scal[K.STEP] = 0.0  # a new anneal from it, reheated as from a best state
    worst.scal[K.TEMP] = worst.scal[K.T0] * worst.scal[K.REHEAT]
    worst.ints[K.ELITE] = 1  # its anneals restart from its best, never from a random state
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
    plan = chain_strategies(strategy, workers)
    kernels = [_KERNELS[k] for k in plan]
    t0 = time.perf_counter()
    seeds = seed_sequence(seed, workers)
    started = _start_all(problem, plan, seeds, budget)
    start_s = time.perf_counter() - t0
    if started is None:
        x = _random_state(problem, seeds[0])
        budget.report(problem.samples(x[None, :], cqm))  # first: whatever follows, the run has an answer
        descended = None if budget.stopped and budget.remaining() > 0 else _descend_unconstrained(problem, cqm, x)
        if descended is not None:
            x = descended
            budget.report(problem.samples(x[None, :], cqm))
        info: dict[str, Any] = {"strategy": strategy, "workers": workers, "start_seconds": round(start_s, 4)}
        if budget.stopped and budget.remaining() > 0:  # a stop before the deadline: a race member's proof, Ctrl-C
            info["stopped"] = STOPPED_AT_START
        else:  # the clock ran out
            info["compile"] = SLOW_START if jit_ready() else COLD_START
            if descended is not None:
                info["compile"] = info["compile"].replace(
                    "the answer is a random start, not a search", "the answer is a greedy descent from a random start, not a search"
                )
        return SearchResult(x[None, :], problem.objective(x), float(problem.violations(x).sum()), info)
    chains = started
    # one copy of the arrays per chain: threads sharing one copy contend on its reference counts
    own = [P] + [type(P)(*(a.copy() for a in P)) for _ in range(workers - 1)]
    units = [_slice_units(problem, k) for k in plan]
    totals = [None if budget.limited else _untimed_units(problem, k) for k in plan]
    done = [0] * workers
    slices = adopted = 0
    reported = (math.inf, math.inf)

    last_report = -math.inf
    report_cost = 0.0

    def report() -> None:
        """Hand a new best to the Budget: the first feasible one at once, later ones spaced so that
        verifying them (solve does, while the chains wait) takes at most a tenth of the time."""
        nonlocal reported, last_report, report_cost
        best = min(chains, key=_rank)
        rank = _rank(best)
        first_feasible = rank[0] <= K.TOL < reported[0]
        gap = max(REPORT_GAP, 10 * report_cost)
        if rank < reported and (first_feasible or time.perf_counter() - last_report >= gap):
            reported = rank
            last_report = time.perf_counter()
            budget.report(problem.samples(best.best_x[None, :], cqm))
            report_cost = time.perf_counter() - last_report

    _adopt_incumbent(problem, initial, chains)
    report()
    margin = min(0.2, 0.03 * budget.time_limit) if budget.time_limit is not None else 0.0  # for solve's final verification
    # the end (one SampleSet of the chains' states, then solve's check of it) costs one to two reports
    # however many chains (a SampleSet's cost is per variable, not per state); three leave room for a
    # loaded machine: a backend still running past the deadline is left behind with only what it reported
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # one first slice (a few ms) even when starting the chains used up the time: else the answer would be
        # the random starts, unsearched (a 20-variable QUBO at 1 s on a loaded machine); not after a stop, and
        # not on a model whose report is slow (a large one, whose slice is too: it would overrun the limit)
        while (slices == 0 and report_cost < FORCED_SLICE_REPORT_COST and not (budget.stopped and budget.remaining() > 0)) or (
            not budget.expired() and budget.remaining() > max(margin, END_REPORTS * report_cost)
        ):
            steps = [u if t is None else min(u, t - d) for u, t, d in zip(units, totals, done)]
            if max(steps) <= 0:
                break
            t_slice = time.perf_counter()
            slice_seeds = [(s * 1_000_003 + slices) & 0x7FFFFFFF for s in seeds]
            active = [c for c in range(workers) if steps[c] > 0]
            list(pool.map(lambda c: kernels[c](own[c], chains[c], steps[c], slice_seeds[c]), active))
            slices += 1
            for c in active:
                done[c] += steps[c]
            report()
            if budget.limited:
                took = max(time.perf_counter() - t_slice, 1e-4)
                target = min(SLICE_SECONDS, max(budget.remaining(), 1e-3) / 2)
                for c in active:
                    if slices == 1 and plan[c] == "sa":  # anneals long enough to cool, short enough to restart
                        per_anneal = steps[c] / took * budget.remaining() / 4
                        chains[c].scal[K.LENGTH] = min(chains[c].scal[K.LENGTH], max(20.0 * problem.num_variables, per_anneal))
                    units[c] = int(max(1, min(units[c] * 4, units[c] * target / took)))
                if slices % 10 == 0 and _adopt_incumbent(problem, budget.incumbent(), chains):
                    adopted += 1
    best = min(chains, key=_rank)
    order = sorted(chains, key=_rank)
    states = np.unique(np.stack([c.best_x for c in order]), axis=0)  # solve verifies these: few, distinct
    info = {
        "strategy": strategy,
        "workers": workers,
        "slices": slices,
        "work_per_chain": done[0] if len(set(done)) == 1 else done,
        "work_unit": {"sa": "moves", "mixed": "moves (sa chains) / iterations (tabu chains)"}.get(strategy, "iterations"),
        "start_seconds": round(start_s, 4),
        "search_seconds": round(time.perf_counter() - t0 - start_s, 4),
        "restarts": int(sum(c.ints[K.ANNEALS] for c in chains)),
        "incumbents_adopted": adopted,
    }
    return SearchResult(states, float(best.scal[K.BEST_OBJ]) + problem.offset, float(best.scal[K.BEST_VIOL]), info)


def jit_ready() -> bool:
    """Whether every compiled kernel is loaded in this process or cached on disk for this source.

    When it is not, the first ``ls`` run of a process spends its first seconds
    (about 25 s on a fresh install, 2 cores) compiling; ``auto`` then runs
    another backend beside it. Reads numba's cache index files, which numba
    disowns when the kernels' source changed (an upgrade): such a cache is
    not ready. If numba's layout is not as expected, the answer is a cautious False.
    """
    dispatchers: list[Any] = [K.refresh, K.keep_best, K.calibrate, K.greedy, K.seed_and_randomize, *_KERNELS.values()]
    try:
        return all(f.signatures or f._cache._cache_file._load_index() for f in dispatchers)  # noqa: SLF001
    except (AttributeError, OSError, ValueError, EOFError, pickle.UnpicklingError):
        return False


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
