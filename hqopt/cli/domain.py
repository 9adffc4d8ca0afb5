"""Formulation hooks ``hqopt solve`` calls when the problem's formulation has them.

A spec's formulation (``model.metadata["formulation"]``, e.g. a Placement) may define

* ``replan(current, *, down, max_moves, move_cost)`` -> a new formulation
  (``--current``, ``--site-down``, ``--max-moves``, ``--move-cost``);
* ``report(result)`` -> an object with ``to_text()`` and ``__rich__``
  (printed instead of the one-line solution);
* ``plot(result, path)`` -> writes a picture (``--plot``; needs :data:`PLOT_EXTRA`).

Nothing here knows a particular formulation.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import typer

from hqopt.cli.app import check_writable_flag, fail, stdout_console, warnings_as_lines
from hqopt.errors import HqoptError, SitesStillDownWarning, SpecError
from hqopt.model import Model
from hqopt.result import Result

#: the package of the ``plot`` extra that ``--plot`` needs
PLOT_EXTRA = "matplotlib"


def formulation(model: Model) -> Any:
    """The domain object a spec's model was built from, or None."""
    return model.metadata.get("formulation")


def replan(model: Model, current: Path | None, down: list[str], up: list[str], max_moves: int | None, move_cost: float | None) -> Model:
    """The model re-planned from ``current`` with sites ``down`` (and ``up``); unchanged when no option is given.
    Sites a ``current`` result has down stay down: a note says so."""
    if current is None and not down and not up and max_moves is None and move_cost is None:
        return model
    source = formulation(model)
    if not hasattr(source, "replan"):
        raise fail("--current, --site-down, --site-up, --max-moves and --move-cost need a spec whose kind supports re-planning (kind: placement)")
    plan = None
    if current is not None:
        from hqopt.io.base import read_text
        from hqopt.io.spec import parse

        plan = parse(read_text(current), str(current))
    try:
        with warnings_as_lines((SitesStillDownWarning,)):
            replanned = source.replan(plan, down=down, up=up, max_moves=max_moves, move_cost=move_cost)
    except SpecError as exc:  # a fault of the --current file names that file
        if current is None or not exc.field.startswith("current"):
            raise
        raise SpecError(exc.field, exc.reason, source=str(current)) from None
    new = replanned.to_model()
    new.metadata = {**model.metadata, **new.metadata}
    new.name = model.name
    return new


def print_report(model: Model, result: Result) -> bool:
    """Print the formulation's report of ``result`` (Rich on a terminal, plain text in a pipe); False if it has none.

    An infeasible solution is reported too: its report shows where it breaks the rules.
    """
    source = formulation(model)
    if not hasattr(source, "report") or result.solution is None:
        return False
    report = source.report(result)
    console = stdout_console()
    if console.is_terminal:
        console.print(report)
    else:
        print(report.to_text())
    return True


def check_plot(model: Model, path: Path) -> None:
    """Refuse ``--plot`` before solving: the problem must have a picture (and :func:`check_figure_path` pass)."""
    if not hasattr(formulation(model), "plot"):
        kind = model.metadata.get("kind")
        what = f"problems of kind {kind!r}" if kind else f"{model.metadata.get('format', 'these')} files"
        raise fail(f"--plot draws placement plans (a spec with kind: placement); {what} have no picture")
    check_figure_path(path)


def check_figure_path(path: Path, flag: str = "--plot") -> None:
    """Refuse a picture file before the work: the ``plot`` extra installed, a format matplotlib writes, a writable file."""
    if not have_plot_extra():
        raise fail(f"{flag} needs the 'plot' extra (pip install 'hqopt[plot]'): {PLOT_EXTRA} is not installed")
    from matplotlib.backend_bases import FigureCanvasBase

    kinds = FigureCanvasBase.get_supported_filetypes()
    if path.suffix.lower().lstrip(".") not in kinds:
        raise fail(f"{flag}: {path.name} is no picture format matplotlib writes ({', '.join(sorted(kinds))})")
    check_writable_flag(path, flag)


def have_plot_extra() -> bool:
    """Whether the ``plot`` extra is installed."""
    return importlib.util.find_spec(PLOT_EXTRA) is not None


def plot(model: Model, result: Result, path: Path) -> None:
    """Write the formulation's picture of ``result`` to ``path`` (checked by :func:`check_plot` first)."""
    if result.decoded is None:  # not bad input: the exit code stays the solve's (1: no feasible solution)
        typer.echo(f"note: --plot: no feasible solution to draw; {path} not written", err=True)
        return
    try:
        formulation(model).plot(result, path)
    except OSError as exc:
        raise fail(f"--plot: cannot write {path}: {exc.strerror or exc}") from None
    except (HqoptError, ValueError) as exc:
        raise fail(f"--plot: {exc}") from None
