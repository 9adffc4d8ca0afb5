"""hqopt: hybrid quantum-classical combinatorial optimization.

One call solves a model on any backend and returns a verified result::

    >>> import hqopt
    >>> result = hqopt.solve(hqopt.Model.from_qubo({(0, 0): -1, (0, 1): 2, (1, 1): -1}), backend="sa", seed=0)
    >>> result.objective
    -1.0
"""

from hqopt import _startup  # noqa: F401 - first: for the `hqopt` command, a Ctrl-C while the rest loads is one line
from hqopt.analyze import analyze
from hqopt.backends import Backend, Capabilities, available_backends, get_backend
from hqopt.distributed import solve_many
from hqopt.errors import (
    ArgumentError,
    BackendError,
    BackendOptionError,
    BackendUnavailable,
    FormatError,
    HqoptError,
    ModelError,
    SpecError,
    UnknownBackendError,
    UnknownNameError,
)
from hqopt.model import Model, Sense
from hqopt.result import Result, Status, Timing
from hqopt.solve import Progress, solve

__version__ = "0.1.0"

#: submodules reachable as ``hqopt.<name>`` after a plain ``import hqopt`` (imported on first use)
LAZY_SUBMODULES = ("io", "formulations")


def __getattr__(name: str) -> object:
    """``hqopt.io.load(...)`` after ``import hqopt``: the submodule is imported when first used."""
    if name in LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"hqopt.{name}")
    raise AttributeError(f"module 'hqopt' has no attribute {name!r}")

__all__ = [
    "ArgumentError",
    "Backend",
    "BackendError",
    "BackendOptionError",
    "BackendUnavailable",
    "Capabilities",
    "FormatError",
    "HqoptError",
    "Model",
    "ModelError",
    "Progress",
    "Result",
    "Sense",
    "SpecError",
    "Status",
    "Timing",
    "UnknownBackendError",
    "UnknownNameError",
    "analyze",
    "available_backends",
    "get_backend",
    "solve",
    "solve_many",
    "__version__",
]
