"""HiGHS (through ``highspy``) as a mixed-integer programming backend on the CQM.

Linear models go in as they are; products of binaries (and binary x integer)
are linearised exactly by :mod:`hqopt.compile.linearize` (McCormick rows),
refused beyond :data:`~hqopt.compile.linearize.MAX_PRODUCTS`. HiGHS proves
a bound, optimality or infeasibility; the status, bound and gap come back in
the Result. A warm start (``initial``) is handed to HiGHS with ``setSolution``.
The time limit is HiGHS's ``time_limit`` (what the budget has left), and the
budget's stop event (Ctrl-C, a portfolio's proof, ``target=``) interrupts the
search through HiGHS's interrupt callback. Every improving solution HiGHS
finds reaches the budget within about :data:`REPORT_EVERY` seconds, batched (HiGHS
waits while a callback verifies, so on a solve of a few dozen milliseconds
per-solution reports would cost more than the search; every solution is in
the final batch anyway).

Options: ``threads`` (HiGHS threads; default 1: HiGHS's MIP search is serial,
only symmetry detection and clique queries use more threads, and a pool of
workers is made again in every solving thread, which costs more than it gives
on models that solve in well under a second),
``mip_rel_gap`` (stop at this relative gap; default 0: prove optimality),
``max_time`` (seconds when solve() has no time limit; default 60),
``log`` (print HiGHS's log).

Example:
    >>> import hqopt
    >>> m = hqopt.Model(sense="max")
    >>> x = [m.binary(i) for i in range(4)]
    >>> m.set_objective(sum((i + 1) * x[i] for i in range(4)))
    >>> m.add_constraint(sum(x) <= 2, label="at-most-two")
    'at-most-two'
    >>> r = hqopt.solve(m, backend="mip", seed=1)
    >>> r.objective, r.status.value, r.bound
    (7.0, 'optimal', 7.0)
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from typing import Any, Literal

import dimod
import numpy as np

from hqopt.backends.base import Backend, BackendOutput, Capabilities
from hqopt.budget import Budget
from hqopt.compile.linearize import LinearModel
from hqopt.errors import BackendError

#: seconds HiGHS gets when solve() is called without a time limit
DEFAULT_TIME_LIMIT = 60.0

#: improving solutions reach the budget in batches at most this often (seconds)
REPORT_EVERY = 0.05

_banner_lock = threading.Lock()
_banner_shown = False


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Swallow what C code writes on stdout (HiGHS prints a banner when the first Highs is made)."""
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def new_highs() -> Any:
    """A silent ``highspy.Highs`` (HiGHS's one-time copyright banner is swallowed)."""
    global _banner_shown
    import highspy

    with _banner_lock:
        if _banner_shown:
            h = highspy.Highs()
        else:
            try:
                with _quiet_stdout():
                    h = highspy.Highs()
            except OSError:  # no file descriptor 1 (embedded interpreters): let it print
                h = highspy.Highs()
            _banner_shown = True
    h.setOptionValue("output_flag", False)
    return h


def pass_linear_model(h: Any, lin: LinearModel) -> None:
    """Load a :class:`LinearModel` into a Highs instance (one ``passModel`` call)."""
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = lin.num_columns, lin.num_rows
    lp.col_cost_ = lin.cost
    lp.col_lower_ = np.asarray(lin.col_lower, dtype=float)
    lp.col_upper_ = np.asarray(lin.col_upper, dtype=float)
    lp.row_lower_ = np.asarray(lin.row_lower, dtype=float)
    lp.row_upper_ = np.asarray(lin.row_upper, dtype=float)
    lp.offset_ = lin.offset
    starts, index, value = lin.csr()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lin.num_columns, lin.num_rows
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = starts, index, value
    if any(lin.integer):
        kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
        lp.integrality_ = [kinds[int(flag)] for flag in lin.integer]
    status = h.passModel(lp)
    if status != highspy.HighsStatus.kOk:
        raise BackendError(f"mip: HiGHS rejected the model ({h.statusToString(status) if hasattr(h, 'statusToString') else status})")


