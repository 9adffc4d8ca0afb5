"""``hqopt bench FILES... --backend a,b --seeds N --time-limit S --out DIR``: compare solvers.

Every (instance, solver, seed) runs once (hqopt backends through ``solve``,
anchors beside them), in parallel with ``--workers N`` or on Ray with
``--ray ADDRESS`` (``--ray local`` starts a local Ray); a rerun into the same
DIR skips the runs already there, and Ctrl-C keeps them. Writes runs.csv,
runs.json, summary.csv, report.md, report.html and three plots into DIR.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from hqopt.bench import MAX_SEEDS
from hqopt.cli.app import EXIT_INTERRUPTED, EXIT_OK, app, fail


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    pairs = {}
    for text in values or []:
        name, eq, value = text.partition("=")
        if not eq or not name.strip():
            raise fail(f"{option} must be NAME=VALUE, got {text!r}")
        pairs[name.strip()] = value
    return pairs


def _positive_seconds(value: float) -> float:
    """A benchmark's runs are timed: ``--time-limit`` must be > 0 (0 would mean untimed for ``solve``)."""
    if not (math.isfinite(value) and value > 0):
        raise fail(f"--time-limit must be a positive number of seconds for a benchmark (each run is timed), got {value:g}")
    return value


@app.command()
def bench(
    files: Annotated[list[str], typer.Argument(metavar="FILES...", help="Problem files (FILE#K: the K-th problem of a file).")],
    time_limit: Annotated[float, typer.Option("--time-limit", "-t", help="Seconds per run (> 0).", callback=_positive_seconds)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory (its finished runs are reused).")],
    backend: Annotated[str, typer.Option("--backend", "-b", help="Comma-separated hqopt backends.")] = "auto",
    seeds: Annotated[int, typer.Option("--seeds", min=1, max=MAX_SEEDS, help="Runs per instance and solver (seeds 0..N-1); the report covers every run in --out, earlier ones with more seeds included.")] = 5,
    target: Annotated[str, typer.Option("--target", help="best-known (CSV, else best found), best-found, or a number.")] = "best-known",
    best_known: Annotated[list[Path] | None, typer.Option("--best-known", help="Best-known CSV (default: best_known.csv beside each file).")] = None,
    anchor: Annotated[list[str] | None, typer.Option("--anchor", help="sa-restarts, cpsat-alone, or NAME=CMD with {file} {time} {seed} {instance}.")] = None,
    anchor_regex: Annotated[list[str] | None, typer.Option("--anchor-regex", help="NAME=REGEX: its first group is the anchor's objective.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1, help="Parallel processes (1: sequential); CPUs of a local Ray.")] = None,
    ray: Annotated[str | None, typer.Option("--ray", help="Run on Ray: a cluster address, or 'local'.")] = None,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Skip the plots (no matplotlib needed).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No line per finished run.")] = False,
) -> None:
    """Benchmark backends and anchors: success probability, time-to-target, TTS, gaps, plots."""
    from hqopt.bench import TARGET_MODES, run_bench

    try:
        goal: str | float = float(target)
    except ValueError:
        if target not in TARGET_MODES:
            raise fail(f"--target must be a number or one of {', '.join(TARGET_MODES)}, got {target!r}") from None
        goal = target
    backends = [b.strip() for b in backend.split(",") if b.strip()]

    def show(run: dict) -> None:  # type: ignore[type-arg]
        if run.get("note"):  # a run that never searched (its worker's NotSearchedWarning, said once)
            typer.echo(f"note: {run['instance']} {run['solver']} seed {run['seed']}: {run['note']}", err=True)
        if quiet:
            return
        objective = "error: " + str(run["error"]) if run.get("error") else ("-" if run["objective"] is None else f"{run['objective']:.10g}")
        wall = run.get("wall_seconds")
        typer.echo(f"{run['instance']:<14} {run['solver']:<14} seed {run['seed']:<3} {objective:>14}   {'' if wall is None else f'{wall:.2f} s'}")

    report = run_bench(
        files,
        backends,
        seeds=seeds,
        time_limit=time_limit,
        out=out,
        target=goal,
        best_known=best_known or None,
        anchors=anchor or [],
        anchor_regex=_pairs(anchor_regex, "--anchor-regex"),
        workers=workers,
        ray_address=ray,
        plots=not no_plots,
        on_run=show,
    )
    typer.echo("")
    typer.echo(report.to_markdown())
    typer.echo("")
    skipped = sum(1 for s in report.summary if math.isnan(s["success"]))
    typer.echo(f"report: {out / 'report.md'}, {out / 'report.html'}" + (f" ({skipped} cells without a finished run)" if skipped else ""))
    if report.interrupted:
        typer.echo("interrupted: the report holds the runs finished so far; rerun the same command to continue", err=True)
        raise typer.Exit(EXIT_INTERRUPTED)
    raise typer.Exit(EXIT_OK)
