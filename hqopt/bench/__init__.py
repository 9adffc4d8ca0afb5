"""``hqopt bench``: compare backends and anchors on your instances, with metrics and plots.

:func:`run_bench` runs every (instance, solver, seed) once -- hqopt backends
through ``solve`` (the worker of :func:`hqopt.solve_many`), anchors beside
them (:mod:`hqopt.bench.anchors`) -- on this machine's cores or on Ray;
appends each run to ``OUT/runs.jsonl`` as it ends (a rerun skips what is
there; Ctrl-C keeps it); then writes ``runs.csv``, ``runs.json``,
``summary.csv``, ``report.md``, ``report.html`` and three plots.

Modules: :mod:`~hqopt.bench.metrics` (pure metric functions),
:mod:`~hqopt.bench.anchors`, :mod:`~hqopt.bench.targets` (best-known CSVs),
:mod:`~hqopt.bench.store` (the run log), :mod:`~hqopt.bench.runner`
(executing runs), :mod:`~hqopt.bench.report` (tables and files),
:mod:`~hqopt.bench.plots`.

Example:
    >>> import tempfile, pathlib
    >>> import hqopt, hqopt.io
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> hqopt.io.save(hqopt.Model.from_qubo({(0, 0): -1, (0, 1): 2, (1, 1): -1}, name="tiny"), folder / "tiny.lp")
    >>> report = run_bench([folder / "tiny.lp"], ["exact"], seeds=2, time_limit=1.0,
    ...                    out=folder / "out", workers=1, plots=False)
    >>> [(s["solver"], s["success"]) for s in report.summary]
    [('exact', 1.0)]
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hqopt.bench.anchors import AnchorSpec
from hqopt.bench.report import BenchReport, analyse
from hqopt.bench.runner import Instance, execute, load_instances
from hqopt.bench.store import RunStore
from hqopt.bench.targets import BestKnown, best_found, check_targets, default_csvs, lookup, read_best_known
from hqopt.errors import BackendError, HqoptError
from hqopt.model import Sense

#: the ``target`` values run_bench understands besides a number
TARGET_MODES = ("best-known", "best-found")
#: the most seeds a benchmark takes (every run is a task made before the first one starts)
MAX_SEEDS = 10_000


def run_bench(
    files: Sequence[str | os.PathLike[str]],
    backends: Sequence[str] = ("auto",),
    *,
    seeds: int = 5,
    time_limit: float,
    out: str | os.PathLike[str],
    target: str | float = "best-known",
    best_known: Sequence[str | os.PathLike[str]] | None = None,
    anchors: Sequence[str | AnchorSpec] = (),
    anchor_regex: dict[str, str] | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
    plots: bool = True,
    on_run: Callable[[dict[str, Any]], Any] | None = None,
) -> BenchReport:
    """Benchmark ``backends`` and ``anchors`` on ``files``; write everything into ``out``.

    Args:
        files: problem files (``FILE#K`` picks one problem of a multi-problem file).
        backends: hqopt backend names.
        seeds: runs per (instance, solver), with seeds ``0 .. seeds-1``.
        time_limit: seconds per run (a solve's ``time_limit``; an anchor's budget).
        out: the output directory (created; its runs are reused).
        target: ``"best-known"`` (the CSV value, else the best found), ``"best-found"``
            (the best over all runs in ``out``) or a number (every instance).
        best_known: best-known CSV files; default: ``best_known.csv`` beside each file.
        anchors: built-in anchor names or ``NAME=COMMAND`` strings (or AnchorSpecs).
        anchor_regex: ``{anchor name: regex}`` reading an external anchor's objective.
        workers: parallel processes (1: sequentially here); with ``ray_address``, Ray CPUs.
        ray_address: run on Ray (``"local"`` starts one here; else a cluster address).
        plots: draw the three plots (needs matplotlib).
        on_run: called with each finished run's record.

    The best-known CSVs are read and checked (columns, values, each instance's
    sense) before any run. The report is written even after Ctrl-C
    (``report.interrupted`` is then True).
    """
    if isinstance(target, (int, float)) and not isinstance(target, bool):
        if not math.isfinite(target):
            raise BackendError(f"target must be a finite number or one of {', '.join(TARGET_MODES)}, got {target!r}")
    elif target not in TARGET_MODES:
        raise BackendError(f"target must be a number or one of {', '.join(TARGET_MODES)}, got {target!r}")
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) or not 0 < time_limit < math.inf:
        raise BackendError(f"a benchmark needs a positive time limit, got {time_limit!r}")  # before out/ is touched
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise BackendError(f"seeds must be a whole number from 1 to {MAX_SEEDS}, got {seeds!r}")
    refs = [os.fspath(f) for f in files]
    instances = load_instances(refs)
    specs = [a if isinstance(a, AnchorSpec) else AnchorSpec.parse(a, anchor_regex) for a in anchors]
    commands = {spec.name for spec in specs if spec.command}
    for name in anchor_regex or {}:
        if name not in commands:
            raise BackendError(f"--anchor-regex names anchor {name!r}, which no --anchor {name}=COMMAND defines")
    known = _known_targets(instances, refs, target, best_known)
    out = Path(out)
    store = RunStore(out, float(time_limit))
    interrupted = False
    try:
        execute(
            instances, list(backends), specs, seeds, float(time_limit), store,
            executor="ray" if ray_address else "local",
            address=None if ray_address in (None, "local") else ray_address,
            workers=workers, on_run=on_run,
        )  # fmt: skip
    except KeyboardInterrupt:
        interrupted = True
    records = store.records()
    report = analyse(records, _targets(instances, records, target, known, best_known))
    report.interrupted = interrupted
    if plots:
        from hqopt.bench.plots import draw_all

        report.plots = draw_all(report.runs, report.summary, out, float(time_limit))
    solvers = sorted({r["solver"] for r in records})
    notes = [
        f"{len(instances)} instance(s) x {len(solvers)} solver(s) ({', '.join(solvers)}) x {seeds} seed(s), "
        + f"{time_limit:g} s per run; {len(records)} run(s) in {out}.",
        "Interrupted: the tables hold the runs finished before Ctrl-C." if interrupted else "",
    ]
    report.write(out, "hqopt bench", notes)
    return report


def _known_targets(
    instances: Sequence[Instance], refs: Sequence[str], target: str | float, best_known: Sequence[str | os.PathLike[str]] | None
) -> dict[str, BestKnown]:
    """The best-known CSV entries, read and checked against every instance's sense before any run."""
    if target != "best-known":
        return {}
    known = read_best_known(best_known if best_known is not None else default_csvs(refs))
    check_targets(known, ((inst.name, inst.file, Sense.parse(inst.sense)) for inst in instances))
    return known


def _targets(
    instances: Sequence[Instance],
    records: Sequence[dict[str, Any]],
    target: str | float,
    known: dict[str, BestKnown],
    best_known: Sequence[str | os.PathLike[str]] | None,
) -> dict[str, tuple[float | None, str]]:
    """The target of every instance in the report: this call's (``target``), and those of earlier runs in
    ``out``, which this call did not name (their best-known value where one reads, else the best found)."""
    named = {inst.name for inst in instances}
    everyone = {inst.name: (inst.file, inst.sense) for inst in instances}
    for record in records:
        everyone.setdefault(record["instance"], (record["file"], record["sense"]))
    earlier = [file for name, (file, _) in everyone.items() if name not in named]
    if earlier and target != "best-found":
        with contextlib.suppress(HqoptError):  # checked when those runs were made; changed since: the best found
            csvs = best_known if best_known is not None else default_csvs(earlier)
            known = {**read_best_known(csvs), **known}
    out: dict[str, tuple[float | None, str]] = {}
    for name, (file, sense_name) in everyone.items():
        sense = Sense.parse(sense_name)
        if name in named and not isinstance(target, str):
            out[name] = (float(target), "given")
            continue
        value = None
        if target != "best-found":
            try:
                value = lookup(known, name, file, sense)  # this call's instances were checked before any run
            except HqoptError:
                value = None  # an earlier instance whose CSV entry disagrees with it: not this call's to refuse
        if value is not None:
            out[name] = (value, "best known")
        else:
            found = best_found((r.get("objective") for r in records if r["instance"] == name and not r.get("error")), sense)
            out[name] = (found, "best found")
    return out


__all__ = ["BenchReport", "run_bench"]