class MIPBackend(Backend):
    """HiGHS MIP on the (linearised) CQM: proves bounds, optimality and infeasibility."""

    name = "mip"
    description = "HiGHS mixed-integer solver on the CQM (products of binaries linearised); proves bounds"
    capabilities = Capabilities(accepts="cqm", integer_variables=True, proves_bounds=True)
    option_names = ("threads", "mip_rel_gap", "max_time", "log")

    def run(
        self,
        problem: dimod.ConstrainedQuadraticModel,
        budget: Budget,
        seed: int | None,
        *,
        initial: dict[Any, float] | None = None,
    ) -> BackendOutput:
        import highspy

        self.expect_problem(problem)
        t0 = time.perf_counter()
        lin = LinearModel.from_cqm(problem)
        h = new_highs()
        pass_linear_model(h, lin)
        build_time = time.perf_counter() - t0

        limit = budget.remaining() if budget.limited else float(self.options.get("max_time", DEFAULT_TIME_LIMIT))
        h.setOptionValue("time_limit", max(limit, 0.01))
        h.setOptionValue("output_flag", bool(self.options.get("log", False)))
        h.setOptionValue("mip_rel_gap", float(self.options.get("mip_rel_gap", 0.0)))
        h.setOptionValue("threads", self.int_option("threads", 1))
        if seed is not None:
            h.setOptionValue("random_seed", int(seed) % (2**31))
        warm = lin.extend(initial) if initial else None
        if warm is not None:
            solution = highspy.HighsSolution()
            solution.col_value = list(warm)
            solution.value_valid = True
            h.setSolution(solution)

        reports = _Reports(budget, lin)

        def on_solution(event: Any) -> None:
            reports.add(_rounded(np.asarray(event.data_out.mip_solution, dtype=float), lin))

        def on_interrupt(event: Any) -> None:
            reports.send_due()
            if budget.stopped:
                event.interrupt()

        h.cbMipImprovingSolution.subscribe(on_solution)
        h.cbMipInterrupt.subscribe(on_interrupt)
        h.cbSimplexInterrupt.subscribe(on_interrupt)
        highspy.Highs.resetThreadScheduler(True)  # HiGHS refuses a thread count other than this thread's last one
        t1 = time.perf_counter()
        h.run()
        search_time = time.perf_counter() - t1
        found = reports.found

        model_status = h.getModelStatus()
        info_h = h.getInfo()
        rows: list[np.ndarray] = []
        if info_h.primal_solution_status == 2:  # kSolutionStatusFeasible
            rows.append(_rounded(np.asarray(h.getSolution().col_value, dtype=float), lin))
        rows += found[::-1]
        samples = _samples(rows, lin)
        status: Literal["optimal", "infeasible", "unknown"] = "unknown"
        bound = None
        S = highspy.HighsModelStatus
        if model_status == S.kOptimal:
            status = "optimal"
            bound = float(info_h.mip_dual_bound) if any(lin.integer) else float(info_h.objective_function_value)
        elif model_status == S.kInfeasible:
            status = "infeasible"
        elif any(lin.integer) and np.isfinite(info_h.mip_dual_bound):
            bound = float(info_h.mip_dual_bound)
        if model_status == S.kUnbounded:
            raise BackendError("mip: the model is unbounded (give every integer variable finite bounds)")
        info = {
            "highs_status": h.modelStatusToString(model_status),
            "build_time": build_time,
            "search_time": search_time,
            "mip_gap": float(info_h.mip_gap) if any(lin.integer) and rows else None,
            "mip_nodes": int(info_h.mip_node_count) if any(lin.integer) else 0,
            "columns": lin.num_columns,
            "rows": lin.num_rows,
            "auxiliary_products": len(lin.products),
            "warm_start": warm is not None,
        }
        return BackendOutput(samples, bound=bound, status=status, info=info)


class _Reports:
    """HiGHS's improving solutions on their way to the budget: at most one batch every
    :data:`REPORT_EVERY` seconds from the start, sent from the next callback once it is due."""

    def __init__(self, budget: Budget, lin: LinearModel) -> None:
        self.budget, self.lin = budget, lin
        self.found: list[np.ndarray] = []
        self._sent = 0
        self._last = time.perf_counter()

    def add(self, columns: np.ndarray) -> None:
        self.found.append(columns)
        self.send_due()

    def send_due(self) -> None:
        if self._sent < len(self.found) and time.perf_counter() - self._last >= REPORT_EVERY:
            self.budget.report(_samples(self.found[self._sent :][::-1], self.lin))
            self._sent, self._last = len(self.found), time.perf_counter()


def _rounded(columns: np.ndarray, lin: LinearModel) -> np.ndarray:
    """HiGHS column values within its tolerance of an integer, made exact for integer columns."""
    out = columns.copy()
    integer = np.asarray(lin.integer, dtype=bool)
    out[integer] = np.round(out[integer])
    return out


def _samples(columns: list[np.ndarray], lin: LinearModel) -> dimod.SampleSet:
    """Full column vectors as a SampleSet over the CQM's variables; energies from the linear
    model (``solve`` re-verifies every sample on the original model anyway)."""
    n = len(lin.labels)
    energies = [float(lin.cost @ c + lin.offset) for c in columns]
    rows = np.array([c[:n] for c in columns]).reshape(len(columns), n)
    return dimod.SampleSet.from_samples((rows, lin.labels), dimod.INTEGER, energy=energies)
