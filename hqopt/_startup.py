"""What the ``hqopt`` command does before its libraries load: a Ctrl-C then is one line, not a traceback.

Loading NumPy, dimod, SciPy and the rest takes about a second; Python's own
handler would print a ``KeyboardInterrupt`` traceback from deep inside that
import. Only when the process is the ``hqopt`` command (its script is named
``hqopt``) does importing this module (:mod:`hqopt` imports it first)
install :func:`quiet_interrupt`;
:func:`hqopt.cli.app.main` puts Python's handler back once it starts, and
from then on the CLI reports a Ctrl-C itself. A program that imports hqopt
keeps its own handler.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

#: the names the console script has (pip writes ``hqopt``; on Windows ``hqopt.exe`` or ``hqopt-script.py``)
SCRIPT_NAMES = ("hqopt", "hqopt.exe", "hqopt-script.py")
#: the CLI's line and exit code for a Ctrl-C (as :mod:`hqopt.cli.app` says them)
INTERRUPTED_LINE = "interrupted (Ctrl-C)"
EXIT_INTERRUPTED = 130


def quiet_interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGINT while the command starts: its line on stderr, then exit 130 (SystemExit prints no traceback)."""
    sys.stderr.write(INTERRUPTED_LINE + "\n")
    raise SystemExit(EXIT_INTERRUPTED)


def is_command() -> bool:
    """Whether this process is the ``hqopt`` command: the script Python was started with (``sys.orig_argv``,
    which a multiprocessing worker does not inherit, unlike ``sys.argv``) is named ``hqopt``.

    >>> is_command()  # (a test run)
    False
    """
    started = getattr(sys, "orig_argv", [])
    script = next((arg for arg in started[1:] if not arg.startswith("-")), "") if started else ""
    return os.path.basename(script).lower() in SCRIPT_NAMES


def install_if_command() -> None:
    """Install :func:`quiet_interrupt` for SIGINT when this process is the ``hqopt`` command and Python's
    default handler is in place (a host program's own handler is never replaced)."""
    if not is_command():
        return
    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, quiet_interrupt)
    except ValueError:  # not the main thread
        pass


def restore() -> None:
    """Python's own SIGINT handler again (:func:`hqopt.cli.app.main` calls it as it starts)."""
    try:
        if signal.getsignal(signal.SIGINT) is quiet_interrupt:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:
        pass


install_if_command()
