"""Classical annealing-family backends from dwave-samplers: sa, tabu, steepest, sqa.

All four run in batches of reads. Without a time limit they do a fixed,
size-scaled amount of work, so a seed repeats the run exactly. With a time
limit they keep starting batches until the budget is spent (simulated and
path-integral annealing are also interrupted between reads); the batch sizes
and per-batch seeds follow a fixed schedule, so a seeded time-limited run is
a prefix of the same deterministic sequence of reads. A read is interrupted
only when it ends, so under a time limit ``num_sweeps`` (sa, sqa) is cut to
what a read can do in a quarter of the time left.

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
from hqopt.errors import BackendError, BackendOptionError

#: annealing schedules dwave-samplers offers without a schedule of one's own
BETA_SCHEDULES = ("linear", "geometric")
#: samples kept from a run (the lowest energies)
KEEP_SAMPLES = 256
#: largest batch of reads in a time-limited run
MAX_BATCH = 64
#: longest single tabu read under a time limit (it cannot be interrupted mid-read)
MAX_TABU_READ_SECONDS = 0.4
#: longest tabu batch under a time limit: a batch cannot be interrupted, so this is how late a
#: Ctrl-C or stop request is honoured; below the race's STOP_GRACE (0.5 s), so an interrupted
#: run hands in its batch and its timings instead of being left behind
MAX_TABU_BATCH_SECONDS = 0.4
#: least search time a timed tabu read is planned with (besides its setup)
MIN_TABU_SEARCH_SECONDS = 0.1
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

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._check_sampler_options()  # a bad value is an error now, not a traceback at run time

    def _check_sampler_options(self) -> None:
        """A clear error for a value dwave-samplers would refuse (the options this backend has)."""
        for name in ("num_reads", "num_sweeps", "timeout"):
            self.int_option(name, None)
        for name in ("num_restarts", "tenure"):
            self.int_option(name, None, minimum=0)
        for name in ("randomize_order", "large_sparse_opt"):
            if name in self.options and not isinstance(self.options[name], bool):
                raise BackendOptionError(f"backend '{self.name}': {name} must be true or false, got {self.options[name]!r}")
        schedule = self.options.get("beta_schedule_type")
        if schedule is not None and schedule not in BETA_SCHEDULES:
            raise BackendOptionError(f"backend '{self.name}': beta_schedule_type must be one of {', '.join(BETA_SCHEDULES)}, got {schedule!r}")
        beta = self.options.get("beta_range")
        if beta is not None:
            numbers = list(beta) if isinstance(beta, (list, tuple)) else []
            if not (len(numbers) == 2 and all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 < b < float("inf") for b in numbers)):
                raise BackendOptionError(f"backend '{self.name}': beta_range must be two positive numbers [hot, cold], got {beta!r}")

    def _sampler(self) -> dimod.Sampler:
        import dwave.samplers

        return getattr(dwave.samplers, self.sampler_name)()

    def default_reads(self, bqm: dimod.BinaryQuadraticModel) -> int:
        """Reads for an untimed run; subclasses scale it with problem size."""
        return 10

    def batch_params(self, bqm: dimod.BinaryQuadraticModel, budget: Budget, reads: int) -> dict[str, Any]:
        """Sampler parameters other than reads, seed and initial states (asked before each batch)."""
        return {}

    def run_params(self, bqm: dimod.BinaryQuadraticModel) -> dict[str, Any]:
        """Sampler parameters computed once per run (the user's options override them)."""
        return {}

    def reads_that_fit(self, bqm: dimod.BinaryQuadraticModel, budget: Budget, planned: int) -> int:
        """How many of the ``planned`` reads of a later batch fit in what is left (0: stop)."""
        return planned

    def observe(self, params: dict[str, Any], reads: int, seconds: float) -> None:
        """Told how long a batch of ``reads`` reads with ``params`` took (to size the next ones)."""

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
        user_params = self.run_params(problem)
        user_params.update({k: v for k, v in self.options.items() if k not in ("num_reads", "num_sweeps")})  # batch_params: sweeps
        total_reads = self.int_option("num_reads", None)
        if total_reads is None and not budget.limited:
            total_reads = self.default_reads(problem)
        seeds = np.random.SeedSequence(seed)
        kept: dimod.SampleSet | None = None
        batches = reads = 0
        t_start = time.perf_counter()
        for batch_index, planned in enumerate(_batch_sizes(total_reads, budget.limited)):
            size = self.reads_that_fit(problem, budget, planned) if budget.limited and batch_index else planned
            if size < 1:
                break
            kwargs = self.batch_params(problem, budget, size)
            kwargs.update(user_params)
            kwargs["num_reads"] = size
            kwargs["seed"] = int(seeds.spawn(1)[0].generate_state(1)[0]) & 0x7FFFFFFF
            if self.interruptible and budget.limited:
                kwargs["interrupt_function"] = budget.expired
            if initial is not None and batch_index == 0:
                kwargs["initial_states"] = _initial_states(problem, initial)
                kwargs["initial_states_generator"] = "random"
            t_batch = time.perf_counter()
            batch = sampler.sample(problem, **kwargs)
            self.observe(kwargs, size, time.perf_counter() - t_batch)
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


def _sweeps_for(bqm: dimod.BinaryQuadraticModel, budget: Budget, default: int, cost: float = 4e-9) -> int:
    """The sweeps asked for (``num_sweeps``, else the default), cut down when one read would not
    fit in a quarter of the budget (a read is interrupted only when it ends).

    ``cost``: seconds per sweep per variable-or-coupling (SA ~4e-9; SQA, with its
    Trotter slices, ~1e-7).
    """
    n, nnz = _problem_size(bqm)
    if not budget.limited:
        return default
    seconds_per_sweep = (n + 2 * nnz) * cost
    affordable = budget.remaining() / 4 / max(seconds_per_sweep, 1e-12)
    return int(max(min(10, default), min(default, affordable)))


def default_beta_range(bqm: dimod.BinaryQuadraticModel) -> list[float]:
    """dwave-samplers' default (hot, cold) inverse temperatures, computed with NumPy.

    Same rule as ``dwave.samplers.sa.sampler._default_ising_beta_range``
    (hot: every spin flips with probability >= 1/2; cold: excitations from the
    smallest per-spin bias below 1 %), whose Python loop over the couplings
    takes seconds on dense problems (1.4 s on QAPLIB n = 30) and ran before
    every batch. Computed once per run here.

    >>> default_beta_range(dimod.BQM({"a": 1.0}, {("a", "b"): -2.0}, 0, "SPIN"))  # doctest: +ELLIPSIS
    [0.115..., 2.302...]
    """
    spin = bqm if bqm.vartype is dimod.SPIN else bqm.change_vartype(dimod.SPIN, inplace=False)
    vectors = spin.to_numpy_vectors()
    h, (row, col, J) = vectors[0], vectors[1]
    n = len(h)
    h, J = np.abs(np.asarray(h, dtype=float)), np.abs(np.asarray(J, dtype=float))
    total = h + np.bincount(row, J, minlength=n) + np.bincount(col, J, minlength=n)
    smallest = np.where(h > 0, h, np.inf)
    nonzero = J > 0
    for ends in (row, col):
        np.minimum.at(smallest, ends[nonzero], J[nonzero])
    finite = smallest[np.isfinite(smallest)]
    if len(finite) == 0:
        return [0.1, 1.0]
    hot = float(np.log(2) / (2 * total.max())) if total.max() > 0 else 1.0
    least = finite.min()
    cold = float(np.log(np.sum(finite == least) / 0.01) / (2 * least))
    return [hot, cold]


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
        return {"num_sweeps": _sweeps_for(bqm, budget, self.int_option("num_sweeps", 1000) or 1000)}

    def run_params(self, bqm: dimod.BinaryQuadraticModel) -> dict[str, Any]:
        return {"beta_range": default_beta_range(bqm)}


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
        return {"num_sweeps": _sweeps_for(bqm, budget, self.int_option("num_sweeps", 1000) or 1000, cost=1e-7)}

    def run_params(self, bqm: dimod.BinaryQuadraticModel) -> dict[str, Any]:
        return {"beta_range": default_beta_range(bqm)}


class TabuBackend(_BatchedBackend):
    """Multistart tabu search (dwave-samplers' TabuSampler).

    Untimed, each read stops after ``num_restarts`` (default 10) tabu restarts,
    so a seed repeats the run; under a time limit a batch's reads share a
    quarter of the remaining time, at most :data:`MAX_TABU_BATCH_SECONDS` (and
    :data:`MAX_TABU_READ_SECONDS` a read), so improvements are reported as
    they are found and a stop request is honoured within that.
    """

    name = "tabu"
    description = "multistart tabu search (dwave-samplers)"
    capabilities: ClassVar[Capabilities] = Capabilities(accepts="bqm", max_variables=MAX_TABU_VARIABLES)
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
                f"it takes at most {MAX_TABU_VARIABLES} variables: use sa or ls"
            )
        return super().run(problem, budget, seed, initial=initial)

    def batch_params(self, bqm: dimod.BinaryQuadraticModel, budget: Budget, reads: int) -> dict[str, Any]:
        if budget.limited:  # the batch's reads share a quarter of what is left (at most
            # MAX_TABU_BATCH_SECONDS): improvements are reported (history, target, live display)
            # as they come, and Ctrl-C is answered within the race's grace
            share = min(max(budget.remaining() / 4, 0.05), MAX_TABU_BATCH_SECONDS)
            per_read = min(share / reads - self._setup_seconds(bqm), MAX_TABU_READ_SECONDS)
            return {"num_restarts": 10**6, "timeout": max(1, int(per_read * 1000))}
        return {"num_restarts": 10, "timeout": 10**9}  # stop on restarts only: deterministic

    def reads_that_fit(self, bqm: dimod.BinaryQuadraticModel, budget: Budget, planned: int) -> int:
        # each read costs its setup plus at least 10 ms of search; a batch fits in MAX_TABU_BATCH_SECONDS
        setup = self._setup_seconds(bqm)
        per_batch = max(1, int(MAX_TABU_BATCH_SECONDS / (setup + MIN_TABU_SEARCH_SECONDS)))
        return min(planned, per_batch, int(budget.remaining() / (setup + 0.01)))

    def observe(self, params: dict[str, Any], reads: int, seconds: float) -> None:
        if "timeout" in params and params.get("num_restarts") == 10**6:  # a timed batch: learn the real setup cost
            setup = seconds / max(reads, 1) - params["timeout"] / 1000
            self._observed_setup = max(getattr(self, "_observed_setup", 0.0), setup)

    def _setup_seconds(self, bqm: dimod.BinaryQuadraticModel) -> float:
        """Time TabuSampler spends per read outside its ``timeout`` (it builds a dense n x n matrix:
        0.3-0.5 s at n = 2000, more on a busy machine): the estimate or what a batch showed."""
        return max(1.5e-7 * bqm.num_variables**2 + 0.002, getattr(self, "_observed_setup", 0.0))


class SteepestDescentBackend(_BatchedBackend):
    """Steepest greedy descent from random starts (dwave-samplers' SteepestDescentSolver)."""

    name = "steepest"
    description = "steepest greedy descent from random starts (dwave-samplers)"
    sampler_name = "SteepestDescentSolver"
    option_names = ("num_reads", "large_sparse_opt")

    def default_reads(self, bqm: dimod.BinaryQuadraticModel) -> int:
        n, nnz = _problem_size(bqm)
        return int(min(1000, max(10, 5e7 // max(n * (n + nnz), 1))))
