"""``hqopt solve FILE``: read a problem file, solve it with :func:`hqopt.solve`, report.

On a terminal a live line shows elapsed time against the budget, the best
objective so far and whether it is feasible; then a summary table. ``--json``
prints :meth:`Result.to_json` instead. Exit codes: 0 feasible, 1 no feasible
solution, 2 bad input, 130 interrupted by Ctrl-C, 143 stopped by SIGTERM (in
both cases the best so far is still printed and ``--output`` still written).

``--output`` and ``--plot`` are checked before solving (the folder must
exist and be writable; folders are never created; ``--plot`` also needs a
placement spec and the ``plot`` extra); if writing fails after all, the
result is still printed on stdout and the exit code is 2.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from hqopt.cli import domain
from hqopt.cli.app import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_NO_FEASIBLE,
    EXIT_OK,
    EXIT_TERMINATED,
    app,
    check_overwrites,
    check_writable_flag,
    fail,
    file_name,
    stdout_closed,
    stdout_console,
    warnings_as_lines,
)
from hqopt.errors import FormatError, HqoptError, NotSearchedWarning, OtherProblemStartWarning, bounded
from hqopt.io.base import write_atomic
from hqopt.result import Result
from hqopt.solve import Progress

#: seconds ``hqopt solve`` runs when no --time-limit is given
DEFAULT_TIME_LIMIT = 10.0

EXAMPLES = """Examples:

  hqopt solve problems/qubo/bqp50-1.txt

  hqopt solve problems/qubo/bqp50.txt#3 --backend tabu --time-limit 2 --seed 1

  hqopt solve problems/lp/knapsack.lp --backend cpsat --json --output result.json

  hqopt solve problems/qubo/gka1a.sparse --backend sa --option num_reads=200

  hqopt solve problems/lp/knapsack.lp --backend sa,cpsat --initial result.json

  hqopt solve dc.yaml --current plan.json --site-down r1-z1-s3 --max-moves 10 --plot plan.png
"""


def parse_option(text: str) -> tuple[str, Any]:
    """``"num_reads=100"`` -> ``("num_reads", 100)``; values become int, float, bool, None, a JSON
    list or object (``[...]``, ``{...}``) or text. A whole number in e-notation is an int.

    >>> parse_option("num_sweeps=500"), parse_option("verbose=true"), parse_option("method=fast")
    (('num_sweeps', 500), ('verbose', True), ('method', 'fast'))
    >>> parse_option("beta_range=[0.1, 4]")
    ('beta_range', [0.1, 4])
    >>> parse_option("num_reads=1e3"), parse_option("num_reads=1.5e3"), parse_option("scale=1e-3")
    (('num_reads', 1000), ('num_reads', 1500), ('scale', 0.001))
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise fail(f"--option expects key=value with a name as key, got {text!r}")
    raw = raw.strip()
    lowered = raw.lower()
    if lowered in ("true", "yes", "on"):
        return key, True
    if lowered in ("false", "no", "off"):
        return key, False
    if lowered in ("none", "null"):
        return key, None
    if raw[:1] in ("[", "{"):
        try:
            return key, json.loads(raw)
        except json.JSONDecodeError as exc:
            raise fail(f"--option {key}: {raw!r} is not a JSON list or object ({exc.msg} at character {exc.pos + 1})") from None
    for convert in (int, float):
        try:
            value = convert(raw)
        except ValueError:
            continue
        if isinstance(value, float) and "e" in raw.lower() and value.is_integer() and abs(value) < 2**53:
            return key, int(value)
        return key, value
    return key, raw


class _LiveStatus:
    """The one-line live display; recomputed at every refresh so the clock keeps ticking."""

    def __init__(self, time_limit: float | None) -> None:
        self.start = time.perf_counter()
        self.time_limit = time_limit
        self.progress: Progress | None = None

    def update(self, progress: Progress) -> None:
        self.progress = progress

    def __rich__(self) -> Text:
        elapsed = time.perf_counter() - self.start
        budget = f"{elapsed:6.1f} s / {self.time_limit:g} s" if self.time_limit else f"{elapsed:6.1f} s"
        p = self.progress
        if p is None or p.best_objective is None:
            best = "no solution yet"
        else:
            best = f"best {p.best_objective:.10g} ({'feasible' if p.feasible else 'infeasible'})"
        rounds = f"  round {p.round + 1}, {p.samples_seen} samples" if p else ""
        return Text.assemble(("solving  ", "bold"), budget, "  ", (best, "green" if p and p.feasible else "yellow"), rounds)


