"""``hqopt tune SPEC.yaml``: run (or resume) a hyperparameter study from a spec.

Shows one line per finished trial (its parameters, score, best so far and an
ETA), prints the best configuration next to the default configuration's
score, exports the trials (``--export trials.csv|json``) and writes an
optimization-history PNG when matplotlib (the ``plot`` extra) is installed.
Ctrl-C (or SIGTERM) lets the running trial finish, starts no new one and
prints the best so far, exiting 130 after Ctrl-C and 143 after SIGTERM (128 +
the signal, as shells report it); a second one stops at once.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import typer

from hqopt.cli.app import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    app,
    check_overwrites,
    check_writable_flag,
    fail,
    file_name,
    warnings_as_lines,
)
from hqopt.cli.domain import check_figure_path, have_plot_extra
from hqopt.errors import SpecError, bounded

SPACE_CHANGED_HELP = (
    "When the stored study has another search space or set-up (data, estimator, scoring, cv, seed): stop, continue "
    "or new (default: ask on a terminal, else stop)."
)


@app.command()
def tune(
    spec_path: Path = typer.Argument(..., metavar="SPEC.yaml", help="Tuning spec (see problems/hpo/)."),
    trials: int = typer.Option(None, "--trials", min=1, help="Complete trials wanted in total (default: the spec's); a failed trial is replaced, once per trial wanted."),
    sampler: str = typer.Option(None, "--sampler", help="qubo, tpe, random or gp (default: the spec's)."),
    seed: int = typer.Option(None, "--seed", min=0, help="Seed of the sampler and the CV folds (default: the spec's)."),
    n_jobs: int = typer.Option(1, "--n-jobs", min=1, help="Trials evaluated in parallel (threads)."),
    timeout: float = typer.Option(None, "--timeout", help="Start no new trial once this many seconds (> 0) have passed since the run started (loading the data counts)."),
    storage: str = typer.Option(None, "--storage", help="Optuna storage URL (default: the spec's, or a local SQLite file)."),
    export: Path = typer.Option(None, "--export", parser=file_name("--export"), metavar="<path>", help="Write every trial to this .csv or .json file."),
    space_changed: str = typer.Option(None, "--space-changed", help=SPACE_CHANGED_HELP),
    allow_import: bool = typer.Option(False, "--allow-import", help="Allow an estimator outside the library allow-list."),
    plot: Path = typer.Option(None, "--plot", parser=file_name("--plot"), metavar="<path>", help="Optimization-history PNG (default: <study>-history.png)."),
    no_plot: bool = typer.Option(False, "--no-plot", help="Do not write the history plot."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No per-trial lines."),
) -> None:
    """Tune an estimator's hyperparameters with the QUBO-surrogate sampler (or TPE, random, GP)."""
    try:
        from rich.console import Console

        from hqopt.automl.tune import (
            SAMPLERS,
            SPACE_CHANGED,
            DatasetWarning,
            StudyChangedWarning,
            check_allowed,
            export_trials,
            input_files,
            load_spec,
            run_tune,
            write_history_plot,
        )
    except ImportError as exc:
        raise fail(f"hqopt tune needs the automl extra ({exc.name} is missing): pip install 'hqopt[automl]'") from None

    spec = load_spec(spec_path)
    check_allowed(spec, allow_import=allow_import)
    if sampler is not None and sampler not in SAMPLERS:
        raise fail(f"--sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    if space_changed is not None and space_changed not in SPACE_CHANGED:
        raise fail(f"--space-changed must be one of {', '.join(SPACE_CHANGED)}, got {space_changed!r}")
    if timeout is not None and not 0 < timeout < math.inf:
        raise fail(f"--timeout must be a positive number of seconds, got {timeout:g}")
    if export is not None and export.suffix.lower() not in (".csv", ".json"):
        raise fail("--export must name a .csv or .json file")
    if plot is not None and not no_plot:
        check_figure_path(plot)
    if export is not None:
        check_writable_flag(export, "--export")
    check_overwrites({"--export": export, "--plot": None if no_plot else plot}, str(spec_path), input_files(spec, storage))
    wanted = trials or spec.trials
    console = Console(highlight=False, soft_wrap=True)
    progress = _Progress(console, wanted, timeout, quiet)
    held: dict[str, Any] = {}

    def opened(study: Any) -> None:
        held["study"] = study
        progress.begin(study)
        fresh = "" if study.study_name == spec.name else f" (new: study {spec.name!r} has another search space or set-up)"
        typer.echo(
            f"study {study.study_name!r}{fresh}: {spec.estimator} on {_dataset_name(spec.dataset)}, {wanted} trials, "
            f"sampler {sampler or spec.sampler['name']}"
        )

    want_plot = not no_plot and (plot is not None or have_plot_extra())
    choice = space_changed or _ask_space_choice
    stopper = _GracefulStop(threading.Event())
    try:
        with stopper, warnings_as_lines((StudyChangedWarning, DatasetWarning), prefix=f"warning: {spec_path}: "):
            report = _run(run_tune, spec, choice, opened, allow_import=allow_import, storage=storage, trials=trials,
                          on_trial=progress, sampler=sampler, seed=seed, n_jobs=n_jobs,
                          timeout=timeout, stop=stopper.stop)  # fmt: skip
    except KeyboardInterrupt:  # a second signal before the study was open
        if stopper.signum != signal.SIGTERM:
            raise
        typer.echo("terminated (SIGTERM)", err=True)
        raise typer.Exit(EXIT_TERMINATED) from None
    except SpecError as exc:
        if storage is None or exc.field != "storage":
            raise
        raise fail(f"--storage: {exc.reason}") from None  # the flag's URL, not the spec's field
    terminated = report.interrupted and stopper.signum == signal.SIGTERM
    if report.interrupted:
        how = "terminated (SIGTERM)" if terminated else "interrupted"
        typer.echo(f"{how}: the study keeps every finished trial; run the command again to resume", err=True)
    _print_report(report, list(spec.search_space))
    if report.timed_out:
        typer.echo(f"note: --timeout {timeout:g} s ended the run with {report.n_complete} of the {wanted} complete trials "
                   "wanted; run again to add more", err=True)  # fmt: skip
    elif report.n_failed and not report.interrupted and report.n_complete < wanted:
        typer.echo(f"note: the study holds {report.n_complete} of the {wanted} complete trials wanted: {report.n_failed} "
                   "trials of this run failed (their lines say why; each was replaced once); run again to add more",
                   err=True)  # fmt: skip
    elif report.n_new == 0 and not report.interrupted and report.n_complete >= wanted:
        typer.echo(f"note: the study already holds {report.n_complete} complete trials, so none ran; "
                   f"give --trials more than {report.n_complete} to add more", err=True)  # fmt: skip
    if export is not None and "study" in held:
        typer.echo(f"trials exported: {export_trials(held['study'], export)}")
    if want_plot and "study" in held and report.n_complete:  # the default is named after the study run (new: <name>-2)
        path = plot or Path(f"{held['study'].study_name}-history.png")
        typer.echo(f"history plot: {write_history_plot(held['study'], path)}")
    raise typer.Exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED if report.interrupted else EXIT_OK)


