"""The ``hqopt`` command line: one module per command, all on one Typer app.

Each command module registers itself on :data:`hqopt.cli.app.app` when imported.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading

from hqopt.cli.app import app
from hqopt.cli.app import main as _main

#: seconds a leftover chain start may take before the wait for it is announced: on a warm numba cache starting
#: the chains takes at most about this long (0.55 s on a 200-service placement); a cold compile takes a minute
SILENT_WAIT = 1.5

#: command modules, imported in this order (each adds its commands to ``app``)
COMMAND_MODULES: list[str] = ["solve", "info", "convert", "backends", "generate", "tune", "analyze", "bench"]

for _name in COMMAND_MODULES:
    importlib.import_module(f"hqopt.cli.{_name}")


def main() -> None:
    """Console-script entry point.

    A race may leave a member behind that was told to stop but is still inside
    native code (CP-SAT, a simulator) when the answer is printed. Tearing the
    interpreter down under such a thread can crash the process after the work
    is done, so then the process ends without that teardown (output flushed).
    """
    code = _main()
    finish_engine_compile()
    engine = sys.modules.get("hqopt.engine.chains")
    if leftover_race_threads() or (engine is not None and engine.compiling()):  # chains still starting, in numba
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def finish_engine_compile() -> None:
    """Let a cold-cache compile of the ``ls`` engine that outlived its run finish, so the next run finds it cached.

    The answer is already printed; Ctrl-C skips the wait (the next run then compiles again).
    """
    engine = sys.modules.get("hqopt.engine.chains")
    try:
        if engine is None or engine.jit_ready() or engine.finish_compile(timeout=SILENT_WAIT):
            return  # nothing compiling (a run still starting its chains on a warm cache needs no wait)
        print("finishing the ls engine's one-time compile, so the next run starts searching at once (Ctrl-C skips) ...", file=sys.stderr, flush=True)
        engine.finish_compile()
    except KeyboardInterrupt:
        print("skipped: the next ls run compiles again", file=sys.stderr)


def leftover_race_threads() -> list[threading.Thread]:
    """hqopt's worker threads (named ``hqopt-...``: race members, a QPU sampler still loading) still running."""
    return [t for t in threading.enumerate() if t.name.startswith("hqopt-") and t.is_alive()]


__all__ = ["app", "finish_engine_compile", "leftover_race_threads", "main"]
