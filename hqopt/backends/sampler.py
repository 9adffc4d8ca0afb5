"""Use any dimod Sampler as an hqopt backend (``solve(model, backend=sampler)``).

The sampler gets the penalty-compiled BQM. ``seed`` and ``time_limit`` are
passed on only if the sampler declares them in its ``parameters`` (e.g.
dwave-samplers take ``seed``; Leap hybrid samplers take ``time_limit``).
Other keyword options are passed through to ``sample`` unchanged.

Example:
    >>> import dimod, hqopt
    >>> r = hqopt.solve(hqopt.Model.from_qubo({(0, 0): -1, (1, 1): 1}), backend=dimod.ExactSolver())
    >>> r.backend, r.objective
    ('dimod:ExactSolver', -1.0)
"""

from __future__ import annotations

import time
from typing import Any

import dimod

from hqopt.backends.base import Backend, BackendOutput, Capabilities
from hqopt.budget import Budget
from hqopt.errors import BackendError


class DimodSamplerBackend(Backend):
    """Wraps a dimod Sampler instance; one ``sample`` call per run."""

    name = "dimod-sampler"
    description = "any dimod Sampler instance, on the penalty-compiled BQM"
    capabilities = Capabilities(accepts="bqm")

    def __init__(self, sampler: dimod.Sampler, **sample_options: Any) -> None:
        if not isinstance(sampler, dimod.Sampler):
            raise BackendError(f"expected a dimod Sampler, got {type(sampler).__name__}")
        self.sampler = sampler
        self.options = sample_options
        self.name = f"dimod:{type(sampler).__name__}"  # type: ignore[misc]

    def run(
        self,
        problem: dimod.BinaryQuadraticModel,
        budget: Budget,
        seed: int | None,
        *,
        initial: dict[Any, float] | None = None,
    ) -> BackendOutput:
        accepted = set(self.sampler.parameters)
        kwargs = dict(self.options)
        if "seed" in accepted and seed is not None:
            kwargs.setdefault("seed", seed)
        if "time_limit" in accepted and budget.limited:
            kwargs.setdefault("time_limit", budget.remaining())
        t0 = time.perf_counter()
        samples = self.sampler.sample(problem, **kwargs)
        samples.resolve()
        budget.report(samples)
        return BackendOutput(samples, info={"sampler_time": time.perf_counter() - t0})
