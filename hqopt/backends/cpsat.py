"""Google OR-Tools CP-SAT on the CQM: constraints stay constraints, bounds are proven.

Options: ``num_workers`` (default: every core; use 1 for runs a seed repeats
exactly), ``log_search_progress``, and the CP-SAT parameters
``linearization_level``, ``symmetry_level`` and
``probing_deterministic_time_limit``. Without a time limit CP-SAT gets
:data:`DEFAULT_TIME_LIMIT` seconds, so an untimed call cannot run for hours.
Under a short time limit presolve's probing gets a share of the limit
(:data:`PROBING_DTIME_PER_SECOND`), so the search starts early.
A warm start (``initial``) is given to CP-SAT as solution hints.

Example:
    >>> import dimod
    >>> from hqopt.backends.cpsat import CPSatBackend
    >>> bqm = dimod.BQM({"a": 1, "b": -2}, {("a", "b"): -1}, 0, "BINARY")
    >>> float(CPSatBackend(num_workers=1).sample(bqm, seed=0).first.energy)
    -2.0
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Literal

import dimod
from ortools.sat.python import cp_model

from hqopt.backends.base import Backend, BackendOutput, Capabilities
from hqopt.budget import Budget
from hqopt.compile.cpsat import CpSatModel
from hqopt.errors import BackendError, BackendOptionError
from hqopt.samples import cqm_samples

#: seconds CP-SAT gets when solve() is called without a time limit
DEFAULT_TIME_LIMIT = 60.0
#: presolve's probing budget (CP-SAT deterministic seconds) per second of the time limit, at
#: most CP-SAT's default of 1.0 per presolve round. With the default, probing took about 1.5 s
#: of chr12a's 2.4 s presolve, and under 5 s nug12 got no solution at all; with 0.1 (5 s
#: limit) chr12a's first solution came at 1.4 s instead of 2.9 s and nug12 found one.
PROBING_DTIME_PER_SECOND = 0.02
#: solutions kept from the search (the last ones found are the best)
KEEP_SOLUTIONS = 16

_STATUS: dict[Any, Literal["optimal", "infeasible", "unknown"]] = {
    cp_model.OPTIMAL: "optimal",
    cp_model.FEASIBLE: "unknown",
    cp_model.INFEASIBLE: "infeasible",
    cp_model.UNKNOWN: "unknown",
}


class _Collector(cp_model.CpSolverSolutionCallback):
    """Hands every improving solution to the budget and stops when asked to."""

    def __init__(self, built: CpSatModel, labels: list[Any], budget: Budget, cqm: dimod.ConstrainedQuadraticModel):
        super().__init__()
        self.built, self.labels, self.budget, self.cqm = built, labels, budget, cqm
        self.solutions: list[list[int]] = []

    def on_solution_callback(self) -> None:
        row = [int(self.Value(self.built.variables[v])) for v in self.labels]
        self.solutions.append(row)
        del self.solutions[:-KEEP_SOLUTIONS]
        self.budget.report(cqm_samples(([row], self.labels), self.cqm))
        if self.budget.stopped:
            self.StopSearch()


def _solve_stoppably(
    solver: cp_model.CpSolver, model: cp_model.CpModel, callback: _Collector, budget: Budget
) -> Any:
    """Run CP-SAT in a worker thread; stop its search as soon as the budget's stop event is set.

    The calling thread keeps running Python, so a Ctrl-C handler (or another
    thread setting the stop event) is heard at once, not only when CP-SAT
    finds its next solution.
    """
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["code"] = solver.Solve(model, callback)
        except BaseException as exc:  # re-raised in the calling thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="hqopt-cpsat", daemon=True)
    worker.start()
    stopping = False
    while worker.is_alive():
        worker.join(0.05)
        if budget.stopped and not stopping:
            solver.StopSearch()
            stopping = True
    if "error" in outcome:
        raise outcome["error"]
    return outcome["code"]


def _final_solution(
    solver: cp_model.CpSolver, built: CpSatModel, labels: list[Any], budget: Budget, cqm: dimod.ConstrainedQuadraticModel
) -> list[int]:
    """The solution CP-SAT ended with, read from the solver and reported (a search stopped early
    may end with one its callback never saw)."""
    row = [int(solver.Value(built.variables[v])) for v in labels]
    budget.report(cqm_samples(([row], labels), cqm))
    return row


def finish_margin(problem: dimod.ConstrainedQuadraticModel, budget: Budget) -> float:
    """Seconds a timed search stops before the deadline to read its solution and hand it in
    (about 1 s per 100 000 variables measured; at most 3 % of the limit).

    >>> from hqopt.budget import Budget
    >>> cqm = dimod.CQM.from_bqm(dimod.BQM({i: 1.0 for i in range(70_000)}, {}, 0, "BINARY"))
    >>> round(finish_margin(cqm, Budget(60.0)), 2), round(finish_margin(cqm, Budget(1.0)), 2)
    (0.7, 0.03)
    """
    assert budget.time_limit is not None
    return min(1e-5 * len(problem.variables), 0.03 * budget.time_limit)


class CPSatBackend(Backend):
    """OR-Tools CP-SAT: exact on the CQM, proves bounds, optimality and infeasibility."""

    name = "cpsat"
    description = "Google OR-Tools CP-SAT on the CQM (linearised products); proves bounds"
    capabilities = Capabilities(accepts="cqm", integer_variables=True, proves_bounds=True)
    option_names = ("num_workers", "log_search_progress", "linearization_level", "symmetry_level", "probing_deterministic_time_limit", "max_time")

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.int_option("num_workers", None)  # a bad value is an error naming the option, now
        for name in ("linearization_level", "symmetry_level"):
            self.int_option(name, None, minimum=0)
        for name in ("probing_deterministic_time_limit", "max_time"):
            value = self.options.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf")):
                raise BackendOptionError(f"backend 'cpsat': {name} must be a number of seconds >= 0, got {value!r}")

    def run(
        self,
        problem: dimod.ConstrainedQuadraticModel,
        budget: Budget,
        seed: int | None,
        *,
        initial: dict[Any, float] | None = None,
    ) -> BackendOutput:
        self.expect_problem(problem)
        t0 = time.perf_counter()
        built = CpSatModel.from_cqm(problem, budget=budget)
        build_time = time.perf_counter() - t0
        if initial:
            for v, var in built.variables.items():
                if v in initial:
                    built.model.AddHint(var, int(round(initial[v])))
            for (u, v), z in built.products.items():  # a hint that leaves the products open is not used
                if u in initial and v in initial:
                    built.model.AddHint(z, round(initial[u]) * round(initial[v]))

        solver = cp_model.CpSolver()
        params = solver.parameters
        limit = budget.remaining() - finish_margin(problem, budget) if budget.limited else float(self.options.get("max_time", DEFAULT_TIME_LIMIT))
        limit = max(limit, 0.01)  # the time ran out while the model was built: CP-SAT still answers (no time limit < 0)
        params.max_time_in_seconds = limit
        params.num_workers = self.int_option("num_workers", os.cpu_count() or 1) or 1
        params.log_search_progress = bool(self.options.get("log_search_progress", False))
        params.catch_sigint_signal = False  # Ctrl-C is solve()'s: it sets the budget's stop event
        if seed is not None:
            params.random_seed = int(seed) % (2**31)
        if budget.limited:
            params.probing_deterministic_time_limit = min(params.probing_deterministic_time_limit, PROBING_DTIME_PER_SECOND * limit)
        for name in ("linearization_level", "symmetry_level"):
            if name in self.options:
                setattr(params, name, int(self.options[name]))
        if "probing_deterministic_time_limit" in self.options:
            params.probing_deterministic_time_limit = float(self.options["probing_deterministic_time_limit"])

        labels = list(problem.variables)
        collector = _Collector(built, labels, budget, problem)
        t1 = time.perf_counter()
        code = _solve_stoppably(solver, built.model, collector, budget)
        search_time = time.perf_counter() - t1
        if code == cp_model.MODEL_INVALID:
            raise BackendError(f"cpsat rejected the model or its parameters: {built.model.Validate() or 'no reason given'}")
        status = _STATUS.get(code, "unknown")

        rows = collector.solutions[::-1]
        if not rows and code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            rows = [_final_solution(solver, built, labels, budget, problem)]
        samples = cqm_samples((rows, labels), problem)
        exact_scaling = built.objective_error == 0 and not built.constraint_errors
        bound = None
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            bound = built.to_minimisation_value(solver.BestObjectiveBound()) - built.objective_error_total
        if status == "optimal" and not exact_scaling:
            status = "unknown"  # optimal for the rounded model only; the widened bound still holds
        info = {
            "cpsat_status": solver.StatusName(code),
            "build_time": build_time,
            "search_time": search_time,
            "wall_time": solver.WallTime(),
            "num_workers": params.num_workers,
            "probing_deterministic_time_limit": params.probing_deterministic_time_limit,
            "objective_scale": built.objective_scale,
            "objective_scaling_error": built.objective_error,
            "constraint_scaling_errors": built.constraint_errors,
            "auxiliary_products": len(built.products),
            "rlt_equations": built.rlt,
            "branches": solver.NumBranches(),
            "conflicts": solver.NumConflicts(),
        }
        return BackendOutput(samples, bound=bound, status=status, info=info)