def _print_report(report: Any, searched: list[str]) -> None:
    """The study's storage and name, the default configuration's score, the best score and configuration.

    ``searched``: the spec's parameters; one the best trial lacks (added to a
    continued study after it ran) is shown as left at the estimator's default.
    """
    typer.echo(f"storage: {report.storage}, study {report.study_name!r} "
               f"({report.n_complete} complete trial{'' if report.n_complete == 1 else 's'}, {report.n_new} run now)")  # fmt: skip
    if not math.isnan(report.default_score):
        typer.echo(f"default configuration score: {report.default_score:.6g}")
    if report.best_params or not math.isnan(report.best_score):
        typer.echo(f"best score{' so far' if report.interrupted else ''}: {report.best_score:.6g}")
        typer.echo("best configuration:")
        for name, value in report.best_params.items():
            typer.echo(f"  {name}: {_shown(value)}")
        for name in searched:
            if name not in report.best_params:
                typer.echo(f"  {name}: (not set in that trial: the spec's estimator_params, or the estimator's default)")
        if report.default_score > report.best_score:
            typer.echo("note: the estimator's default configuration scores better than every trial: "
                       "keep the defaults, or widen the search space", err=True)  # fmt: skip


def _run(run_tune: Any, spec: Any, choice: Any, on_study: Any, **kwargs: Any) -> Any:
    """run_tune with the space-changed choice: a string, or asked on a terminal when the spaces differ."""
    from hqopt.automl.tune import StudyChangedError

    if isinstance(choice, str):
        return run_tune(spec, space_changed=choice, on_study=on_study, **kwargs)
    try:
        return run_tune(spec, space_changed="stop", on_study=on_study, **kwargs)
    except StudyChangedError as exc:
        answer = choice(exc)
        return run_tune(spec, space_changed=answer, on_study=on_study, **kwargs)


