"""The Typer application and the error boundary of the ``hqopt`` command.

Command modules (``hqopt/cli/<command>.py``) register themselves on ``app``
with ``@app.command()``; :mod:`hqopt.cli` imports them. :func:`main` turns
every :class:`~hqopt.errors.HqoptError` into one line on stderr and exit
code 2 -- never a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import math
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from hqopt import __version__, _startup
from hqopt.errors import HqoptError, bounded
from hqopt.io.base import check_writable, names_a_folder

app = typer.Typer(
    name="hqopt",
    help="Hybrid quantum-classical combinatorial optimization: solve problem files on classical, quantum and hybrid backends.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: the click usage-error base class typer actually raises (its vendored click since typer 0.24)
_USAGE_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")

#: exit codes shared by every command
EXIT_OK = 0
EXIT_NO_FEASIBLE = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = _startup.EXIT_INTERRUPTED
#: SIGTERM (timeout, systemd, Docker, batch schedulers): 128 + 15, as shells report it
EXIT_TERMINATED = 143


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hqopt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """hqopt command line."""


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` (one line, at most 500 characters) on stderr; return the Exit(2) to raise."""
    typer.echo(f"error: {bounded(message)}", err=True)
    return typer.Exit(EXIT_BAD_INPUT)


@contextlib.contextmanager
def warnings_as_lines(categories: tuple[type[Warning], ...], prefix: str = "note: ") -> Iterator[None]:
    """Inside, a warning of ``categories`` is shown at once as one ``PREFIX message`` line on stderr
    (so a later error cannot lose it); other warnings are shown as usual."""
    usual = warnings.showwarning

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, categories):
            typer.echo(f"{prefix}{message}", err=True)
        else:
            usual(message, category, *args, **kwargs)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def check_overwrites(written: dict[str, Path | None], problem_file: str, inputs: dict[str, Path] | None = None) -> None:
    """Refuse a file to write that is the problem file or another input, or that two flags both write (one would be lost).

    ``inputs``: other files the work reads, by what they are (``{"the dataset": path}``).
    A file read before the work and written atomically after (``--output`` naming
    the ``--initial`` or ``--current`` file) is not a problem file: a re-plan may
    update its plan in place.
    """
    from hqopt.io import split_instance

    def same(a: str | Path, b: str | Path) -> bool:
        return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()

    try:
        source: str | Path = split_instance(problem_file)[0]  # FILE#K
    except HqoptError:  # a bad #tail: loading says so
        source = problem_file
    flags = [(flag, path) for flag, path in written.items() if path is not None]
    for i, (flag, path) in enumerate(flags):
        for other, other_path in flags[:i]:
            if same(path, other_path):
                raise fail(f"{other} and {flag} both name {path}: one would overwrite the other")
        for what, read in [("the problem file", source), *(inputs or {}).items()]:
            if same(path, read):
                raise fail(f"{flag} {path} is {what}: writing there would destroy it; name another file")


class _StdoutConsole(Console):
    """A Rich console on stdout whose closed pipe raises BrokenPipeError (Rich itself exits 1)."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError(errno.EPIPE, "stdout was closed")


def stdout_console() -> Console:
    """The console a command prints its tables on: a reader that closes the pipe early
    (``| head``) raises BrokenPipeError, which :func:`stdout_closed` then handles."""
    return _StdoutConsole()


def stdout_closed() -> None:
    """After a BrokenPipeError on stdout: send the rest of stdout to /dev/null, so that the
    command still finishes (its files written, its exit code its own) and the exit's flush is silent."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # (not a real file: a test's capture)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def file_name(flag: str) -> Callable[[str], Path]:
    """Parser of option ``flag``, which names a file to write: refuses a folder's name (``x/``, ``x/.``).

    ``Path("x.json/")`` and ``Path("x.json/.")`` are ``x.json``, so without
    this ``--output x.json/`` would write a file where the user named a folder.

    >>> file_name("--output")("out/result.json")
    PosixPath('out/result.json')
    """

    def parse(text: str) -> Path:
        if names_a_folder(text):
            raise fail(f"{flag}: cannot write {text}: it names a folder; give a file name")
        return Path(text)

    return parse


def check_writable_flag(path: Path, flag: str) -> None:
    """Exit 2 naming ``flag`` unless a file can be written at ``path`` now (checked before the work is done)."""
    try:
        check_writable(path)
    except HqoptError as exc:
        raise fail(f"{flag}: {exc}") from None


#: the option every command names its time limit with; checked by :func:`check_time_limit_flag`
TIME_LIMIT_OPTION = "--time-limit"


def check_time_limit_flag(value: float | None, flag: str = TIME_LIMIT_OPTION) -> float | None:
    """``value`` if it is a finite number of seconds >= 0 (or None); else exit 2 naming ``flag``.

    >>> check_time_limit_flag(2.5)
    2.5
    """
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise fail(f"{flag} must be a finite number of seconds >= 0, got {value:g}")
    return value


def _prepared(command: Any) -> Any:
    """``command`` (the click group typer builds) with, in every subcommand, each ``--time-limit``
    checked as it is parsed (nan, inf and negative values get one message before anything is
    printed) and a Ctrl-C the subcommand does not handle (one while a file is read, before a solve
    begins) said in one line; typer alone exits 130 without a word."""
    for sub in getattr(command, "commands", {}).values():
        for param in sub.params:
            if TIME_LIMIT_OPTION in getattr(param, "opts", ()):
                param.callback = _time_limit_callback(param.callback)
        if sub.callback is not None:
            sub.callback = _reporting_interrupts(sub.callback)
    return command


def _reporting_interrupts(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except KeyboardInterrupt:
            typer.echo(INTERRUPTED, err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return run


def _time_limit_callback(previous: Callable[..., Any] | None) -> Callable[..., Any]:
    def callback(ctx: Any, param: Any, value: Any) -> Any:  # a command's own check first: it says more (bench: > 0)
        value = previous(ctx, param, value) if previous is not None else value
        return check_time_limit_flag(value)

    return callback


#: what a Ctrl-C that no command handled prints (a solve under way reports its best so far itself)
INTERRUPTED = _startup.INTERRUPTED_LINE


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hqopt`` script; returns the exit code."""
    import hqopt.cli  # noqa: F401 - registers the commands

    _startup.restore()  # loaded: from here on a Ctrl-C is the commands' to report

    try:
        command = _prepared(typer.main.get_command(app))
        code = command(args=argv, prog_name="hqopt", standalone_mode=False)
    except HqoptError as exc:
        typer.echo(f"error: {bounded(str(exc))}", err=True)
        return EXIT_BAD_INPUT
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        typer.echo(INTERRUPTED, err=True)
        return EXIT_INTERRUPTED
    except _USAGE_ERROR as exc:  # typer vendors its own click; `click` itself may not be installed
        exc.show()
        return EXIT_BAD_INPUT
    # without standalone mode click returns (not raises) the code of a typer.Exit
    return code if isinstance(code, int) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
