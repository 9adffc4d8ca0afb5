"""D-Wave backends: the QPU behind minor-embedding, its offline mock, and Leap hybrid.

* ``dwave``: dwave-system's :class:`~dwave.system.DWaveSampler`. The logical
  BQM is minor-embedded with minorminer (seeded, time-bounded; the embedding is
  reused across penalty rounds; under a time limit the search may take 90 % of
  the round's time, and running out of time yields no samples and a message in
  ``info["compile"]`` rather than an error) and sampled through
  :class:`~dwave.system.FixedEmbeddingComposite`, with a chain strength (default:
  uniform torque compensation; a number or a callable also accepted) and a
  chain-break resolution method. QPU parameters (``annealing_time``, ...) pass
  through unchanged.
* ``dwave-mock``: exactly the same path on dwave-system's
  :class:`~dwave.system.testing.MockDWaveSampler` with a full Advantage
  (Pegasus P16) or Advantage2 (Zephyr Z12) graph, so everything runs offline.
  The mock's "QPU" is steepest descent on the embedded problem (exact for
  <= 16 physical qubits) and its timing figures are fixed demonstration values.
* ``leap-hybrid``: Leap's hybrid solvers -- the CQM solver for constrained or
  integer models (constraints stay native, no penalties), the BQM solver for
  unconstrained binary ones -- with ``time_limit`` clamped to the solver's
  minimum and maximum.

The QPU backends report the chain-break fraction, the embedding size (physical
qubits, longest and mean chain), the time to embed and the QPU timing in
seconds. Credentials come from the standard Ocean configuration (``dwave
config create`` or ``DWAVE_API_TOKEN``).

Example (offline):
    >>> import hqopt
    >>> m = hqopt.Model.from_qubo({(0, 0): -1, (1, 1): -1, (0, 1): 2})
    >>> r = hqopt.solve(m, backend="dwave-mock", seed=1)
    >>> r.objective, r.info["max_chain_length"]
    (-1.0, 1)
"""

from __future__ import annotations

import atexit
import importlib.util
import math
import os
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import dimod
import numpy as np

from hqopt.backends.base import Availability, Backend, BackendOutput, Capabilities
from hqopt.budget import Budget
from hqopt.errors import BackendError, BackendOptionError, BackendUnavailable

#: QPU topologies the mock and ``hqopt analyze`` know: name -> (MockDWaveSampler type, shape, system)
TOPOLOGIES: dict[str, tuple[str, list[int], str]] = {
    "pegasus": ("pegasus", [16], "Advantage (Pegasus P16)"),
    "zephyr": ("zephyr", [12, 4], "Advantage2 (Zephyr Z12)"),
}
#: (qubits, couplers) of each full mock graph: a problem beyond them is refused before loading dwave-system
TOPOLOGY_SIZES: dict[str, tuple[int, int]] = {"pegasus": (5640, 40484), "zephyr": (4800, 45864)}
#: seconds minorminer may search for an embedding (per try)
DEFAULT_EMBEDDING_TIMEOUT = 60.0
#: embeddings a backend instance keeps (the newest): its penalty rounds reuse one, and an LNS run,
#: which keeps one instance for all its sub-problems, would otherwise keep one per sub-problem
EMBEDDINGS_KEPT = 64
#: the part of a round's remaining time an embedding search may take (the sampling needs the rest)
EMBEDDING_SHARE = 0.9
#: below this many seconds an embedding search is not started
MIN_SEARCH_SECONDS = 0.05
#: reads per QPU call unless ``num_reads`` is given
DEFAULT_NUM_READS = 100
#: DWaveSampler parameters passed through unchanged when given as backend options
QPU_PARAMETERS: tuple[str, ...] = (
    "annealing_time",
    "anneal_schedule",
    "anneal_offsets",
    "auto_scale",
    "fast_anneal",
    "flux_biases",
    "flux_drift_compensation",
    "h_gain_schedule",
    "initial_state",
    "label",
    "programming_thermalization",
    "readout_thermalization",
    "reduce_intersample_correlation",
    "reinitialize_state",
    "answer_mode",
)
_CHAIN_BREAK_METHODS = ("majority_vote", "minimize_energy", "weighted_random", "discard")