def _ask_space_choice(exc: Exception) -> str:
    """On a terminal: warn and ask continue/new/stop; otherwise stop with the error (``SPEC: field ...``)."""
    if not sys.stdin.isatty():
        raise exc
    typer.echo(f"warning: {exc}", err=True)
    choices = ("continue", "new", "stop")
    answer = ""
    while answer not in choices:
        answer = str(typer.prompt("continue the stored study, start a new one, or stop? (continue, new, stop)",
                                  default="stop", err=True)).strip().lower()  # fmt: skip
    if answer == "stop":
        raise typer.Exit(2)
    return answer


class _Progress:
    """One Rich line per finished trial: number, [complete/wanted], score, best so far, ETA, parameters.

    The complete count is kept here, under a lock, rather than read back from
    the storage: with ``--n-jobs`` several trials finish at once and each
    would see the others' results.
    """

    def __init__(self, console: Any, wanted: int, timeout: float | None, quiet: bool) -> None:
        self.console = console
        self.wanted = wanted
        self.quiet = quiet
        self.lock = threading.Lock()
        self.deadline = None if timeout is None else time.monotonic() + timeout  # the run's clock (run_tune's)
        self.begin(None)

    def begin(self, study: Any) -> None:
        """Start counting from the complete trials the (resumed) study already holds."""
        trials = study.get_trials(deepcopy=False) if study is not None else []
        self.done = self.before = sum(t.state.name == "COMPLETE" for t in trials)
        self.start = time.monotonic()

    def __call__(self, study: Any, trial: Any) -> None:
        with self.lock:
            self.done += trial.state.name == "COMPLETE"
            if self.quiet:
                return
            value = "failed" if trial.value is None or not math.isfinite(trial.value) else f"{trial.value:.6g}"
            try:
                best = f"{study.best_value:.6g}"
            except ValueError:
                best = "-"
            elapsed = time.monotonic() - self.start
            eta = elapsed / max(1, self.done - self.before) * max(0, self.wanted - self.done)
            if self.deadline is not None:
                eta = min(eta, max(0.0, self.deadline - time.monotonic()))
            params = " ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
            why = trial.user_attrs.get("hqopt:fit_error")  # hqopt.automl.tune.FIT_ERROR_ATTR (not imported: it is slow)
            self.console.print(
                f"trial {trial.number:>4}  [{self.done}/{self.wanted}]  score {value:>10}  best {best:>10}  "
                f"ETA {_clock(eta)}  {params}" + (f"  ({bounded(why, 100)})" if why else ""),
                markup=False, highlight=False,
            )


def _shown(value: Any) -> str:
    """A parameter's value as YAML would write it, to paste into a spec: floats to 12 significant digits,
    still floats (0.82, not 0.8200000000000001; 1.0, not 1), ``None`` as ``null``.

    >>> [_shown(v) for v in (0.8200000000000001, 1.0, 1e-05, None, 3, "rbf", True)]
    ['0.82', '1.0', '1e-05', 'null', '3', "'rbf'", 'true']
    """
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    return _float_text(value, 12) if isinstance(value, float) else repr(value)


def _short(value: Any) -> str:
    """A parameter's value in a trial line: floats to 4 significant digits, still floats (1.0, not 1)."""
    return _float_text(value, 4) if isinstance(value, float) else str(value)


def _float_text(value: float, digits: int) -> str:
    if not math.isfinite(value):  # as YAML spells them
        return ".nan" if math.isnan(value) else ".inf" if value > 0 else "-.inf"
    text = f"{value:.{digits}g}"
    return text if "." in text or "e" in text else text + ".0"  # (1e-05 is a float to YAML)


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class _GracefulStop:
    """Ctrl-C or SIGTERM: start no new trial, let the running ones finish; a second one stops at once.

    :attr:`signum` is the first signal received (the exit code follows it).
    Installed in the main thread only (signal handlers can live nowhere else).
    """

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.signum: int | None = None
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.previous[sig] = signal.signal(sig, self._handle)

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.stop.is_set():
            raise KeyboardInterrupt
        self.signum = signum
        self.stop.set()
        print("stopping after the running trial (press Ctrl-C again to stop now)", file=sys.stderr, flush=True)


def _dataset_name(dataset: dict) -> str:
    return dataset.get("loader") or "a CSV file"
