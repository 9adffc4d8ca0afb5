"""Run a benchmark: every (instance, solver, seed) once, in parallel when asked, resumable.

A *solver* is an hqopt backend (the run goes through :func:`hqopt.solve`, in
the same worker as :func:`hqopt.solve_many`) or an anchor
(:mod:`hqopt.bench.anchors`). Runs go to the executor interleaved
(instance, seed, solver) and each finished run is appended to
``DIR/runs.jsonl`` at once (:mod:`hqopt.bench.store`): a rerun skips what is
there, and Ctrl-C keeps what is done and still writes the report.

Each run records: best objective (own sense; None when nothing feasible),
feasibility, status, the verified improvement history ``(seconds, objective)``,
wall and CPU seconds, energy, QPU seconds and price (:mod:`hqopt.cost`), and
the peak memory of the process that ran it with the method used
(:func:`hqopt.distributed.peak_memory_mb`). Gap, time-to-target and success
are derived in the report, against targets computed from all runs.
"""

from __future__ import annotations

import math
import os
import resource
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hqopt.backends.registry import get_backend
from hqopt.bench.anchors import AnchorSpec, run_anchor
from hqopt.bench.store import RunStore
from hqopt.cost import CostMeter
from hqopt.distributed import (
    map_tasks,
    peak_memory_mb,
    reset_peak_memory,
    solve_in_worker,
)
from hqopt.errors import BackendError, HqoptError, NotSearchedWarning
from hqopt.io import load


@dataclass(frozen=True)
class Instance:
    """A benchmark instance: its name (the loaded model's), file reference and sense."""

    name: str
    file: str
    sense: str
    num_variables: int


def load_instances(files: Sequence[str | os.PathLike[str]]) -> list[Instance]:
    """Load every file once (here) for its name and sense; names must be distinct."""
    instances: list[Instance] = []
    seen: dict[str, str] = {}
    for ref in files:
        ref = os.fspath(ref)
        model = load(ref)
        if model.name in seen:
            raise BackendError(f"{ref} and {seen[model.name]} both load as instance {model.name!r}")
        seen[model.name] = ref
        instances.append(Instance(model.name, ref, model.sense.value, model.num_variables))
    if not instances:
        raise BackendError("no instance files given")
    return instances


def execute(
    instances: Sequence[Instance],
    backends: Sequence[str],
    anchors: Sequence[AnchorSpec],
    seeds: int,
    time_limit: float,
    store: RunStore,
    *,
    executor: str = "local",
    address: str | None = None,
    workers: int | None = None,
    on_run: Callable[[dict[str, Any]], Any] | None = None,
) -> int:
    """Run what ``store`` does not hold yet; return how many runs were added.

    Raises KeyboardInterrupt after Ctrl-C, with every finished run saved.
    """
    if seeds < 1:
        raise BackendError(f"seeds must be >= 1, got {seeds}")
    if not time_limit > 0 or not math.isfinite(time_limit):
        raise BackendError(f"a benchmark needs a positive time limit, got {time_limit!r}")
    names = [*backends, *(a.name for a in anchors)]
    if len(set(names)) != len(names):
        raise BackendError(f"solver names must be distinct, got {', '.join(names)}")
    for name in backends:
        get_backend(name)  # a clear error for an unknown backend before anything runs
    done = store.done()
    tasks = []
    for instance in instances:
        for seed in range(seeds):
            for backend in backends:
                if (instance.name, backend, seed) not in done:
                    tasks.append((instance, backend, None, seed, time_limit))
            for anchor in anchors:
                if (instance.name, anchor.name, seed) not in done:
                    tasks.append((instance, None, anchor, seed, time_limit))
    added = 0
    for _, record in map_tasks(_run_task, tasks, executor=executor, workers=workers, address=address):
        if record.get("interrupted"):  # stopped by Ctrl-C (the solve caught it): not a measurement, and the end
            raise KeyboardInterrupt
        store.append(record)
        added += 1
        if on_run is not None:
            on_run(record)
    return added


def _run_task(instance: Instance, backend: str | None, anchor: AnchorSpec | None, seed: int, time_limit: float) -> dict[str, Any]:
    """One run in a worker: a solve through hqopt (as solve_many's worker does) or an anchor."""
    record: dict[str, Any] = {
        "instance": instance.name,
        "file": instance.file,
        "solver": backend if backend is not None else anchor.name,  # type: ignore[union-attr]
        "kind": "hqopt" if backend is not None else ("external" if anchor.command else "anchor"),  # type: ignore[union-attr]
        "seed": seed,
        "time_limit": time_limit,
        "sense": instance.sense,
        "objective": None,
        "feasible": False,
        "verified": True,
        "status": "error",
        "history": [],
        "error": None,
    }
    try:
        if backend is not None:
            with warnings.catch_warnings():  # said once in the record ("note"), not as a warning from a worker process
                warnings.simplefilter("ignore", NotSearchedWarning)
                result = solve_in_worker(("path", instance.file), backend, time_limit, seed, {})
            if "compile" in result.info:
                record["note"] = result.info["compile"]
            cost = result.cost
            record.update(
                objective=result.objective if result.feasible else None,
                feasible=result.feasible,
                status=result.status.value,
                history=[list(h) for h in result.history],
                backend_used=result.backend,
                wall_seconds=result.timing.total,
                interrupted=result.interrupted,
                peak_rss_mb=result.info["peak_rss_mb"],
                peak_rss_method=result.info["peak_rss_method"],
                **(cost.to_dict() if cost is not None else {}),
            )
        else:
            record.update(_anchor_run(anchor, instance, seed, time_limit))  # type: ignore[arg-type]
    except HqoptError as exc:
        record.update(error=str(exc), verified=False)
    return record


def _anchor_run(anchor: AnchorSpec, instance: Instance, seed: int, time_limit: float) -> dict[str, Any]:
    model = load(instance.file)
    reset = reset_peak_memory()
    meter = CostMeter().start()
    t0 = time.perf_counter()
    outcome = run_anchor(anchor, model, instance.file, time_limit, seed)
    wall = time.perf_counter() - t0
    cost = meter.stop()
    if anchor.command:  # the work was done by a child process: its peak, as far as getrusage tells
        peak, method = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "children ru_maxrss (largest so far)"
    else:
        peak, method = peak_memory_mb(reset)
    return {
        "objective": outcome.objective,
        "feasible": outcome.feasible,
        "verified": outcome.verified,
        "status": "feasible" if outcome.feasible else "unknown",
        "history": [list(h) for h in outcome.history],
        "wall_seconds": wall,
        "peak_rss_mb": peak,
        "peak_rss_method": method,
        **cost.to_dict(),
    }


__all__ = ["Instance", "execute", "load_instances"]