def _has(module: str) -> bool:
    """Whether ``module`` is importable, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _missing_extra() -> Availability | None:
    if not _has("dwave.system") or not _has("minorminer"):
        return Availability(False, "needs dwave-system and minorminer: pip install 'hqopt[quantum]'")
    return None


def leap_credentials() -> Availability:
    """Whether a Leap API token is configured (``DWAVE_API_TOKEN`` or ``dwave config``)."""
    missing = _missing_extra()
    if missing is not None:
        return missing
    if os.environ.get("DWAVE_API_TOKEN"):
        return Availability(True)
    from dwave.cloud.config import load_config

    try:
        token = load_config().get("token")
    except Exception as exc:  # noqa: BLE001 - a broken config file is a reason, not a crash
        return Availability(False, f"cannot read the D-Wave configuration: {exc}")
    if token:
        return Availability(True)
    return Availability(
        False, "no D-Wave Leap API token: run 'dwave config create' or set DWAVE_API_TOKEN"
    )


# ------------------------------------------------------------------ embedding
#: minorminer checks its own timeout only between stages: the child process running it is
#: ended at ``HARD_LIMIT_FACTOR * timeout + HARD_LIMIT_SLACK`` seconds (so a stage that runs
#: past the timeout can still hand back the best embedding found by then)
HARD_LIMIT_FACTOR = 1.5
HARD_LIMIT_SLACK = 0.5


def hard_limit_for(timeout: float) -> float:
    """Seconds after which an embedding search with minorminer ``timeout`` is ended.

    >>> hard_limit_for(0.5), hard_limit_for(60.0)
    (1.25, 90.5)
    """
    return HARD_LIMIT_FACTOR * timeout + HARD_LIMIT_SLACK


@dataclass(frozen=True)
class EmbeddingReport:
    """What one minor-embedding attempt found (shared with ``hqopt analyze``).

    ``failure`` says why nothing was found: ``"too-big"`` (more variables or
    interactions than the graph has qubits or couplers), ``"time"`` (the search
    ran out of time) or ``"stopped"`` (Ctrl-C, a stop request); ``""`` when found.
    """

    embedding: dict[Any, tuple[int, ...]] | None
    time: float
    reason: str = ""
    failure: str = ""

    @property
    def found(self) -> bool:
        return self.embedding is not None

    @property
    def physical_qubits(self) -> int:
        return sum(len(c) for c in (self.embedding or {}).values())

    @property
    def max_chain_length(self) -> int:
        return max((len(c) for c in (self.embedding or {}).values()), default=0)

    @property
    def mean_chain_length(self) -> float:
        chains = list((self.embedding or {}).values())
        return self.physical_qubits / len(chains) if chains else 0.0

    def facts(self) -> dict[str, Any]:
        """Plain numbers for a Result's info or a report."""
        out: dict[str, Any] = {"embedded": self.found, "embedding_time": self.time}
        if self.found:
            out.update(
                physical_qubits=self.physical_qubits,
                max_chain_length=self.max_chain_length,
                mean_chain_length=round(self.mean_chain_length, 4),
            )
        else:
            out["embedding_failure"] = self.reason
        return out


