"""The ``hqopt`` command line: one module per command, all on one Typer app.

Each command module registers itself on :data:`hqopt.cli.app.app` when imported.
"""

from __future__ import annotations

import importlib
import sys

from hqopt.cli.app import app
from hqopt.cli.app import main as _main

#: command modules, imported in this order (each adds its commands to ``app``)
COMMAND_MODULES: list[str] = ["solve", "info", "convert", "backends", "generate", "tune", "analyze", "bench"]

for _name in COMMAND_MODULES:
    importlib.import_module(f"hqopt.cli.{_name}")


def main() -> None:
    """Console-script entry point."""
    sys.exit(_main())


__all__ = ["app", "main"]
