"""``hybrid``: solve a large BQM by sending small sub-problems to another backend.

Built on D-Wave's dwave-hybrid. Each iteration of the workflow

    energy-impact decomposer(size) | sub-backend on the sub-problem | SplatComposer | steepest descent

picks the ``sub_size`` variables whose flips matter most (breadth-first, so
the sub-problem is connected; dwave-hybrid's ``EnergyImpactDecomposer`` choice,
computed on arrays by :mod:`hqopt.backends.hybrid_decomposer`), fixes every other variable at its current
value, solves that small BQM on the sub-backend (default ``sa``;
``qaoa`` or ``dwave-mock``/``dwave`` put a quantum device on exactly the narrow
part), writes the answer back and polishes the whole sample with a
steepest-descent pass. The loop stops after ``max_iter`` iterations, after
``convergence`` iterations without improvement, or when the time is up. Such a
single-sample search can settle in a local minimum, so it restarts from
``restarts`` random samples (default 5; with a time limit it keeps restarting
until the time is up) and keeps the best.

Any hqopt backend works as the sub-backend because every hqopt
:class:`~hqopt.backends.base.Backend` is a dimod Sampler.

Example:
    >>> import dimod, hqopt
    >>> bqm = dimod.generators.gnp_random_bqm(40, 0.2, "BINARY", random_state=1)
    >>> r = hqopt.solve(bqm, backend="hybrid", seed=2, sub_size=10)
    >>> r.info["subproblems"] > 0, r.info["sub_backend"]
    (True, 'sa')
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import math
import time
from typing import Any

import dimod
import numpy as np

from hqopt.backends.base import Availability, Backend, BackendOutput, Capabilities, seed_sequence, standard_bqm
from hqopt.budget import Budget
from hqopt.errors import BackendError, BackendOptionError

DEFAULT_SUB_SIZE = 16
DEFAULT_SUB_BACKEND = "sa"
DEFAULT_RESTARTS = 5


class HybridBackend(Backend):
    """Decomposition over dwave-hybrid with any hqopt backend on the sub-problems."""

    name = "hybrid"
    capabilities = Capabilities(accepts="bqm", kind="hybrid", extra="quantum")
    description = "decomposition (dwave-hybrid): sub-problems of sub_size variables go to sub_backend (sa, tabu, qaoa, dwave-mock, ...)"
    option_names = ("sub_backend", "sub_options", "sub_size", "max_iter", "convergence", "restarts")

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        size = self.int_option("sub_size", DEFAULT_SUB_SIZE)
        for key in ("max_iter", "convergence", "restarts"):
            self.int_option(key, None)
        from hqopt.backends.registry import get_backend

        sub = self.options.get("sub_backend", DEFAULT_SUB_BACKEND)
        if sub == "hybrid" or isinstance(sub, HybridBackend):
            raise BackendOptionError("sub_backend cannot be 'hybrid' itself")
        self.sub_backend = get_backend(sub, **dict(self.options.get("sub_options") or {}))
        if self.sub_backend.capabilities.accepts != "bqm":
            raise BackendOptionError(f"sub_backend '{self.sub_backend.name}' must take BQMs")
        limit = self.sub_backend.capabilities.max_variables
        sub_limit = getattr(self.sub_backend, "options", {}).get("max_qubits", limit)
        if sub_limit is not None and size > sub_limit:
            raise BackendOptionError(f"sub_size {size} is larger than what sub_backend '{self.sub_backend.name}' takes ({sub_limit})")

    @classmethod
    def availability(cls) -> Availability:
        if importlib.util.find_spec("hybrid") is None:
            return Availability(False, "needs dwave-hybrid: pip install 'hqopt[quantum]'")
        return Availability(True)

    def run(
        self,
        problem: dimod.BinaryQuadraticModel,
        budget: Budget,
        seed: int | None,
        *,
        initial: dict[Any, float] | None = None,
    ) -> BackendOutput:
        self.expect_problem(problem)
        import hybrid

        from hqopt.backends.hybrid_decomposer import ArrayImpactDecomposer

        problem = standard_bqm(problem)  # dwave-hybrid cannot take a DictBQM
        n = problem.num_variables
        size = min(int(self.options.get("sub_size", DEFAULT_SUB_SIZE)), n)
        rounds_to_cover = math.ceil(n / size)
        max_iter = self.options.get("max_iter") or 4 * rounds_to_cover
        convergence = self.options.get("convergence") or 2 * rounds_to_cover + 1
        restarts = self.options.get("restarts") or DEFAULT_RESTARTS
        start_seeds = iter(seed_sequence(seed, 10_000))
        sub_sampler = _subproblem_sampler(self.sub_backend, seed_sequence(None if seed is None else seed + 1, 1_000))
        t0 = time.perf_counter()
        decomposer = ArrayImpactDecomposer(problem, size)  # built once: its sparse matrix serves every restart
        found: list[dimod.SampleSet] = []
        abandoned = 0
        while len(found) < restarts or (budget.limited and not budget.expired()):
            latest = _Latest(budget)
            iteration = decomposer | sub_sampler | hybrid.SplatComposer() | hybrid.SteepestDescentProblemSampler() | latest
            loop = hybrid.LoopUntilNoImprovement(
                iteration,
                max_iter=max_iter,
                convergence=convergence,
                max_time=budget.remaining() if budget.limited else None,
                terminate=lambda _: budget.expired(),  # Ctrl-C / stop after each iteration
            )
            first = initial if not found else None
            state = hybrid.State.from_sample(_start(problem, first, next(start_seeds)), problem)
            final = _run_within(loop, state, budget)
            if final is None:  # the deadline fell inside an iteration: it was left to finish on its own
                abandoned += 1
                final = latest.state or state
            found.append(final.samples)
            budget.report(final.samples)
            if budget.expired():
                break
        samples = dimod.concatenate(found).aggregate()
        info: dict[str, Any] = {
            "restarts": len(found),
            "sub_backend": self.sub_backend.name,
            "sub_size": size,
            "subproblems": sub_sampler.calls,
            "abandoned_iterations": abandoned,
            "sampler_time": time.perf_counter() - t0,
        }
        info.update({f"sub_{k}": v for k, v in sub_sampler.info.items()})
        return BackendOutput(samples, info=info)


def _run_within(loop: Any, state: Any, budget: Budget) -> Any:
    """Run a dwave-hybrid loop until it ends or the budget does (deadline, Ctrl-C, stop).

    One iteration on a large dense problem can take seconds, and the loop
    checks its own limits only between iterations; at the deadline it is asked
    to stop and left to end its iteration in the background, and ``None`` is
    returned.
    """
    future = loop.run(state)
    while True:
        try:
            return future.result(timeout=0.02)
        except concurrent.futures.TimeoutError:
            if budget.expired():
                loop.stop()
                return None
        except BackendError:
            raise
        except Exception as exc:  # a failing sub-backend is reported in one line
            raise BackendError(f"backend 'hybrid' failed: {type(exc).__name__}: {exc}") from exc


def _latest_class() -> type:
    import hybrid

    class Latest(hybrid.traits.SISO, hybrid.Runnable):
        """Last step of each iteration: keeps the state and reports improvements at once."""

        def __init__(self, budget: Budget) -> None:
            super().__init__()
            self.budget = budget
            self.state: Any = None

        def next(self, state: Any, **runopts: Any) -> Any:
            if self.state is None or state.samples.first.energy < self.state.samples.first.energy:
                self.budget.report(state.samples)
            self.state = state
            return state

    return Latest


def _Latest(budget: Budget) -> Any:  # noqa: N802 - builds the Runnable subclass lazily (dwave-hybrid is optional)
    return _latest_class()(budget)


def _start(bqm: dimod.BinaryQuadraticModel, initial: dict[Any, float] | None, seed: int) -> dict[Any, int]:
    """Warm start where given, random bits (seeded) elsewhere."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, size=bqm.num_variables)
    return {v: int(initial[v]) if initial and v in initial else int(b) for v, b in zip(bqm.variables, bits)}


def _subproblem_sampler(backend: Backend, seeds: list[int]) -> Any:
    """A dwave-hybrid SubproblemSampler that solves each sub-problem on ``backend``."""
    import hybrid

    class BackendSubproblemSampler(hybrid.traits.SubproblemSampler, hybrid.traits.SISO, hybrid.Runnable):
        def __init__(self) -> None:
            super().__init__()
            self.calls = 0
            self.info: dict[str, Any] = {}

        def next(self, state: Any, **runopts: Any) -> Any:
            seed = seeds[self.calls % len(seeds)]
            self.calls += 1
            samples = backend.sample(state.subproblem, seed=seed)
            for key, value in samples.info.items():
                if key.endswith("_time") and isinstance(value, (int, float)):
                    self.info[key] = self.info.get(key, 0.0) + float(value)
            return state.updated(subsamples=samples)

    return BackendSubproblemSampler()