def find_embedding(
    bqm: dimod.BinaryQuadraticModel,
    target_edges: list[tuple[int, int]],
    target_nodes: list[int],
    *,
    timeout: float = DEFAULT_EMBEDDING_TIMEOUT,
    seed: int | None = 0,
    tries: int = 10,
    hard_limit: float | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> EmbeddingReport:
    """Minor-embed ``bqm``'s interaction graph with minorminer (seeded, time-bounded).

    Isolated variables get a qubit each (they need one). Returns an
    :class:`EmbeddingReport`; a failed search reports why instead of raising.
    ``timeout`` is minorminer's own, which it checks only between its stages
    (a 0.5 s timeout ran 37 s on a 720-variable placement), so the search
    runs in a child process that is ended after ``hard_limit`` seconds
    (default :func:`hard_limit_for` ``(timeout)``; ``math.inf``: no child
    process), or as soon as ``should_stop()`` says so (Ctrl-C, a stop request).
    """
    variables = list(bqm.variables)
    t0 = time.perf_counter()
    if len(variables) > len(target_nodes):
        return EmbeddingReport(
            None, 0.0, f"does not fit: {len(variables)} logical variables > {len(target_nodes)} qubits", "too-big"
        )
    if bqm.num_interactions > len(target_edges):
        return EmbeddingReport(
            None, 0.0, f"does not fit: {bqm.num_interactions} interactions > {len(target_edges)} couplers", "too-big"
        )
    limit = hard_limit_for(timeout) if hard_limit is None else hard_limit
    source = [(u, v) for u, v, _ in bqm.iter_quadratic()]
    embedding: dict[Any, tuple[int, ...]] = {}
    if source:
        options = {"timeout": timeout, "tries": tries, "random_seed": 0 if seed is None else seed}
        if math.isinf(limit):
            found = _minorminer(source, target_edges, options)
        else:
            within = _minorminer_within(source, target_edges, options, limit, should_stop or (lambda: False))
            if within is None:
                elapsed = time.perf_counter() - t0
                if should_stop is not None and should_stop():
                    return EmbeddingReport(None, elapsed, "embedding search was stopped", "stopped")
                return EmbeddingReport(
                    None, elapsed,
                    f"no embedding found within {timeout:.2g} s (the search was ended after {elapsed:.2g} s: "
                    "minorminer checks its timeout only between stages)", "time",
                )  # fmt: skip
            found = within
        embedding = {v: tuple(chain) for v, chain in found.items()}
        if not embedding:
            elapsed = time.perf_counter() - t0
            return EmbeddingReport(None, elapsed, f"no embedding found within {timeout:.2g} s ({tries} tries)", "time")
    used = {q for chain in embedding.values() for q in chain}
    free = (q for q in target_nodes if q not in used)
    for v in variables:
        if v not in embedding:
            q = next(free, None)
            if q is None:
                return EmbeddingReport(
                    None, time.perf_counter() - t0, "does not fit: no qubit left for an isolated variable", "too-big"
                )
            embedding[v] = (q,)
    return EmbeddingReport(embedding, time.perf_counter() - t0)


def _minorminer(source: list, target_edges: list, options: dict[str, Any]) -> dict:
    import minorminer

    return dict(minorminer.find_embedding(source, target_edges, **options))


def _minorminer_within(
    source: list, target_edges: list, options: dict[str, Any], seconds: float, should_stop: Callable[[], bool]
) -> dict | None:
    """:func:`_minorminer` in a forked child process; ``None`` if not finished after ``seconds`` or when stopped."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child() -> None:
        send.send(_minorminer(source, target_edges, options))

    deadline = time.perf_counter() + seconds  # starting the child counts too
    process = context.Process(target=child, daemon=True)
    process.start()
    send.close()
    try:
        while not receive.poll(min(0.05, max(deadline - time.perf_counter(), 0.0))):
            if should_stop() or time.perf_counter() >= deadline:
                return None
        return receive.recv()
    except EOFError:  # the child died
        return None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receive.close()


def mock_qpu(topology: str = "pegasus", seed: int | None = None) -> Any:
    """dwave-system's MockDWaveSampler on a full Advantage or Advantage2 graph.

    Building the graph takes about a second, so one mock per topology is kept
    for the process, built once even when several threads ask at the same time
    (each solve's loader thread; an LNS run solves many sub-problems); ``seed``
    sets its sampling seed (callers set it per run).
    """
    if topology not in TOPOLOGIES:
        raise BackendOptionError(f"topology must be one of {', '.join(TOPOLOGIES)}, got {topology!r}")
    with _MOCKS_LOCK:  # a second caller waits for the first one's graph instead of building another
        if topology not in _MOCKS:
            from dwave.system.testing import MockDWaveSampler

            kind, shape, _ = TOPOLOGIES[topology]
            _MOCKS[topology] = MockDWaveSampler(topology_type=kind, topology_shape=list(shape))
    mock = _MOCKS[topology]
    mock.substitute_kwargs = {"seed": seed} if seed is not None else {}
    return mock


#: one MockDWaveSampler per topology for the process (see mock_qpu)
_MOCKS: dict[str, Any] = {}
_MOCKS_LOCK = threading.Lock()


def _chain_strength(value: Any) -> Any:
    from dwave.embedding.chain_strength import scaled, uniform_torque_compensation

    if value is None or value in ("uniform_torque_compensation", "utc"):
        return uniform_torque_compensation
    if value == "scaled":
        return scaled
    if callable(value):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BackendOptionError(
            f"chain_strength must be a number, a callable, 'uniform_torque_compensation' or 'scaled', got {value!r}"
        ) from None
    if not (number > 0 and math.isfinite(number)):
        raise BackendOptionError(f"chain_strength must be positive, got {value!r}")
    return number


def _chain_break_method(name: Any, bqm: dimod.BinaryQuadraticModel, embedding: dict) -> Callable:
    from dwave.embedding import chain_breaks

    if callable(name):
        return name
    if name is None:
        name = "majority_vote"
    if name not in _CHAIN_BREAK_METHODS:
        raise BackendOptionError(f"chain_break_method must be one of {', '.join(_CHAIN_BREAK_METHODS)}, got {name!r}")
    if name == "minimize_energy":
        method = chain_breaks.MinimizeEnergy(bqm, embedding)

        def minimize_energy(samples: Any, chains: Any) -> Any:  # a named function: dwave-system asks for __name__
            return method(samples, chains)

        return minimize_energy
    return getattr(chain_breaks, name)


def _timing_seconds(timing: dict[str, Any]) -> dict[str, float]:
    """SAPI timing (microseconds) -> seconds, keys kept (``qpu_access_time``, ...)."""
    return {str(k): float(v) * 1e-6 for k, v in timing.items() if isinstance(v, (int, float))}


#: seconds loading dwave-system and the QPU graph takes in a fresh process (a typical laptop)
TYPICAL_LOAD_SECONDS = 3.0


def suggested_time_limit(load_seconds: float, search_seconds: float) -> float:
    """A time limit (at least 10 s) under which a search of ``search_seconds`` fits its share.

    The search may take 90 % of its round's time and minorminer 2/3 of that,
    and a constrained problem's first penalty round gets half of the limit:
    hence ``2 * (load + 1.5 * search + 1)``.

    >>> suggested_time_limit(3.0, 4.2), suggested_time_limit(0.0, 0.0)
    (21.0, 10.0)
    """
    return float(max(10, math.ceil(2 * (load_seconds + HARD_LIMIT_FACTOR * search_seconds + 1.0))))


class _Loader:
    """Loads the QPU sampler in a daemon thread that outlives a round whose time ran out."""

    def __init__(self, load: Callable[[], Any]) -> None:
        self._result: Any = None
        self._error: BaseException | None = None
        self._began = time.perf_counter()
        self._ended: float | None = None
        self._thread = threading.Thread(target=self._work, args=(load,), name="hqopt-qpu-load", daemon=True)
        _LOADERS.add(self._thread)
        self._thread.start()

    def _work(self, load: Callable[[], Any]) -> None:
        try:
            self._result = load()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the waiting round
            self._error = exc
        finally:
            self._ended = time.perf_counter()

    @property
    def seconds(self) -> float:
        """Seconds spent loading (so far, while it still runs)."""
        return (self._ended if self._ended is not None else time.perf_counter()) - self._began

    def wait(self, budget: Budget) -> Any:
        """The sampler; ``None`` when ``budget`` expires or is stopped first. Re-raises a failed load."""
        while self._thread.is_alive():
            if budget.expired():
                return None
            self._thread.join(timeout=min(0.05, max(budget.remaining(), 0.001)))
        if self._error is not None:
            raise self._error
        return self._result


#: loader threads of this process: at exit they are given a moment to finish (an import
#: cut off at interpreter teardown can abort the process)
_LOADERS: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
#: seconds, in all, the interpreter waits at exit for loaders still running
LOADER_EXIT_WAIT = 10.0


@atexit.register
def _finish_loaders() -> None:
    end = time.perf_counter() + LOADER_EXIT_WAIT
    for thread in list(_LOADERS):
        thread.join(timeout=max(0.0, end - time.perf_counter()))


# --------------------------------------------------------------- QPU backends
class _EmbeddedQPUBackend(Backend):
    """Shared path: embed (cached), sample through FixedEmbeddingComposite, report."""

    capabilities: ClassVar[Capabilities] = Capabilities(accepts="bqm", kind="quantum", extra="quantum")
    option_names: ClassVar[tuple[str, ...]] = (
        "num_reads",
        "chain_strength",
        "chain_break_method",
        "embedding_timeout",
        "embedding_tries",
        "embedding_seed",
        *QPU_PARAMETERS,
    )

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.int_option("num_reads", DEFAULT_NUM_READS)
        self._chain_strength = _chain_strength(self.options.get("chain_strength"))
        method = self.options.get("chain_break_method")
        if method is not None and not callable(method) and method not in _CHAIN_BREAK_METHODS:
            raise BackendOptionError(f"chain_break_method must be one of {', '.join(_CHAIN_BREAK_METHODS)}, got {method!r}")
        self._embeddings: dict[Any, EmbeddingReport] = {}
        self._loader: _Loader | None = None
        # of the current solve (told apart by its budget's stop event): the longest embedding
        # search that ran out of time, and what was running out
        self._solve: object = None
        self._searched = 0.0
        self._last_what = ""

    def _load_qpu(self) -> Any:
        """Load dwave-system and build the structured dimod sampler to embed on (slow: seconds)."""
        raise NotImplementedError

    def _seed(self, qpu: Any, seed: int | None) -> None:
        """Seed the QPU sampler for this round (a real QPU takes no seed)."""

    def _qpu(self, budget: Budget) -> tuple[Any, float]:
        """The QPU sampler and the seconds spent loading it so far; ``None`` when the budget ran out first.

        Loading (importing dwave-system, building the graph or reaching Leap)
        runs in a thread of its own, so a round whose time runs out answers
        at once and the next round waits on the same load.
        """
        if self._loader is None:
            self._loader = _Loader(self._load_qpu)
        return self._loader.wait(budget), self._loader.seconds

    def _embedding(self, bqm: dimod.BinaryQuadraticModel, qpu: Any, budget: Budget) -> EmbeddingReport:
        """The embedding of ``bqm``'s graph: found once per structure, seeded by ``embedding_seed`` (default 0).

        The embedding is found once and reused by every later penalty round,
        so under a time limit the search may take most of this round's time:
        it is ended after 90 % of what is left (the sampling needs the rest),
        and minorminer's own timeout is set to 2/3 of that so that it hands
        back the best embedding it has found before it is ended. A failure
        other than running out of time (too big for the graph, nothing found
        within ``embedding_timeout``) raises BackendError.
        """
        key = (tuple(bqm.variables), frozenset(frozenset((u, v)) for u, v, _ in bqm.iter_quadratic()))
        if key in self._embeddings:
            return self._embeddings[key]
        timeout = float(self.options.get("embedding_timeout", DEFAULT_EMBEDDING_TIMEOUT))
        hard_limit = hard_limit_for(timeout)
        limited_by_budget = budget.limited and EMBEDDING_SHARE * budget.remaining() < hard_limit
        if limited_by_budget:
            hard_limit = EMBEDDING_SHARE * budget.remaining()
            timeout = hard_limit / HARD_LIMIT_FACTOR
            if hard_limit < MIN_SEARCH_SECONDS:
                return EmbeddingReport(None, 0.0, f"no time left for the search ({hard_limit:.2g} s)", "time")
        report = find_embedding(
            bqm,
            qpu.edgelist,
            qpu.nodelist,
            timeout=timeout,
            tries=int(self.options.get("embedding_tries", 10)),
            seed=int(self.options.get("embedding_seed", 0)),
            hard_limit=hard_limit,
            should_stop=lambda: budget.stopped,  # the hard limit keeps the time
        )
        if report.found:
            self._embeddings[key] = report
            while len(self._embeddings) > EMBEDDINGS_KEPT:
                del self._embeddings[next(iter(self._embeddings))]  # the oldest
        elif report.failure == "too-big" or not (limited_by_budget or budget.stopped):
            raise BackendError(
                f"backend '{self.name}': the problem ({bqm.num_variables} variables, "
                f"{bqm.num_interactions} interactions) cannot be embedded: {report.reason}; "
                "try backend='hybrid' to split it into sub-problems"
            )
        return report

    def run(
        self,
        problem: dimod.BinaryQuadraticModel,
        budget: Budget,
        seed: int | None,
        *,
        initial: dict[Any, float] | None = None,
    ) -> BackendOutput:
        self.expect_problem(problem)
        qpu, load_time = self._qpu(budget)
        if qpu is None:
            return self._out_of_time(problem, budget, f"loading dwave-system and the QPU graph ({load_time:.1f} s so far)", load_time)
        self._seed(qpu, seed)
        fresh = not self._embeddings
        report = self._embedding(problem, qpu, budget)
        if not report.found:
            what = f"embedding the problem ({problem.num_variables} variables, {problem.num_interactions} interactions): {report.reason}"
            return self._out_of_time(problem, budget, what, load_time, report)
        from dwave.system import FixedEmbeddingComposite

        params = {k: v for k, v in self.options.items() if k in QPU_PARAMETERS}
        t0 = time.perf_counter()
        sampler = FixedEmbeddingComposite(qpu, report.embedding)
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*not mocked in MockDWaveSampler.*")
                samples = sampler.sample(
                    problem,
                    num_reads=self.options.get("num_reads", DEFAULT_NUM_READS),
                    chain_strength=self._chain_strength,
                    chain_break_method=_chain_break_method(self.options.get("chain_break_method"), problem, report.embedding or {}),
                    chain_break_fraction=True,
                    return_embedding=True,
                    **params,
                )
                samples.resolve()
        except BackendError:
            raise
        except Exception as exc:  # noqa: BLE001 - SAPI/network errors become one clear line
            raise BackendError(f"backend '{self.name}' failed while sampling: {type(exc).__name__}: {exc}") from exc
        budget.report(samples)
        info = self._facts(samples, report, time.perf_counter() - t0)
        if fresh:
            info["qpu_load_time"] = load_time
        else:
            info["embedding_time"] = 0.0  # reused: embedding cost is counted once
        return BackendOutput(samples, info=info)

    def _out_of_time(
        self, problem: dimod.BinaryQuadraticModel, budget: Budget, what: str, load_time: float, report: EmbeddingReport | None = None
    ) -> BackendOutput:
        """No samples: this round's time ran out (or the run was stopped) before sampling could start.

        ``info["compile"]`` says why and what time limit would do (``solve``
        warns with it; the CLI prints it and exits 1: no solution within the limit).
        """
        empty = dimod.SampleSet.from_samples(
            (np.empty((0, problem.num_variables), dtype=np.int8), list(problem.variables)), problem.vartype, energy=[]
        )
        info: dict[str, Any] = dict(report.facts()) if report is not None else {"embedded": False}
        if budget.stopped:
            info["embedding_failure"] = "stopped before an embedding was found"
            return BackendOutput(empty, info=info)
        if self._solve is not budget.stop_event:  # a new solve: earlier solves' rounds don't count
            self._solve, self._searched, self._last_what = budget.stop_event, 0.0, ""
        searched = report.time if report is not None else 0.0
        if not self._last_what or searched >= self._searched:  # the round that searched longest tells
            self._searched, self._last_what = searched, what
        info["compile"] = (
            f"backend '{self.name}': the time limit ran out while {self._last_what}; no solution within the limit: "
            f"give a larger time limit (-t), e.g. {suggested_time_limit(load_time, 2 * self._searched):g} s"
        )
        info["embedding_failure"] = self._last_what
        return BackendOutput(empty, info=info)

    def _facts(self, samples: dimod.SampleSet, report: EmbeddingReport, elapsed: float) -> dict[str, Any]:
        info: dict[str, Any] = dict(report.facts())
        info["num_reads"] = int(np.sum(samples.record.num_occurrences))
        if "chain_break_fraction" in samples.record.dtype.names:
            weights = samples.record.num_occurrences
            info["chain_break_fraction"] = float(np.average(samples.record.chain_break_fraction, weights=weights))
        context = samples.info.get("embedding_context", {})
        strength = context.get("chain_strength")
        if isinstance(strength, (int, float)):
            info["chain_strength"] = float(strength)
        method = context.get("chain_break_method")
        if method is not None:
            info["chain_break_method"] = method if isinstance(method, str) else getattr(method, "__name__", type(method).__name__)
        info.update(_timing_seconds(samples.info.get("timing", {})))
        info["sampler_time"] = elapsed
        return info


class DWaveBackend(_EmbeddedQPUBackend):
    """A D-Wave QPU through Leap (needs an API token)."""

    name = "dwave"
    capabilities = Capabilities(accepts="bqm", kind="quantum", extra="quantum", needs_credentials=True)
    description = "D-Wave QPU (DWaveSampler) with minorminer embedding; needs a Leap token"
    option_names = (*_EmbeddedQPUBackend.option_names, "solver", "region", "profile")

    @classmethod
    def availability(cls) -> Availability:
        return leap_credentials()

    def _load_qpu(self) -> Any:
        status = leap_credentials()
        if not status.available:
            raise BackendUnavailable(f"backend '{self.name}' is not available here: {status.reason}")
        from dwave.system import DWaveSampler

        config = {k: self.options[k] for k in ("solver", "region", "profile") if k in self.options}
        try:
            return DWaveSampler(**config)
        except Exception as exc:  # noqa: BLE001 - config/network/solver errors: one line
            raise BackendUnavailable(f"backend '{self.name}': cannot reach a D-Wave QPU: {type(exc).__name__}: {exc}") from exc


class DWaveMockBackend(_EmbeddedQPUBackend):
    """The ``dwave`` path on dwave-system's MockDWaveSampler (offline)."""

    name = "dwave-mock"
    description = "offline D-Wave: MockDWaveSampler on an Advantage (Pegasus) or Advantage2 (Zephyr) graph"
    option_names = (*_EmbeddedQPUBackend.option_names, "topology")

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        topology = self.options.get("topology", "pegasus")
        if topology not in TOPOLOGIES:
            raise BackendOptionError(f"topology must be one of {', '.join(TOPOLOGIES)}, got {topology!r}")

    @classmethod
    def availability(cls) -> Availability:
        return _missing_extra() or Availability(True)

    def run(
        self,
        problem: dimod.BinaryQuadraticModel,
        budget: Budget,
        seed: int | None,
        *,
        initial: dict[Any, float] | None = None,
    ) -> BackendOutput:
        self.expect_problem(problem)
        topology = self.options.get("topology", "pegasus")
        qubits, couplers = TOPOLOGY_SIZES[topology]
        if problem.num_variables > qubits or problem.num_interactions > couplers:
            raise BackendError(
                f"backend '{self.name}': the problem ({problem.num_variables} variables, {problem.num_interactions} "
                f"interactions) cannot be embedded: the {topology} graph has {qubits} qubits and {couplers} couplers; "
                "try backend='hybrid' to split it into sub-problems"
            )
        return super().run(problem, budget, seed, initial=initial)

    def _load_qpu(self) -> Any:
        return mock_qpu(self.options.get("topology", "pegasus"))  # building the full QPU graph takes a while: once per process

    def _seed(self, qpu: Any, seed: int | None) -> None:
        qpu.substitute_kwargs = {"seed": seed} if seed is not None else {}

    def _facts(self, samples: dimod.SampleSet, report: EmbeddingReport, elapsed: float) -> dict[str, Any]:
        info = super()._facts(samples, report, elapsed)
        info["topology"] = TOPOLOGIES[self.options.get("topology", "pegasus")][2]
        info["timing_note"] = "MockDWaveSampler reports fixed demonstration QPU timings"
        return info


# ------------------------------------------------------------------ Leap hybrid
class LeapHybridBackend(Backend):
    """Leap's hybrid solvers: CQM solver for constrained models, BQM solver otherwise."""

    name = "leap-hybrid"
    capabilities = Capabilities(
        accepts="cqm", integer_variables=True, kind="hybrid", extra="quantum", needs_credentials=True
    )
    description = "D-Wave Leap hybrid (CQM solver with native constraints, BQM solver otherwise); needs a Leap token"
    option_names = ("solver", "region", "profile", "label")

    @classmethod
    def availability(cls) -> Availability:
        return leap_credentials()

    def _sampler(self, kind: str) -> Any:
        status = leap_credentials()
        if not status.available:
            raise BackendUnavailable(f"backend '{self.name}' is not available here: {status.reason}")
        from dwave.system import LeapHybridCQMSampler, LeapHybridSampler

        config = {k: self.options[k] for k in ("solver", "region", "profile") if k in self.options}
        cls = LeapHybridCQMSampler if kind == "cqm" else LeapHybridSampler
        try:
            return cls(**config)
        except Exception as exc:  # noqa: BLE001 - config/network/solver errors: one line
            raise BackendUnavailable(f"backend '{self.name}': cannot reach a Leap hybrid solver: {type(exc).__name__}: {exc}") from exc

    def run(
        self,
        problem: dimod.ConstrainedQuadraticModel,
        budget: Budget,
        seed: int | None,
        *,
        initial: dict[Any, float] | None = None,
    ) -> BackendOutput:
        self.expect_problem(problem)
        binary = all(problem.vartype(v) is dimod.BINARY for v in problem.variables)
        kind = "bqm" if binary and not problem.constraints else "cqm"
        sampler = self._sampler(kind)
        target: Any = problem if kind == "cqm" else dimod.BQM(problem.objective.linear, problem.objective.quadratic, problem.objective.offset, "BINARY")
        limit = self._time_limit(sampler, target, kind, budget)
        params: dict[str, Any] = {"time_limit": limit}
        if "label" in self.options:
            params["label"] = self.options["label"]
        t0 = time.perf_counter()
        try:
            if kind == "cqm":
                samples = sampler.sample_cqm(target, **params)
            else:
                samples = sampler.sample(target, **params)
            samples.resolve()
        except Exception as exc:  # noqa: BLE001 - SAPI/network errors become one clear line
            raise BackendError(f"backend '{self.name}' failed: {type(exc).__name__}: {exc}") from exc
        if kind == "bqm":  # back onto the CQM's variables, energies as the CQM's objective
            samples = dimod.SampleSet.from_samples_cqm((samples.record.sample, list(samples.variables)), problem)
        budget.report(samples)
        info: dict[str, Any] = {"leap_solver": kind, "solver_time_limit": float(limit), "sampler_time": time.perf_counter() - t0}
        for key in ("qpu_access_time", "run_time", "charge_time"):  # SAPI reports microseconds
            value = samples.info.get(key)
            if isinstance(value, (int, float)):
                info[key] = float(value) * 1e-6
        return BackendOutput(samples, info=info)

    @staticmethod
    def _time_limit(sampler: Any, target: Any, kind: str, budget: Budget) -> float:
        """The budget clamped to [solver minimum for this problem, solver maximum]."""
        minimum = float(sampler.min_time_limit(target))
        hours = sampler.properties.get("maximum_time_limit_hrs")
        maximum = float(hours) * 3600 if hours else math.inf
        wanted = budget.remaining() if budget.limited else minimum
        return float(min(max(wanted, minimum), maximum))
