"""``hqopt tune SPEC.yaml``: run (or resume) a hyperparameter study from a spec.

Shows one line per finished trial (score and best so far), prints the best
configuration next to the default configuration's score, and writes an
optimization-history PNG when matplotlib (the ``plot`` extra) is installed.
"""

from __future__ import annotations

import math
from pathlib import Path

import typer

from hqopt.cli.app import EXIT_OK, app, fail


@app.command()
def tune(
    spec_path: Path = typer.Argument(..., metavar="SPEC.yaml", help="Tuning spec (see problems/hpo/)."),
    trials: int = typer.Option(None, "--trials", min=1, help="Complete trials wanted in total (default: the spec's)."),
    storage: str = typer.Option(None, "--storage", help="Optuna storage URL (default: the spec's, or a local SQLite file)."),
    allow_import: bool = typer.Option(False, "--allow-import", help="Allow an estimator outside the library allow-list."),
    plot: Path = typer.Option(None, "--plot", help="Optimization-history PNG (default: <study>-history.png)."),
    no_plot: bool = typer.Option(False, "--no-plot", help="Do not write the history plot."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No per-trial lines."),
) -> None:
    """Tune an estimator's hyperparameters with the QUBO-surrogate sampler (or TPE/random)."""
    try:
        from hqopt.automl.tune import check_allowed, load_spec, run_tune
    except ImportError as exc:
        raise fail(f"hqopt tune needs the automl extra ({exc.name} is missing): pip install 'hqopt[automl]'") from None

    spec = load_spec(spec_path)
    check_allowed(spec, allow_import=allow_import)
    wanted = trials or spec.trials

    def progress(study, trial) -> None:  # type: ignore[no-untyped-def]
        if quiet:
            return
        value = "failed" if trial.value is None or not math.isfinite(trial.value) else f"{trial.value:.6g}"
        try:
            best = f"{study.best_value:.6g}"
        except ValueError:
            best = "-"
        done = sum(t.state.name == "COMPLETE" for t in study.get_trials(deepcopy=False))
        typer.echo(f"trial {trial.number:>4}  [{done}/{wanted}]  score {value:>10}  best {best}")

    plot_path = None
    if not no_plot:
        if plot is not None:
            plot_path = plot
        elif _have_matplotlib():
            plot_path = Path(f"{spec.name}-history.png")
    typer.echo(f"study {spec.name!r}: {spec.estimator} on {_dataset_name(spec.dataset)}, {wanted} trials, "
               f"sampler {spec.sampler['name']}")
    report = run_tune(spec, allow_import=allow_import, storage=storage, trials=trials, plot=plot_path, on_trial=progress)
    typer.echo(f"storage: {report.storage} ({report.n_complete} complete trials, {report.n_new} run now)")
    typer.echo(f"default configuration score: {report.default_score:.6g}")
    typer.echo(f"best score: {report.best_score:.6g}")
    typer.echo("best configuration:")
    for name, value in report.best_params.items():
        typer.echo(f"  {name}: {value!r}")
    if report.plot_path:
        typer.echo(f"history plot: {report.plot_path}")
    raise typer.Exit(EXIT_OK)


def _have_matplotlib() -> bool:
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def _dataset_name(dataset: dict) -> str:
    return dataset.get("loader") or dataset.get("csv", "?")
