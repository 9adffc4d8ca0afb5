"""``lns``: large-neighbourhood search on the CQM with pluggable exact or quantum sub-solvers.

A classical loop keeps an incumbent (from ``initial_backend``, a warm start, or
the race's best) and repeatedly frees a few variables -- "re-place these 12
services among these 4 sites" -- and hands the resulting small *constrained*
sub-problem (:mod:`hqopt.lns.subproblem`) to a precision sub-solver through
``hqopt.solve``. ``subsolver`` is one backend name or several (a list, or a
comma string from the CLI: ``--option subsolver=cpsat,qaoa``), chosen by gain
per second. ``Result.info["subsolvers"]`` is the ledger: calls, improvements,
gain, seconds, sub-problem sizes and QPU access time per sub-solver. This is
the constrained counterpart of ``hybrid`` (dwave-hybrid decomposition of the
penalty BQM).

Options: ``subsolver`` (default ``cpsat``), ``initial_backend`` (a backend name
or ``"greedy"``; default ``ls`` when installed; else one-hot models start from
:func:`hqopt.lns.greedy.construct`
-- ``sa`` on the penalty model leaves a 60x8 placement hundreds of units
infeasible -- and other models from ``sa``), ``k`` (starting neighbourhood size, variables;
it adapts), ``iterations`` and ``patience`` (untimed runs),
``sub_time_limit`` (seconds per sub-solve; default adaptive),
``subsolver_options`` (``{name: {option: value}}``).

Example:
    >>> import hqopt
    >>> from hqopt.formulations.placement import Placement
    >>> from hqopt.formulations.placement_generator import generate_placement
    >>> spec = generate_placement(12, 3, seed=1)
    >>> model = Placement.from_spec({k: v for k, v in spec.items() if k != "kind"}).to_model()
    >>> r = hqopt.solve(model, backend="lns", seed=1, iterations=5, initial_backend="cpsat")
    >>> r.feasible, r.info["subsolvers"]["cpsat"]["calls"] > 0
    (True, True)
"""

from __future__ import annotations

from typing import Any

import dimod

from hqopt.backends.base import Backend, BackendOutput, Capabilities
from hqopt.backends.registry import available_backends, backend_class, get_backend
from hqopt.budget import Budget
from hqopt.errors import BackendError, BackendUnavailable
from hqopt.lns.search import LNS, LNSConfig

#: the default repair sub-solver
DEFAULT_SUBSOLVER = "cpsat"


def default_initial_backend() -> str | None:
    """``ls`` (structure-aware local search) when registered; else ``None``: the greedy
    construction for one-hot models, ``sa`` for the rest."""
    return "ls" if "ls" in available_backends() else None


class LNSBackend(Backend):
    """Large-neighbourhood search; sub-problems repaired by exact/quantum sub-solvers."""

    name = "lns"
    description = "large-neighbourhood search on the CQM; sub-problems to cpsat/mip/exact/qaoa/dwave (ledger in info)"
    capabilities = Capabilities(accepts="cqm", integer_variables=True, kind="hybrid")
    option_names = ("subsolver", "initial_backend", "k", "iterations", "patience", "sub_time_limit", "subsolver_options")

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.config = LNSConfig(
            subsolvers=_names(options.get("subsolver", DEFAULT_SUBSOLVER)),
            initial_backend=options.get("initial_backend") or default_initial_backend(),
            sub_options=dict(options.get("subsolver_options") or {}),
        )
        start = self.config.initial_backend
        for name in self.config.subsolvers + ([] if start in (None, "greedy") else [start]):
            if name in ("lns", "auto", "portfolio"):
                raise BackendError(f"backend 'lns': {name!r} cannot be a sub-solver or initial backend")
            if name not in available_backends():
                raise BackendError(f"backend 'lns': unknown sub-solver {name!r}; available backends: {', '.join(available_backends())}")
            status = backend_class(name).availability()
            if not status.available:
                raise BackendUnavailable(f"backend 'lns': sub-solver {name!r} is not available here: {status.reason}")
            get_backend(name, **self.config.options_for(name))  # built once here, in the caller's thread: their
            # options are checked and heavy imports done (see qaoa)
        for key in ("k", "iterations", "patience"):
            value = self.int_option(key, None)
            if value is not None:
                setattr(self.config, key, value)
        if options.get("sub_time_limit") is not None:
            limit = float(options["sub_time_limit"])
            if not limit > 0:
                raise BackendError(f"backend 'lns': sub_time_limit must be positive, got {limit!r}")
            self.config.sub_time_limit = limit

    def run(
        self,
        problem: dimod.ConstrainedQuadraticModel,
        budget: Budget,
        seed: int | None,
        *,
        initial: dict[Any, float] | None = None,
    ) -> BackendOutput:
        self.expect_problem(problem)
        lns = LNS(problem, budget, seed, self.config)
        outcome = lns.run(initial)
        samples = lns.sampleset(outcome.x)
        return BackendOutput(samples, bound=outcome.bound, status=outcome.status, info=outcome.info)  # type: ignore[arg-type]


def _names(value: Any) -> list[str]:
    """A sub-solver option as a list of names: ``"cpsat"``, ``"cpsat,qaoa"`` or ``["cpsat", "qaoa"]``."""
    items = value.split(",") if isinstance(value, str) else list(value)
    names = list(dict.fromkeys(str(v).strip() for v in items if str(v).strip()))
    if not names:
        raise BackendError("backend 'lns': subsolver needs at least one backend name")
    return names
