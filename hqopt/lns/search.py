"""The LNS loop: destroy, build the sub-problem, repair with a sub-solver, accept, account.

Each iteration the :class:`~hqopt.lns.ledger.Ledger` picks a sub-solver, an
operator of :mod:`hqopt.lns.neighbourhoods` frees about ``k`` variables (``k``
per sub-solver, see :func:`adapt_k`), :func:`~hqopt.lns.subproblem.restrict`
builds the sub-CQM, and ``hqopt.solve`` repairs it on the sub-solver -- the
one solving path, so sub-problems are compiled (penalties for BQM solvers) and
verified like any solve, with the incumbent's values as a warm start. Each
sub-solver is one backend instance for the whole run, so a QPU is reached (or
the mock's graph loaded) once, not once per sub-problem. The
completed assignment is re-evaluated on the full model; it is accepted when it
is better (less total violation, then lower objective) and then reported to
the budget at once.

Untimed runs do :data:`DEFAULT_ITERATIONS` iterations (or stop after
:data:`DEFAULT_PATIENCE` without improvement) and replay exactly for a seed
when the sub-solvers do (cpsat runs single-threaded here).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import dimod
import numpy as np

from hqopt.backends.base import Backend
from hqopt.backends.registry import backend_class, get_backend
from hqopt.budget import Budget
from hqopt.compile import compile_for
from hqopt.errors import HqoptError
from hqopt.lns.arrays import ArrayCQM
from hqopt.lns.greedy import construct
from hqopt.lns.ledger import Ledger
from hqopt.lns.neighbourhoods import OPERATORS, Destroyer, Structure
from hqopt.lns.subproblem import SubProblem, restrict
from hqopt.model import Model

#: iterations of an untimed run
DEFAULT_ITERATIONS = 60
#: an untimed run stops after this many iterations without improvement
DEFAULT_PATIENCE = 25
#: starting neighbourhood size (freed variables)
DEFAULT_K = 24
#: smallest neighbourhood
MIN_K = 4
#: largest neighbourhood of an untimed run (each sub-solve then runs to its proof)
UNTIMED_MAX_K = 32
#: largest neighbourhood per sub-solver (QAOA simulates every qubit; exact enumerates 2^k)
MAX_K = {"qaoa": 16, "exact": 14}
#: largest compiled (penalty BQM) sub-problem for simulated quantum sub-solvers, in qubits
MAX_QUBITS = {"qaoa": 16}
#: neighbourhoods tried per iteration to find one that fits MAX_QUBITS
FIT_TRIES = 8
#: a call with less time than this is not started
MIN_SUB_TIME = 0.05
#: shortest time a timed call of each sub-solver is given, in seconds (others: 0.3): a QPU call first
#: searches an embedding for its sub-problem within the first penalty round, which has half the
#: call's time (on chr12a's 20-variable sub-problems minorminer found none within 0.2 s)
MIN_CALL_SECONDS = {"dwave": 1.0, "dwave-mock": 1.0}
#: options each sub-solver gets unless the user sets them (small problems: one thread, repeatable)
SUB_OPTIONS: dict[str, dict[str, Any]] = {"cpsat": {"num_workers": 1}, "mip": {"threads": 1}}
#: seconds kept back at the end of a timed run (the last sub-solve's overhead, the final report)
RESERVE = 0.15
#: share of a timed budget the initial backend may use
INITIAL_SHARE = 0.15


@dataclass
class LNSConfig:
    """Settings of one LNS run (the ``lns`` backend's options, validated)."""

    subsolvers: list[str]
    initial_backend: str | None = None
    k: int = DEFAULT_K
    iterations: int = DEFAULT_ITERATIONS
    patience: int = DEFAULT_PATIENCE
    sub_time_limit: float | None = None
    sub_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def options_for(self, name: str) -> dict[str, Any]:
        """Options of sub-solver ``name``: the defaults of :data:`SUB_OPTIONS`, then the user's."""
        return {**SUB_OPTIONS.get(name, {}), **self.sub_options.get(name, {})}


@dataclass
class LNSOutcome:
    """The best assignment found (vector over the problem's variables), a proof if any, and the facts."""

    x: np.ndarray
    status: str
    bound: float | None
    info: dict[str, Any]


def adapt_k(k: float, *, improved: bool, proven: bool, slow: bool, low: int, high: int) -> float:
    """The next neighbourhood size: grow when the sub-solver proved there is nothing better
    (the neighbourhood is too small), shrink when it ran out of time, keep it while it earns.

    >>> adapt_k(10, improved=False, proven=True, slow=False, low=4, high=100)
    12.0
    >>> adapt_k(10, improved=False, proven=False, slow=True, low=4, high=100)
    8.0
    """
    if improved:
        factor = 1.0
    elif proven:
        factor = 1.2
    elif slow:
        factor = 0.8
    else:
        factor = 1.05
    return float(min(max(k * factor, low), high))


class LNS:
    """One run of large-neighbourhood search on a minimisation CQM."""

    def __init__(self, problem: dimod.ConstrainedQuadraticModel, budget: Budget, seed: int | None, config: LNSConfig):
        self.problem = problem
        self.budget = budget
        self.config = config
        self.rng = np.random.default_rng(seed)
        self.model = ArrayCQM.from_cqm(problem)
        self.structure = Structure.from_arrays(self.model)
        self.destroy = Destroyer(self.structure, self.rng)
        self.ledger = Ledger(config.subsolvers)
        n = self.model.num_variables
        cap = n if budget.limited else min(n, UNTIMED_MAX_K)  # untimed sub-solves must stay quick
        self.k_max = {s: min(MAX_K.get(s, cap), cap) for s in config.subsolvers}
        self.k = {s: float(min(config.k, self.k_max[s])) for s in config.subsolvers}
        self.operators = [op for op in OPERATORS if op != "constraint" or self.model.num_rows]
        self.op_stats = {op: [0, 0] for op in self.operators}
        self.overrun: dict[str, float] = {}
        self.proves = {s: backend_class(s).capabilities.proves_bounds for s in config.subsolvers}
        self._backends: dict[str, Backend] = {}

    def backend(self, name: str) -> Backend:
        """Sub-solver ``name`` with its options, made on first use and kept for the run."""
        if name not in self._backends:
            self._backends[name] = get_backend(name, **self.config.options_for(name))
        return self._backends[name]

    # ------------------------------------------------------------------ run
    def run(self, initial: dict[Any, float] | None) -> LNSOutcome:
        t0 = time.perf_counter()
        x, start = self._start(initial)
        best = (self.model.violation(x), self.model.objective(x))
        self._report(x)
        start["objective"], start["violation"], start["time"] = best[1], best[0], time.perf_counter() - t0
        n = self.model.num_variables
        status, bound = "unknown", None
        iterations = stale = 0
        while not self._done(iterations, stale):
            iterations += 1
            if iterations % 20 == 0:
                x, best = self._adopt_race_incumbent(x, best)
            name = self.ledger.choose(self.rng)
            op = self._operator()
            limit = self._sub_time_limit(name)
            if limit is not None and limit <= MIN_SUB_TIME:
                break  # not enough time left for this sub-solver's call and its usual overrun
            free, sub = self._neighbourhood(name, op, x)
            if sub is None:  # no neighbourhood compiled small enough for this sub-solver
                self.ledger.record(name, variables=len(free), seconds=0.0, gain=0.0, error=True)
                self.k[name] = max(MIN_K, self.k[name] * 0.7)
                stale += 1
                continue
            t1 = time.perf_counter()
            try:
                result = _solve(sub.cqm, name, limit, int(self.rng.integers(2**31)), x, free, self)
            except HqoptError:
                self.ledger.record(name, variables=len(free), seconds=time.perf_counter() - t1, gain=0.0, error=True)
                self.k[name] = max(MIN_K, self.k[name] * 0.7)
                stale += 1
                continue
            seconds = time.perf_counter() - t1
            if limit is not None:
                self.overrun[name] = max(self.overrun.get(name, 0.0), seconds - limit)
            candidate = x.copy()
            if result.solution is not None:
                candidate[free] = [float(result.solution[self.model.labels[i]]) for i in free]
            score = (self.model.violation(candidate), self.model.objective(candidate))
            improved = _better(score, best)
            gain = _gain(score, best) if improved else 0.0
            self.op_stats[op][0] += 1
            if improved:
                x, best, stale = candidate, score, 0
                self.op_stats[op][1] += 1
                self._report(x)
            else:
                stale += 1
            proven = result.status.value == "optimal"
            self.ledger.record(
                name, variables=len(free), seconds=seconds, gain=gain, searched="compile" not in result.info,
                qpu_access_time=_qpu_seconds(result.info),
            )
            slow = limit is not None and seconds >= 0.8 * limit
            if self.proves[name]:  # heuristics always use their time: only errors and misfits resize them
                self.k[name] = adapt_k(self.k[name], improved=improved, proven=proven, slow=slow, low=MIN_K, high=self.k_max[name])
            if proven and len(free) == n and best[0] == 0:
                status, bound = "optimal", float(result.bound) + sub.constant if result.bound is not None else None
                break
        info = {
            "subsolvers": self.ledger.summary(),
            "lns_iterations": iterations,
            "lns_operators": {op: {"tries": t, "improvements": i} for op, (t, i) in self.op_stats.items()},
            "lns_neighbourhood": {name: round(k) for name, k in self.k.items()},
            "lns_initial": start,
            "lns_groups": int(self.structure.one_hot.sum()),
        }
        return LNSOutcome(x, status, bound, info)

    # ------------------------------------------------------------- helpers
    def _done(self, iterations: int, stale: int) -> bool:
        if self.budget.limited:
            return self.budget.expired() or self.budget.remaining() < RESERVE
        return self.budget.stopped or iterations >= self.config.iterations or stale >= self.config.patience

    def _operator(self) -> str:
        rates = np.array([(1 + i) / (1 + t) for t, i in (self.op_stats[op] for op in self.operators)])
        return self.operators[int(self.rng.choice(len(self.operators), p=rates / rates.sum()))]

    def _sub_time_limit(self, name: str) -> float | None:
        """Seconds for the next call of ``name``: a tenth of what is left (0.3..3 s; at least
        ``MIN_CALL_SECONDS[name]``), less the time its calls have run past their limits so far
        (imports, a last QAOA evaluation)."""
        if not self.budget.limited:
            return self.config.sub_time_limit
        remaining = self.budget.remaining()
        wanted = self.config.sub_time_limit or min(3.0, max(MIN_CALL_SECONDS.get(name, 0.3), remaining / 10))
        return min(wanted, 0.9 * remaining - RESERVE - self.overrun.get(name, 0.0))

    def _neighbourhood(self, name: str, op: str, x: np.ndarray) -> tuple[np.ndarray, SubProblem | None]:
        """Free about k variables; for qubit-limited sub-solvers retry (smaller) until the
        compiled sub-problem (slack bits included) fits, or give up after FIT_TRIES."""
        k = round(self.k[name])
        qubits = MAX_QUBITS.get(name)
        for _ in range(FIT_TRIES if qubits else 1):
            free = self.destroy(op, x, k)
            sub = restrict(self.model, x, free)
            if qubits is None or compiled_size(sub.cqm) <= qubits:
                return free, sub
            k = max(MIN_K, k - 1)
        return free, None

    def _report(self, x: np.ndarray) -> None:
        """Hand the new incumbent to ``solve`` (which verifies it on the original model)."""
        self.budget.report(self.sampleset(x))

    def sampleset(self, x: np.ndarray) -> dimod.SampleSet:
        """``x`` as a one-row SampleSet; energy from the arrays (dimod's per-row CQM evaluation is slow)."""
        return dimod.SampleSet.from_samples((x[None, :], self.model.labels), dimod.INTEGER, energy=[self.model.objective(x)])

    def _vector(self, sample: dict[Any, float] | None) -> np.ndarray | None:
        if not sample or any(v not in sample for v in self.model.labels):
            return None
        return self.model.vector(sample)

    def _start(self, initial: dict[Any, float] | None) -> tuple[np.ndarray, dict[str, Any]]:
        """The starting point: the race's incumbent, the warm start, the initial backend's answer,
        or (one-hot models, ``initial_backend="greedy"`` or none chosen) the greedy construction."""
        for source, sample in (("race", self.budget.incumbent()), ("initial", initial)):
            x = self._vector(sample)
            if x is not None:
                return x, {"source": source}
        if self.config.initial_backend in (None, "greedy") and self.structure.one_hot.any():
            return construct(self.model, self.structure, self.rng), {"source": "greedy"}
        backend = self.config.initial_backend if self.config.initial_backend not in (None, "greedy") else "sa"
        x, searched = self._run_initial(backend, INITIAL_SHARE)
        if x is None:
            x = np.clip(np.zeros(self.model.num_variables), self.model.lower, self.model.upper)
        return x, {"source": backend} if searched else {"source": backend, "not_searched": True}

    def _run_initial(self, backend: str, share: float) -> tuple[np.ndarray | None, bool]:
        """The initial backend's answer, and whether it searched (not: out of time while compiling or starting)."""
        from hqopt.solve import solve

        limit = None
        if self.budget.limited:
            limit = max(0.05, min(self.budget.remaining() * share, 20.0))
        try:
            result = solve(
                Model(self.problem), backend=backend, time_limit=limit, seed=int(self.rng.integers(2**31)),
                stop=self.budget.stop_signal(),
            )
        except HqoptError:
            return None, True
        return self._vector(result.solution), "compile" not in result.info

    def _adopt_race_incumbent(self, x: np.ndarray, best: tuple[float, float]) -> tuple[np.ndarray, tuple[float, float]]:
        y = self._vector(self.budget.incumbent())
        if y is None:
            return x, best
        score = (self.model.violation(y), self.model.objective(y))
        return (y, score) if _better(score, best) else (x, best)


def _better(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Lexicographic: less violation, then a lower objective (by more than rounding noise)."""
    if a[0] < b[0] - 1e-9:
        return True
    return abs(a[0] - b[0]) <= 1e-9 and a[1] < b[1] - 1e-9 * max(1.0, abs(b[1]))


def compiled_size(cqm: dimod.ConstrainedQuadraticModel) -> int:
    """Binary variables of the penalty BQM ``solve`` would give a BQM backend (slack bits included)."""
    return compile_for(Model(cqm), accepts="bqm").problem().num_variables


def _gain(new: tuple[float, float], old: tuple[float, float]) -> float:
    """Objective gained between feasible points; violation removed while infeasible."""
    return old[1] - new[1] if new[0] == 0 == old[0] else old[0] - new[0]


def _solve(sub: dimod.ConstrainedQuadraticModel, name: str, limit: float | None, seed: int, x: np.ndarray, free: np.ndarray, lns: LNS) -> Any:
    from hqopt.solve import solve

    labels = lns.model.labels
    return solve(
        Model(sub), backend=lns.backend(name), time_limit=limit, seed=seed,
        initial={labels[i]: float(x[i]) for i in free}, stop=lns.budget.stop_signal(),
    )


def _qpu_seconds(info: dict[str, Any]) -> float | None:
    value = info.get("qpu_access_time")
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None