@app.command(epilog=EXAMPLES)
def solve(
    file: str = typer.Argument(..., metavar="FILE", help="Problem file (FILE#K picks problem K of a multi-problem file)."),
    backend: str = typer.Option("auto", "--backend", "-b", help="Backend name (see 'hqopt backends'); 'auto' picks and says why; a,b races them."),
    time_limit: float = typer.Option(DEFAULT_TIME_LIMIT, "--time-limit", "-t", help="Wall-clock seconds for the whole solve (0: the backend's default effort, no limit; CP-SAT's is up to 60 s, also in auto's races)."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed: replays an untimed run exactly (a timed one up to where the clock stops it); drawn and reported when omitted."),
    option: list[str] = typer.Option([], "--option", help="Backend option key=value (repeatable): a number, true/false, text or a JSON list, e.g. num_reads=100, beta_range=[0.1,4]."),
    instance: int | None = typer.Option(None, "--instance", help="Problem K (1-based) of a multi-problem file."),
    format: str | None = typer.Option(None, "--format", "-f", help="File format (default: detected; see 'hqopt info')."),
    output: Path | None = typer.Option(None, "--output", parser=file_name("--output"), metavar="<path>", help="Write the Result as JSON to this file (atomically; its folder must exist)."),
    as_json: bool = typer.Option(False, "--json", help="Print the Result as JSON instead of a table."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No live display and no table; only the exit code and errors."),
    initial: Path | None = typer.Option(None, "--initial", help="Warm start: a result JSON (--output), a JSON {variable: value}, or 'label value' lines."),
    current: Path | None = typer.Option(None, "--current", help="Re-plan from this placement: {service: site} (YAML/JSON) or a previous --output."),
    site_down: list[str] = typer.Option([], "--site-down", help="Re-plan with this site down (repeatable); its services must move."),
    site_up: list[str] = typer.Option([], "--site-up", help="Re-plan with this site running again (repeatable): one down in the spec or in the --current result."),
    max_moves: int | None = typer.Option(None, "--max-moves", min=0, help="Re-plan moving at most this many services (a hard constraint)."),
    move_cost: float | None = typer.Option(None, "--move-cost", min=0, help="Re-plan with this cost per moved service (the spec's migration_cost; a service with its own keeps it)."),
    plot: Path | None = typer.Option(None, "--plot", parser=file_name("--plot"), metavar="<path>", help="Draw the answer to this PNG (placement; needs the 'plot' extra)."),
) -> None:
    """Solve a problem file and print a verified result.

    Exit code 0: feasible solution; 1: none found; 2: bad input; 130: interrupted; 143: SIGTERM.
    """
    import hqopt
    from hqopt.io import load

    options = dict(parse_option(o) for o in option)
    _check_output(output)
    check_overwrites({"--output": output, "--plot": plot}, file)
    sigterm = _Sigterm()
    try:
        with sigterm.installed(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=NotSearchedWarning)  # a row of the table says it
            model = domain.replan(load(file, format=format, instance=instance), current, site_down, site_up, max_moves, move_cost)
            if plot is not None:
                domain.check_plot(model, plot)
            start = _read_start(initial, model) if initial is not None else None
            names = [b.strip() for b in backend.split(",") if b.strip()]
            if not names:
                raise fail(f"--backend needs a backend name, got {backend!r}")
            backends: str | list[str] = names if len(names) > 1 else names[0]  # "tabu," is tabu, not a race of one
            limit = time_limit or None
            console = Console(stderr=True)
            live_wanted = console.is_terminal and not (quiet or as_json)
            status = _LiveStatus(limit)
            sigterm.solving()
            if live_wanted:
                with Live(status, console=console, refresh_per_second=4, transient=True):
                    result = hqopt.solve(
                        model, backend=backends, time_limit=limit, seed=seed, initial=start, on_progress=status.update,
                        stop=sigterm.stop, **options,
                    )
            else:
                if not (quiet or as_json):
                    budget = f"{limit:g} s" if limit else "the backend's default effort"
                    typer.echo(f"solving {model.name} with backend {backend}, time limit {budget}", err=True)
                result = hqopt.solve(
                    model, backend=backends, time_limit=limit, seed=seed, initial=start, stop=sigterm.stop, **options
                )
            if sigterm.received:
                result.interrupted = True
            _report(result, model, output, plot, as_json=as_json, quiet=quiet)
    except _Terminated:
        typer.echo("terminated (SIGTERM) before the solve began", err=True)
        raise typer.Exit(EXIT_TERMINATED) from None
    found = result.objective is not None
    if sigterm.received:
        what = "reported the best solution found so far" if found else "no solution was found before SIGTERM"
        typer.echo(f"terminated (SIGTERM): {what}", err=True)
        raise typer.Exit(EXIT_TERMINATED)
    if result.interrupted:
        what = "reported the best solution found so far" if found else "no solution was found before the interrupt"
        typer.echo(f"interrupted: {what}", err=True)
        raise typer.Exit(EXIT_INTERRUPTED)
    raise typer.Exit(EXIT_OK if result.feasible else EXIT_NO_FEASIBLE)


def _read_start(path: Path, model: Any) -> dict[Any, float]:
    """``--initial``'s assignment; the reader's warning that it is another problem's result becomes a note."""
    from hqopt.io.solution import read_solution

    try:
        with warnings_as_lines((OtherProblemStartWarning,)):
            return read_solution(path, model)
    except FormatError as exc:
        if hasattr(domain.formulation(model), "replan") and "is not in the model" in exc.reason:
            raise FormatError(exc.path, exc.line, f"{exc.reason} (a {{service: site}} plan to re-plan from is given with --current)") from None
        raise


# ------------------------------------------------- output file and SIGTERM
def _check_output(output: Path | None) -> None:
    """Refuse an ``--output`` that cannot be written, before any time is spent solving."""
    if output is not None:
        check_writable_flag(output, "--output")


def _report(result: Result, model: Any, output: Path | None, plot: Path | None, *, as_json: bool, quiet: bool) -> None:
    """Write ``--output``, draw ``--plot``, print the result; a failed write puts the result on stdout, exit 2.

    The files come first: a reader that closes stdout early (``| head -1``) loses
    nothing, and the command still ends with the solve's exit code.
    """
    failed = None
    if output is not None:
        try:
            write_atomic(output, result.to_json() + "\n")
        except HqoptError as exc:
            failed = exc
    plot_failed = None
    if plot is not None:
        try:
            domain.plot(model, result, plot)
        except typer.Exit as exc:  # (its error is on stderr already) the result is printed all the same
            plot_failed = exc
    try:
        if as_json:
            typer.echo(result.to_json())
        elif not quiet:
            has_report = domain.formulation(model) is not None and hasattr(domain.formulation(model), "report")
            _print_summary(result, model.metadata, solution=not has_report)
            if has_report:
                domain.print_report(model, result)
        if failed is not None and not as_json:  # nothing is lost: the full result goes to stdout instead
            typer.echo(result.to_json())
        sys.stdout.flush()
    except BrokenPipeError:
        stdout_closed()
    if failed is not None:
        typer.echo(f"error: --output: {bounded(str(failed))}; the result is on stdout", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    if plot_failed is not None:
        raise plot_failed


class _Terminated(BaseException):  # not an Exception: no reader's `except Exception` may swallow it
    """SIGTERM arrived before the solve began: nothing to report."""


class _Sigterm:
    """SIGTERM ends a solve the way Ctrl-C does: the best so far is reported and saved.

    Before the solve begins it ends the command at once (exit 143); during the
    solve it sets :attr:`stop` (``solve(stop=...)``); after it, it only marks the
    run so that the output is still written before exiting with 143.
    """

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.received = False
        self._started = False

    def solving(self) -> None:
        """From now on SIGTERM stops the search instead of ending the command."""
        self._started = True

    def _handle(self, signum: int, frame: Any) -> None:
        self.received = True
        self.stop.set()
        if not self._started:
            raise _Terminated

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGTERM, self._handle)
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, previous)


def _print_summary(result: Result, metadata: dict[str, Any], solution: bool = True) -> None:
    rows: list[tuple[str, str, str]] = []  # (field, text, style); text is data, never markup
    source = str(metadata.get("source", ""))
    instance = metadata.get("instance")
    if instance is not None and metadata.get("instances", 1) > 1:
        source += f"  (problem {instance} of {metadata['instances']}; pick another with FILE#K)"
    rows.append(("problem", f"{result.model_name} [{metadata.get('format', '?')}] {source}", ""))
    objective = "-" if result.objective is None else f"{result.objective:.10g} ({result.sense.value}imise)"
    rows.append(("objective", objective, "bold"))
    rows.append(("feasible", "yes" if result.feasible else "no", "green" if result.feasible else "red"))
    rows.append(("status", result.status.value + ("  (interrupted)" if result.interrupted else ""), ""))
    if result.bound is not None:
        gap = result.gap
        rows.append(("bound", f"{result.bound:.10g}  gap {'-' if gap is None else f'{gap:.3%}'}", ""))
    violated = {k: v for k, v in result.violations.items() if v > 0}
    if violated:
        worst = sorted(violated.items(), key=lambda kv: -kv[1])[:5]
        more = f" (+{len(violated) - 5} more)" if len(violated) > 5 else ""
        rows.append(("violated", ", ".join(f"{k}={v:g}" for k, v in worst) + more, "red"))
    rows.append(("time", result.timing.describe(), ""))
    rows.append(("backend", result.backend + (f" — {result.backend_reason}" if result.backend_reason else ""), ""))
    rows.append(("seed", str(result.seed), ""))
    if result.info.get("best_from") == "initial":
        rows.append(("found by", "the warm start (the formulation's own plan or --initial): the search did not beat it", "yellow"))
    if "compile" in result.info:  # the ls engine never ran: say so where the answer is read
        rows.append(("warning", str(result.info["compile"]), "yellow"))
    if solution:
        rows.append(("solution", _solution_summary(result), ""))
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for name, text, style in rows:
        table.add_row(name, Text(text, style=style))
    stdout_console().print(table)
    _print_ledger(result.info.get("subsolvers"))


def _print_ledger(ledger: dict[str, dict[str, Any]] | None) -> None:
    """The ``lns`` sub-solver ledger (calls, gains, failed calls, time, sizes, QPU time) as a small table."""
    if not ledger:
        return
    table = Table(title="sub-solvers", title_justify="left", box=None, pad_edge=False)
    for column in ("sub-solver", "calls", "improved", "errors", "gain", "seconds", "vars min/med/max", "QPU s"):
        table.add_column(column, justify="left" if column == "sub-solver" else "right")
    for name, row in ledger.items():
        sizes = row.get("variables", {})
        qpu = row.get("qpu_access_time")
        table.add_row(
            Text(name), str(row.get("calls", 0)), str(row.get("improvements", 0)), str(row.get("errors", 0)),
            f"{row.get('gain', 0.0):.6g}",
            f"{row.get('seconds', 0.0):.2f}", f"{sizes.get('min', 0)}/{sizes.get('median', 0):g}/{sizes.get('max', 0)}",
            "-" if qpu is None else f"{qpu:.4f}",
        )
    stdout_console().print(table)


def _solution_summary(result: Result, limit: int = 240) -> str:
    """The decoded answer if there is one, else the non-zero variables; cut to ``limit`` characters."""
    if result.decoded is not None:
        text = json.dumps(result.decoded, default=str)
    elif result.solution is not None:
        ones = [str(k) for k, v in result.solution.items() if v]
        text = f"{len(ones)} of {len(result.solution)} variables non-zero: " + " ".join(ones)
    else:
        return "-"
    return text if len(text) <= limit else text[: limit - 3] + "..."
