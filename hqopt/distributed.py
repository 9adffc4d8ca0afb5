"""``solve_many``: many solves at once, on this machine's cores or on a Ray cluster.

Every item goes through :func:`hqopt.solve`; the results come back in the
order of the inputs. Items may be :class:`~hqopt.Model` objects (anything
``solve`` accepts) or file paths; a path is loaded by the worker
(``hqopt.io.load``), which is the cheapest way to ship a problem.

Models are shipped as their CQM's file form plus sense, name and metadata
(a dimod CQM does not pickle); a model's decoder (often a closure) never
travels: the decoded answer is computed here, from the returned solution.

Executors:

- ``"local"``: a process pool (``forkserver`` context on Linux, ``spawn``
  elsewhere: numba, OR-Tools and fork don't mix) of ``workers`` processes
  (default: the number of CPUs); ``workers=1`` runs in this process, one
  item after the other.
- ``"ray"``: one ``ray.remote`` task per item, on the cluster at ``address``
  (``"auto"`` or ``"ray://host:10001"``) or on a local Ray with
  ``num_cpus=workers``; an already initialised Ray is reused. Needs the
  ``ray`` extra, and hqopt importable on every node.

Seeds: one integer seed gives every item its own seed, derived
deterministically (:func:`hqopt.backends.base.seed_sequence`), so seeded
untimed runs give the same results on every executor; a list gives one seed
per item; ``None`` draws them at random (recorded in each result).

Each result's ``info["peak_rss_mb"]`` is the peak resident memory of the
process that ran it, during that solve (Linux: the ``VmHWM`` counter reset
before the solve; elsewhere the process's lifetime ``ru_maxrss``, an upper
bound); ``info["peak_rss_method"]`` says which.

Example:
    >>> import hqopt
    >>> models = [hqopt.Model.from_qubo({(0, 0): -k, (0, 1): 2, (1, 1): -1}) for k in (1, 3)]
    >>> [r.objective for r in hqopt.solve_many(models, backend="exact", workers=1)]
    [-1.0, -3.0]
"""

from __future__ import annotations

import io
import multiprocessing
import os
import re
import resource
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from hqopt.backends.base import seed_sequence
from hqopt.errors import BackendError, BackendUnavailable, FormatError
from hqopt.model import Model, Sense, as_model
from hqopt.result import Result

EXECUTORS = ("local", "ray")


# ----------------------------------------------------------------- public API
def solve_many(
    problems: Iterable[Any],
    backend: str = "auto",
    time_limit: float | None = None,
    seed: int | Sequence[int] | None = None,
    *,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    on_result: Callable[[int, Result], Any] | None = None,
    **options: Any,
) -> list[Result]:
    """Solve every problem with :func:`hqopt.solve`; the results in input order.

    Args:
        problems: Models (or anything ``solve`` accepts) and/or file paths.
        backend, time_limit, options: as for :func:`hqopt.solve`, the same for every item.
        seed: one seed (per-item seeds derived from it), a list of seeds, or None.
        executor: ``"local"`` (processes) or ``"ray"``.
        workers: processes (local) or CPUs of a local Ray; default: all CPUs.
            ``workers=1`` with ``executor="local"`` runs sequentially here.
        address: a Ray cluster address; only with ``executor="ray"``.
        on_result: called here with ``(index, result)`` as each solve ends
            (in completion order), e.g. to save results as they come.

    With local workers a path to no file (or with a bad ``#`` selector) is refused
    before anything is solved (on Ray the workers read the paths, which may exist
    only there); a file that exists but cannot be read raises when its worker
    reaches it, so save results with ``on_result`` when some files may be bad.
    """
    from hqopt.io import split_path  # the readers load only when files are given

    items = list(problems)
    if executor == "local":
        for index, item in enumerate(items):
            if isinstance(item, (str, os.PathLike)):
                file, _, _ = split_path(item)
                if not file.is_file():
                    raise FormatError(file, None, f"no such file (item {index + 1} of the {len(items)} given)")
    seeds = _seeds(seed, len(items))
    models: list[Model | None] = []
    payloads: list[tuple[Any, ...]] = []
    for item in items:
        if isinstance(item, (str, os.PathLike)):
            models.append(None)
            payloads.append(("path", os.fspath(item)))
        else:
            model = as_model(item)
            models.append(model)
            payloads.append(("model", model))
    results: list[Result | None] = [None] * len(items)
    tasks = [(payload, backend, time_limit, s, options) for payload, s in zip(payloads, seeds)]
    for index, result in map_tasks(solve_in_worker, tasks, executor=executor, workers=workers, address=address):
        model = models[index]
        if model is not None and result.decoded is None and result.feasible and result.solution is not None:
            result.decoded = model.decode(result.solution)
        results[index] = result
        if on_result is not None:
            on_result(index, result)
    return results  # type: ignore[return-value]


