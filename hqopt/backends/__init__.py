"""Solver backends behind one contract; see :mod:`hqopt.backends.base`.

Example:
    >>> from hqopt.backends import available_backends, get_backend
    >>> get_backend("tabu").name
    'tabu'
"""

from hqopt.backends.base import Availability, Backend, BackendOutput, Capabilities
from hqopt.backends.registry import BUILTIN_BACKENDS, available_backends, backend_class, get_backend

__all__ = [
    "Availability",
    "Backend",
    "BackendOutput",
    "Capabilities",
    "BUILTIN_BACKENDS",
    "available_backends",
    "backend_class",
    "get_backend",
]
