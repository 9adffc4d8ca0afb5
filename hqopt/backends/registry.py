"""Find backends by name: built-ins plus the ``hqopt.backends`` entry-point group.

Third parties register a backend class in their ``pyproject.toml``::

    [project.entry-points."hqopt.backends"]
    mysolver = "mypkg.backend:MySolverBackend"

Built-ins are named by import path so that listing them never imports a heavy
optional dependency (Qiskit, dwave-system).

Example:
    >>> from hqopt.backends import available_backends
    >>> "sa" in available_backends()
    True
"""

from __future__ import annotations

import difflib
import functools
import importlib
from importlib.metadata import entry_points
from typing import Any

import dimod

from hqopt.backends.base import Backend
from hqopt.errors import BackendError, BackendOptionError, BackendUnavailable, UnknownBackendError

#: built-in backends: name -> "module:Class"
BUILTIN_BACKENDS: dict[str, str] = {
    "auto": "hqopt.backends.auto:AutoBackend",
    "cpsat": "hqopt.backends.cpsat:CPSatBackend",
    "exact": "hqopt.backends.exact:ExactBackend",
    "sa": "hqopt.backends.anneal:SimulatedAnnealingBackend",
    "tabu": "hqopt.backends.anneal:TabuBackend",
    "steepest": "hqopt.backends.anneal:SteepestDescentBackend",
    "sqa": "hqopt.backends.anneal:PathIntegralBackend",
    "portfolio": "hqopt.backends.portfolio:PortfolioBackend",
    "mip": "hqopt.backends.mip:MIPBackend",
    "ls": "hqopt.backends.ls:LocalSearchBackend",
    "lns": "hqopt.backends.lns:LNSBackend",
    "hybrid": "hqopt.backends.hybrid:HybridBackend",
    "dwave": "hqopt.backends.dwave:DWaveBackend",
    "dwave-mock": "hqopt.backends.dwave:DWaveMockBackend",
    "leap-hybrid": "hqopt.backends.dwave:LeapHybridBackend",
    "qaoa": "hqopt.backends.qaoa:QAOABackend",
}


@functools.cache
def _entry_point_backends() -> dict[str, Any]:
    """Backends that installed packages register (``hqopt.backends`` entry points), read once."""
    return {ep.name: ep for ep in entry_points(group="hqopt.backends")}


def available_backends() -> list[str]:
    """Names of every known backend (installed or not), sorted."""
    return sorted(set(BUILTIN_BACKENDS) | set(_entry_point_backends()))


def backend_class(name: str) -> type[Backend]:
    """The class registered under ``name`` (case-insensitive); a "did you mean" error otherwise.

    >>> backend_class("SA").name
    'sa'
    >>> backend_class("tabo")
    Traceback (most recent call last):
    ...
    hqopt.errors.UnknownBackendError: unknown backend 'tabo'; did you mean 'tabu'? (available: ...)
    """
    name = backend_name(name)
    if name in BUILTIN_BACKENDS:
        module_name, _, attr = BUILTIN_BACKENDS[name].partition(":")
        return getattr(importlib.import_module(module_name), attr)
    cls = _entry_point_backends()[name].load()
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise BackendError(f"entry point '{name}' in hqopt.backends is not an hqopt Backend subclass")
    return cls


def backend_name(name: str) -> str:
    """``name`` as registered (case-insensitive), without importing the backend; a "did you mean" error otherwise.

    >>> backend_name("CPSAT")
    'cpsat'
    """
    known = set(BUILTIN_BACKENDS) | set(_entry_point_backends())
    if name not in known:
        folded = {k.casefold(): k for k in known}
        name = folded.get(name.casefold(), name)
    if name in known:
        return name
    raise UnknownBackendError(f"unknown backend {name!r}{_did_you_mean(name, sorted(known))} (available: {', '.join(sorted(known))})")


def _did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name.casefold(), known, n=2, cutoff=0.6)
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?" if close else ""


def get_backend(backend: str | Backend | dimod.Sampler, **options: Any) -> Backend:
    """Resolve a name, a Backend instance or any dimod Sampler to a Backend.

    Options go to the backend's constructor (for a name) and are an error for
    an instance (configure the instance instead).
    """
    if isinstance(backend, Backend):
        if options:
            raise BackendOptionError(f"options {sorted(options)} cannot be applied to a backend instance; pass them to its constructor")
        return backend
    if isinstance(backend, str):
        cls = backend_class(backend)
        status = cls.availability()
        if not status.available:
            raise BackendUnavailable(f"backend '{backend}' is not available here: {status.reason}")
        return cls(**options)
    if isinstance(backend, dimod.Sampler):
        from hqopt.backends.sampler import DimodSamplerBackend

        return DimodSamplerBackend(sampler=backend, **options)
    raise BackendOptionError(
        f"backend must be a name, an hqopt Backend or a dimod Sampler, got {type(backend).__name__}"
    )