def map_tasks(
    function: Callable[..., Any],
    tasks: Sequence[tuple[Any, ...]],
    *,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
) -> Iterator[tuple[int, Any]]:
    """Run ``function(*task)`` for every task; yield ``(index, value)`` as each ends.

    ``function`` must be a module-level function (it is pickled); a task's
    Models are shipped in their file form (see the module docstring). Leaving
    the loop early (an exception, Ctrl-C) cancels the tasks not yet started.
    """
    if executor not in EXECUTORS:
        raise BackendError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise BackendError(f"workers must be a positive integer, got {workers!r}")
    if address is not None and executor != "ray":
        raise BackendError("address= is for executor='ray'")
    if not tasks:
        return
    if executor == "ray":
        yield from _map_ray(function, tasks, workers, address)
    elif (workers or os.cpu_count() or 1) == 1 or len(tasks) == 1:
        for index, task in enumerate(tasks):
            yield index, _call(function, task)
    else:
        yield from _map_processes(function, tasks, workers or os.cpu_count() or 1)


# ------------------------------------------------------------------- shipping
class _ShippedModel:
    """A Model in a picklable form: its CQM's file bytes, sense, name, metadata (no decoder)."""

    def __init__(self, model: Model) -> None:
        with model.cqm.to_file() as fh:
            self.cqm_bytes = fh.read()
        self.sense = model.sense.value
        self.name = model.name
        self.metadata = dict(model.metadata)

    def model(self) -> Model:
        import dimod

        cqm = dimod.ConstrainedQuadraticModel.from_file(io.BytesIO(self.cqm_bytes))
        return Model(cqm, sense=Sense.parse(self.sense), name=self.name, metadata=self.metadata)


def _ship(value: Any) -> Any:
    if isinstance(value, Model):
        return _ShippedModel(value)
    if isinstance(value, tuple):
        return tuple(_ship(v) for v in value)
    return value


def _unship(value: Any) -> Any:
    if isinstance(value, _ShippedModel):
        return value.model()
    if isinstance(value, tuple):
        return tuple(_unship(v) for v in value)
    return value


def _call(function: Callable[..., Any], task: tuple[Any, ...]) -> Any:
    return function(*task)


def _call_shipped(function: Callable[..., Any], task: tuple[Any, ...]) -> Any:
    return function(*_unship(task))


# ----------------------------------------------------------------- executors
def _map_processes(function: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], workers: int) -> Iterator[tuple[int, Any]]:
    method = "forkserver" if sys.platform.startswith("linux") else "spawn"
    pool = ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=multiprocessing.get_context(method))
    try:
        pending: dict[Future[Any], int] = {
            pool.submit(_call_shipped, function, _ship(task)): index for index, task in enumerate(tasks)
        }
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _map_ray(
    function: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], workers: int | None, address: str | None
) -> Iterator[tuple[int, Any]]:
    try:
        import ray
    except ImportError:
        raise BackendUnavailable("executor='ray' needs Ray: pip install 'hqopt[ray]'") from None
    if not ray.is_initialized():
        if address is not None:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers or os.cpu_count(), include_dashboard=False, log_to_driver=False)
    remote = ray.remote(num_cpus=1)(_call_shipped)
    pending = {remote.remote(function, _ship(task)): index for index, task in enumerate(tasks)}
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                yield pending.pop(ref), ray.get(ref)
    finally:
        for ref in pending:
            ray.cancel(ref)


# --------------------------------------------------------------- the worker
def solve_in_worker(payload: tuple[Any, ...], backend: Any, time_limit: float | None, seed: int | None, options: dict[str, Any]) -> Result:
    """One solve in a worker: load the problem, solve it, record the peak memory."""
    from hqopt.solve import solve

    kind, problem = payload
    if kind == "path":
        from hqopt.io import load

        problem = load(problem)
    reset = reset_peak_memory()
    result = solve(problem, backend=backend, time_limit=time_limit, seed=seed, **options)
    result.info["peak_rss_mb"], result.info["peak_rss_method"] = peak_memory_mb(reset)
    return result


_HWM = re.compile(r"VmHWM:\s+(\d+)\s+kB")


def reset_peak_memory() -> bool:
    """Reset this process's peak-RSS counter (Linux ``clear_refs``); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_memory_mb(reset: bool) -> tuple[float, str]:
    """Peak resident memory in MB: since :func:`reset_peak_memory` when it worked, else the process's lifetime peak."""
    if reset:
        match = _HWM.search(Path("/proc/self/status").read_text())
        if match:
            return int(match.group(1)) / 1024, "VmHWM since reset"
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, kB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20, "ru_maxrss (process lifetime)"


def _seeds(seed: int | Sequence[int] | None, count: int) -> list[int | None]:
    if seed is None:
        return [None] * count
    if isinstance(seed, Sequence) and not isinstance(seed, (str, bytes)):
        if len(seed) != count:
            raise BackendError(f"got {len(seed)} seeds for {count} problems")
        return list(seed)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise BackendError(f"seed must be a non-negative integer or a list of them, got {seed!r}")
    return list(seed_sequence(seed, count))


__all__ = ["EXECUTORS", "map_tasks", "peak_memory_mb", "reset_peak_memory", "solve_in_worker", "solve_many"]
