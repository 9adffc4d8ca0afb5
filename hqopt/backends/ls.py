"""``ls``: structure-aware compiled local search on the CQM (hqopt.engine), on all cores.

It takes the minimisation CQM as it is (no penalty BQM): one-hot rows and
permutations are kept exact by the moves, other linear rows are priced by
adaptive weights. Options: ``strategy`` (``sa``, ``tabu``, ``rts``; default by
structure), ``workers`` (chains, each a thread with its own copy of the state;
default all cores, at most :data:`MAX_WORKERS_PER_CORE` per core).

Example:
    >>> import dimod
    >>> from hqopt.backends.ls import LocalSearchBackend
    >>> bqm = dimod.BQM({"a": 1, "b": -1}, {("a", "b"): -3}, 0, "BINARY")
    >>> float(LocalSearchBackend(workers=1).sample(bqm, seed=5).first.energy)
    -3.0
"""

from __future__ import annotations

import os
import time
from typing import Any, ClassVar

import dimod

from hqopt.backends.base import Backend, BackendOutput, Capabilities
from hqopt.budget import Budget
from hqopt.engine import build_problem, detect_structure
from hqopt.engine.chains import search
from hqopt.errors import BackendOptionError
from hqopt.samples import cached_constraint_rows, checked_with_rows

#: most chains per core: more only share the cores, each with its own copy of the problem's state
MAX_WORKERS_PER_CORE = 4


class LocalSearchBackend(Backend):
    """Compiled local search with structure-keeping moves (flip, shift, swap)."""

    name = "ls"
    capabilities: ClassVar[Capabilities] = Capabilities(accepts="cqm", integer_variables=True, kind="classical")
    description = "structure-aware compiled local search (SA / tabu / robust tabu), all cores"
    option_names = ("strategy", "workers")

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        workers = self.int_option("workers", None)
        most = MAX_WORKERS_PER_CORE * (os.cpu_count() or 1)
        if workers is not None and workers > most:
            raise BackendOptionError(f"backend 'ls': workers must be at most {most} ({MAX_WORKERS_PER_CORE} per core here), got {workers}")

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
        if checked_with_rows(problem):
            # the arrays its samples are checked with, built here rather than inside the first report,
            # whose cost sets how much of the time limit the chains leave for the end
            cached_constraint_rows(problem)
        structure = detect_structure(problem)
        engine_problem = build_problem(problem, structure)
        build_s = time.perf_counter() - t0
        workers = self.int_option("workers", os.cpu_count() or 1)
        assert workers is not None
        found = search(
            engine_problem, problem, budget, seed, workers=workers, strategy=self.options.get("strategy"), initial=initial
        )
        info = {"structure": structure.summary(), "build_seconds": round(build_s, 4), **found.info}
        return BackendOutput(engine_problem.samples(found.states, problem), info=info)
