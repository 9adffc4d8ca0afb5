"""The linter (ruff) and the type checker (mypy) pass, with the settings in pyproject.toml.

Skipped where the tool is not installed (``pip install 'hqopt[dev]'`` has both).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> list[str]:
    """Run ``name`` as a module of this interpreter when importable, else from PATH; skip when absent."""
    try:
        __import__(name)
        return [sys.executable, "-m", name]
    except ImportError:
        found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
        if found is None:
            pytest.skip(f"{name} is not installed (pip install 'hqopt[dev]')")
        return [found]


def test_ruff_passes():
    done = subprocess.run([*_tool("ruff"), "check", "hqopt", "tests", "benchmarks", "examples"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


@pytest.mark.slow
def test_mypy_passes():
    done = subprocess.run([*_tool("mypy")], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
