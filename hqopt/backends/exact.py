"""Exhaustive search over every assignment (dimod's ExactCQMSolver); proves optimality.

Refuses problems whose number of assignments exceeds :data:`MAX_ASSIGNMENTS`
(about a million: 20 binary variables), with a clear error, rather than
running for hours or exhausting memory. The enumeration is split into chunks
by fixing a few variables, so memory stays small and the budget is honoured.

Example:
    >>> import dimod
    >>> from hqopt.backends.exact import ExactBackend
    >>> float(ExactBackend().sample(dimod.BQM({"a": 1, "b": -2}, {("a", "b"): -1}, 0, "BINARY")).first.energy)
    -2.0
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Any

import dimod
import numpy as np

from hqopt.backends.base import Backend, BackendOutput, Capabilities
from hqopt.budget import Budget
from hqopt.errors import BackendError

#: the largest number of assignments exact will enumerate
MAX_ASSIGNMENTS = 2**20
#: assignments enumerated per chunk
_CHUNK = 2**14


def assignment_count(cqm: dimod.ConstrainedQuadraticModel) -> int:
    """How many assignments the variables of ``cqm`` admit (counting stops just above 2^62).

    >>> assignment_count(dimod.CQM.from_bqm(dimod.BQM({i: 1 for i in range(10)}, {}, 0, "BINARY")))
    1024
    """
    total = 1
    for v in cqm.variables:
        total *= _domain_size(cqm, v)
        if total > 2**62:
            break
    return total


def assignment_log2(cqm: dimod.ConstrainedQuadraticModel) -> float:
    """log2 of the number of assignments, for any size (to say how far beyond the limit it is).

    >>> assignment_log2(dimod.CQM.from_bqm(dimod.BQM({i: 1 for i in range(100)}, {}, 0, "BINARY")))
    100.0
    """
    return float(sum(math.log2(_domain_size(cqm, v)) for v in cqm.variables))


def _domain_size(cqm: dimod.ConstrainedQuadraticModel, v: Any) -> int:
    vartype = cqm.vartype(v)
    if vartype is dimod.REAL:
        raise BackendError(f"exact cannot enumerate the real-valued variable {v!r}")
    if vartype is dimod.INTEGER:
        return int(cqm.upper_bound(v) - cqm.lower_bound(v)) + 1
    return 2


def _domain(cqm: dimod.ConstrainedQuadraticModel, v: Any) -> list[int]:
    vartype = cqm.vartype(v)
    if vartype is dimod.INTEGER:
        return list(range(int(cqm.lower_bound(v)), int(cqm.upper_bound(v)) + 1))
    return [-1, 1] if vartype is dimod.SPIN else [0, 1]


class ExactBackend(Backend):
    """Exhaustive enumeration; the answer is proven optimal (or the model proven infeasible)."""

    name = "exact"
    description = f"exhaustive enumeration (dimod ExactCQMSolver), up to {MAX_ASSIGNMENTS:,} assignments"
    capabilities = Capabilities(accepts="cqm", integer_variables=True, proves_bounds=True, max_variables=20)
    option_names = ()

    def run(
        self,
        problem: dimod.ConstrainedQuadraticModel,
        budget: Budget,
        seed: int | None,
        *,
        initial: dict[Any, float] | None = None,
    ) -> BackendOutput:
        count = assignment_count(problem)
        if count > MAX_ASSIGNMENTS:
            raise BackendError(
                f"exact would enumerate {_fmt_count(count, problem)} assignments (limit {MAX_ASSIGNMENTS:,}, "
                f"about {int(math.log2(MAX_ASSIGNMENTS))} binary variables); use cpsat, tabu or sa instead"
            )
        t0 = time.perf_counter()
        solver = dimod.ExactCQMSolver()
        variables = list(problem.variables)
        # fix the first few variables per chunk so each enumeration stays small
        fixed_vars: list[Any] = []
        rest = count
        while rest > _CHUNK and len(fixed_vars) < len(variables):
            v = variables[len(fixed_vars)]
            fixed_vars.append(v)
            rest //= len(_domain(problem, v))
        best: dimod.SampleSet | None = None
        complete = True
        for values in itertools.product(*(_domain(problem, v) for v in fixed_vars)):
            if budget.expired():
                complete = False
                break
            fixed = dict(zip(fixed_vars, values))
            sub = problem.fix_variables(fixed, inplace=False) if fixed else problem
            if isinstance(sub, tuple):  # older dimod returns (cqm, mapping)
                sub = sub[0]
            chunk = solver.sample_cqm(sub)
            chunk = _with_fixed(chunk, fixed, problem)
            chunk = _best_of(chunk)
            budget.report(chunk)
            best = chunk if best is None else _best_of(_stacked(problem, [best, chunk]))
        assert best is not None
        info = {"assignments": count, "enumeration_time": time.perf_counter() - t0, "complete": complete}
        feasible = best.filter(lambda d: d.is_feasible)
        if not complete:
            return BackendOutput(best, info=info)
        if len(feasible) == 0:
            return BackendOutput(best, status="infeasible", info=info)
        return BackendOutput(best, bound=float(feasible.first.energy), status="optimal", info=info)


def _with_fixed(
    chunk: dimod.SampleSet, fixed: dict[Any, int], problem: dimod.ConstrainedQuadraticModel
) -> dimod.SampleSet:
    if not fixed:
        return chunk
    n = len(chunk)
    columns = [chunk.record.sample] + [np.full((n, 1), value) for value in fixed.values()]
    labels = list(chunk.variables) + list(fixed)
    return dimod.SampleSet.from_samples_cqm((np.hstack(columns), labels), problem)


def _best_of(samples: dimod.SampleSet, keep: int = 16) -> dimod.SampleSet:
    """The ``keep`` best feasible samples, or the lowest-energy ones when none is feasible."""
    record = samples.record
    feasible = np.flatnonzero(record.is_feasible)
    pool = feasible if len(feasible) else np.arange(len(record))
    chosen = pool[np.argsort(record.energy[pool], kind="stable")[:keep]]
    return dimod.SampleSet(record[chosen], samples.variables, {}, samples.vartype)


def _stacked(problem: dimod.ConstrainedQuadraticModel, samplesets: list[dimod.SampleSet]) -> dimod.SampleSet:
    """One sampleset from several over ``problem``'s variables, re-checked on ``problem``.

    (``dimod.concatenate`` fails on samplesets of unconstrained CQMs: their
    empty ``is_satisfied`` field cannot be stacked.)
    """
    labels = list(problem.variables)
    rows = [ss.record.sample[:, [ss.variables.index(v) for v in labels]] for ss in samplesets]
    return dimod.SampleSet.from_samples_cqm((np.vstack(rows), labels), problem)


def _fmt_count(count: int, problem: dimod.ConstrainedQuadraticModel) -> str:
    if count < 10**12:
        return f"{count:,}"
    exponent = assignment_log2(problem)
    return f"2^{exponent:.0f}" if exponent.is_integer() else f"about 2^{exponent:.1f}"
