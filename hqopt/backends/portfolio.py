"""``portfolio``: race several backends on the same problem and keep the best.

Each member runs the whole ``solve`` flow (its own compilation and penalty
tuning) in its own thread under the same deadline; CP-SAT and the
dwave-samplers release the GIL while they search. When a member proves
optimality (or infeasibility) the others are stopped. The best verified solution
wins; the tightest proven bound of any member is kept, so a portfolio of
``cpsat`` and ``tabu`` gives tabu's speed with CP-SAT's bound.

Example:
    >>> import hqopt
    >>> r = hqopt.solve(hqopt.Model.from_qubo({(0, 0): -1, (1, 1): -1, (0, 1): 3}),
    ...                 backend="portfolio", members=("tabu", "cpsat"), seed=1, time_limit=1)
    >>> r.objective
    -1.0
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, Literal

import dimod
import numpy as np

from hqopt.backends.base import Backend, BackendOutput, Capabilities, seed_sequence
from hqopt.backends.registry import get_backend
from hqopt.budget import Budget
from hqopt.errors import BackendOptionError, HqoptError
from hqopt.model import Model

DEFAULT_MEMBERS = ("cpsat", "tabu", "sa")


def run_member(
    problem: dimod.ConstrainedQuadraticModel,
    backend: Backend,
    budget: Budget,
    seed: int | None,
    initial: dict[Any, float] | None,
) -> BackendOutput:
    """Run one backend on a minimisation CQM through ``solve``; as a BackendOutput."""
    from hqopt.solve import solve

    result = solve(
        Model.from_cqm(problem),
        backend=backend,
        time_limit=budget.time_limit,
        seed=seed,
        initial=initial,
        stop=budget.stop_event,
    )
    samples = result.sampleset if result.sampleset is not None else dimod.SampleSet.from_samples_cqm(([], list(problem.variables)), problem)
    status = result.status.value if result.status.value in ("optimal", "infeasible") else "unknown"
    info = {
        "objective": result.objective,
        "feasible": result.feasible,
        "status": result.status.value,
        "time": result.timing.total,
        "penalty_weights": result.penalty_weights,
    }
    return BackendOutput(samples, bound=result.bound, status=status, info=info)  # type: ignore[arg-type]


def _merged(problem: dimod.ConstrainedQuadraticModel, samplesets: list[dimod.SampleSet]) -> dimod.SampleSet:
    """One CQM sampleset from the members' (rows re-ordered to the problem's variables)."""
    labels = list(problem.variables)
    rows = [ss.record.sample[:, [ss.variables.index(v) for v in labels]] for ss in samplesets if len(ss)]
    stacked = np.vstack(rows) if rows else np.empty((0, len(labels)))
    return dimod.SampleSet.from_samples_cqm((stacked, labels), problem)


def _refused(problem: dimod.ConstrainedQuadraticModel, error: BaseException | None) -> BackendOutput:
    """A member that declined (e.g. cpsat's model cannot be built in time): no samples, the reason in info."""
    if not isinstance(error, HqoptError):  # a bug, not a refusal: let it surface
        raise error  # type: ignore[misc]
    empty = dimod.SampleSet.from_samples_cqm(([], list(problem.variables)), problem)
    return BackendOutput(empty, info={"refused": str(error)})


class PortfolioBackend(Backend):
    """Runs ``members`` (default cpsat, tabu, sa) concurrently; best verified answer wins."""

    name = "portfolio"
    description = "races several backends in threads under one deadline; best answer, tightest bound"
    capabilities = Capabilities(accepts="cqm", integer_variables=True, proves_bounds=True, kind="hybrid")
    option_names = ("members",)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        members = options.get("members", DEFAULT_MEMBERS)
        if isinstance(members, str):
            members = [m.strip() for m in members.split(",") if m.strip()]
        if not members:
            raise BackendOptionError("portfolio needs at least one member backend")
        if "portfolio" in members or "auto" in members:
            raise BackendOptionError("portfolio members must be concrete backends (not portfolio or auto)")
        self.members = [get_backend(m) if isinstance(m, str) else get_backend(m) for m in members]

    def run(
        self,
        problem: dimod.ConstrainedQuadraticModel,
        budget: Budget,
        seed: int | None,
        *,
        initial: dict[Any, float] | None = None,
    ) -> BackendOutput:
        seeds = seed_sequence(seed, len(self.members))
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(self.members)) as pool:
            futures = [
                pool.submit(run_member, problem, member, budget.sub(None), s, initial)
                for member, s in zip(self.members, seeds)
            ]
            for done in as_completed(futures):
                if done.exception() is None and done.result().status in ("optimal", "infeasible"):
                    budget.stop()  # proven: the others can stop with what they have
        failures = {m.name: f.exception() for m, f in zip(self.members, futures) if f.exception() is not None}
        if len(failures) == len(futures):  # nobody ran: the first member's reason
            raise next(iter(failures.values()))  # type: ignore[misc]
        outputs = [_refused(problem, f.exception()) if f.exception() is not None else f.result() for f in futures]
        samples = _merged(problem, [o.sampleset for o in outputs])
        bounds = [o.bound for o in outputs if o.bound is not None]
        statuses = {o.status for o in outputs}
        status: Literal["optimal", "infeasible", "unknown"] = "optimal" if "optimal" in statuses else "infeasible" if "infeasible" in statuses else "unknown"
        info: dict[str, Any] = {
            "members": {m.name: o.info for m, o in zip(self.members, outputs)},
            "portfolio_time": time.perf_counter() - t0,
        }
        return BackendOutput(samples, bound=max(bounds) if bounds else None, status=status, info=info)
