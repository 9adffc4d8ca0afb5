"""Classical annealing-family backends from dwave-samplers: sa, tabu, steepest, sqa.

All four run in batches of reads. Without a time limit they do a fixed,
size-scaled amount of work, so a seed repeats the run exactly. With a time
limit they keep starting batches until the budget is spent (simulated and
path-integral annealing are also interrupted between reads); the batch sizes
and per-batch seeds follow a fixed schedule, so a seeded time-limited run is
a prefix of the same deterministic sequence of reads.

Example:
    >>> import dimod
    >>> from hqopt.backends.anneal import TabuBackend
    >>> bqm = dimod.BQM({"a": 1, "b": -1}, {("a", "b"): -3}, 0, "BINARY")
    >>> float(TabuBackend().sample(bqm, seed=5).first.energy)
    -3.0
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, ClassVar

import dimod
import numpy as np

from hqopt.backends.base import Backend, BackendOutput, Capabilities
from hqopt.budget import Budget
from hqopt.errors import BackendError

#: samples kept from a run (the lowest energies)
KEEP_SAMPLES = 256
#: largest batch of reads in a time-limited run
MAX_BATCH = 64
#: longest single tabu read under a time limit (it cannot be interrupted mid-read)
MAX_TABU_READ_SECONDS = 2.0
#: most variables tabu takes: dwave-samplers' TabuSampler builds dense n x n float matrices
#: (about 3 of them at once: 3.5 GB at this size); beyond it, a BackendError instead of a blow-up
MAX_TABU_VARIABLES = 12_000


def _problem_size(bqm: dimod.BinaryQuadraticModel) -> tuple[int, int]:
    return bqm.num_variables, bqm.num_interactions


class _BatchedBackend(Backend):
    """Shared loop: batches of reads until the work or the time is spent."""

    capabilities: ClassVar[Capabilities] = Capabilities(accepts="bqm")
    #: dimod sampler class from dwave.samplers
    sampler_name: ClassVar[str]
    #: does the sampler accept ``interrupt_function``?
    interruptible: ClassVar[bool] = False

    def _sampler(self) -> dimod.Sampler:
        import dwave.samplers

        return getattr(dwave.samplers, self.sampler_name)()

    def default_reads(self, bqm: dimod.BinaryQuadraticModel) -> int:
        """Reads for an untimed run; subclasses scale it with problem size."""
        return 10

    def batch_params(self, bqm: dimod.BinaryQuadraticModel, budget: Budget, reads: int) -> dict[str, Any]:
        """Sampler parameters other than reads, seed and initial states (asked before each batch)."""
        return {}

    def run(
        self,
        problem: dimod.BinaryQuadraticModel,
        budget: Budget,
        seed: int | None,
        *,
        initial: dict[Any, float] | None = None,
    ) -> BackendOutput:
        self.expect_problem(problem)
        sampler = self._sampler()
        user_params = {k: v for k, v in self.options.items() if k != "num_reads"}
        total_reads = self.int_option("num_reads", None)
        if total_reads is None and not budget.limited:
            total_reads = self.default_reads(problem)
        seeds = np.random.SeedSequence(seed)
        kept: dimod.SampleSet | None = None
        batches = reads = 0
        t_start = time.perf_counter()
        for batch_index, size in enumerate(_batch_sizes(total_reads, budget.limited)):
            kwargs = self.batch_params(problem, budget, size)
            kwargs.update(user_params)
            kwargs["num_reads"] = size
            kwargs["seed"] = int(seeds.spawn(1)[0].generate_state(1)[0]) & 0x7FFFFFFF
            if self.interruptible and budget.limited:
                kwargs["interrupt_function"] = budget.expired
            if initial is not None and batch_index == 0:
                kwargs["initial_states"] = _initial_states(problem, initial)
                kwargs["initial_states_generator"] = "random"
            batch = sampler.sample(problem, **kwargs)
            batches += 1
            reads += len(batch)
            budget.report(batch)
            kept = _keep_best(batch if kept is None else dimod.concatenate([kept, batch]))
            if budget.expired() or (total_reads is not None and reads >= total_reads):
                break
        assert kept is not None
        info = {"num_reads": reads, "batches": batches, "sampler_time": time.perf_counter() - t_start}
        return BackendOutput(kept, info=info)


def _keep_best(samples: dimod.SampleSet) -> dimod.SampleSet:
    """Distinct samples, the KEEP_SAMPLES lowest energies (a running merge keeps memory flat)."""
    samples = samples.aggregate()
    return samples.truncate(KEEP_SAMPLES) if len(samples) > KEEP_SAMPLES else samples


def _batch_sizes(total: int | None, limited: bool) -> Iterator[int]:
    """1, 2, 4, ... up to MAX_BATCH per batch (capped at what is left of ``total``)."""
    done, size = 0, 1
    while total is None or done < total:
        step = size if total is None else min(size, total - done)
        if not limited and total is not None:
            step = total - done  # untimed: one batch of everything
        yield step
        done += step
        size = min(size * 2, MAX_BATCH)


def _initial_states(bqm: dimod.BinaryQuadraticModel, initial: dict[Any, float]) -> dimod.SampleSet:
    missing = [v for v in bqm.variables if v not in initial]
    state = {v: int(initial.get(v, 0)) for v in bqm.variables}
    del missing  # slack and encoding bits start at 0; the sampler moves them
    return dimod.SampleSet.from_samples_bqm(state, bqm)


def _sweeps_for(bqm: dimod.BinaryQuadraticModel, budget: Budget, default: int) -> int:
    """Default sweeps, cut down when one read would not fit in a quarter of the budget."""
    n, nnz = _problem_size(bqm)
    if not budget.limited:
        return default
    seconds_per_sweep = (n + 2 * nnz) * 4e-9
    affordable = budget.remaining() / 4 / max(seconds_per_sweep, 1e-12)
    return int(max(10, min(default, affordable)))


class SimulatedAnnealingBackend(_BatchedBackend):
    """Simulated annealing (dwave-samplers' SimulatedAnnealingSampler)."""

    name = "sa"
    description = "simulated annealing (dwave-samplers), anytime over batches of reads"
    sampler_name = "SimulatedAnnealingSampler"
    interruptible = True
    option_names = ("num_reads", "num_sweeps", "beta_range", "beta_schedule_type", "randomize_order")

    def default_reads(self, bqm: dimod.BinaryQuadraticModel) -> int:
        n, nnz = _problem_size(bqm)
        work_per_read = 1000 * (n + 2 * nnz)
        return int(min(100, max(8, 2e8 // max(work_per_read, 1))))

    def batch_params(self, bqm: dimod.BinaryQuadraticModel, budget: Budget, reads: int) -> dict[str, Any]:
        return {"num_sweeps": _sweeps_for(bqm, budget, 1000)}


class PathIntegralBackend(_BatchedBackend):
    """Simulated quantum annealing, path-integral Monte Carlo (PathIntegralAnnealingSampler)."""

    name = "sqa"
    description = "simulated quantum annealing, path-integral Monte Carlo (dwave-samplers)"
    sampler_name = "PathIntegralAnnealingSampler"
    interruptible = True
    option_names = ("num_reads", "num_sweeps", "beta_range", "beta_schedule_type")

    def default_reads(self, bqm: dimod.BinaryQuadraticModel) -> int:
        n, nnz = _problem_size(bqm)
        work_per_read = 1000 * (n + 2 * nnz)
        return int(min(50, max(4, 1e8 // max(work_per_read, 1))))

    def batch_params(self, bqm: dimod.BinaryQuadraticModel, budget: Budget, reads: int) -> dict[str, Any]:
        return {"num_sweeps": _sweeps_for(bqm, budget, 1000)}


class TabuBackend(_BatchedBackend):
    """Multistart tabu search (dwave-samplers' TabuSampler).

    Untimed, each read stops after ``num_restarts`` (default 10) tabu restarts,
    so a seed repeats the run; under a time limit each read runs for its share
    of the remaining time, at most :data:`MAX_TABU_READ_SECONDS`.
    """

    name = "tabu"
    description = "multistart tabu search (dwave-samplers)"
    sampler_name = "TabuSampler"
    option_names = ("num_reads", "num_restarts", "timeout", "tenure")

    def default_reads(self, bqm: dimod.BinaryQuadraticModel) -> int:
        return 8

    def run(
        self,
        problem: dimod.BinaryQuadraticModel,
        budget: Budget,
        seed: int | None,
        *,
        initial: dict[Any, float] | None = None,
    ) -> BackendOutput:
        n = problem.num_variables
        if n > MAX_TABU_VARIABLES:
            gigabytes = 3 * 8 * n * n / 1e9
            raise BackendError(
                f"tabu keeps dense n x n matrices (about {gigabytes:,.0f} GB for n = {n}); "
                f"it takes at most {MAX_TABU_VARIABLES} variables: use sa or steepest"
            )
        return super().run(problem, budget, seed, initial=initial)

    def batch_params(self, bqm: dimod.BinaryQuadraticModel, budget: Budget, reads: int) -> dict[str, Any]:
        if budget.limited:  # the batch's reads share what is left; short reads keep Ctrl-C responsive
            per_read = min(budget.remaining() / reads, MAX_TABU_READ_SECONDS)
            return {"num_restarts": 10**6, "timeout": max(1, int(per_read * 1000))}
        return {"num_restarts": 10, "timeout": 10**9}  # stop on restarts only: deterministic


class SteepestDescentBackend(_BatchedBackend):
    """Steepest greedy descent from random starts (dwave-samplers' SteepestDescentSolver)."""

    name = "steepest"
    description = "steepest greedy descent from random starts (dwave-samplers)"
    sampler_name = "SteepestDescentSolver"
    option_names = ("num_reads", "large_sparse_opt")

    def default_reads(self, bqm: dimod.BinaryQuadraticModel) -> int:
        n, nnz = _problem_size(bqm)
        return int(min(1000, max(10, 5e7 // max(n * (n + nnz), 1))))
