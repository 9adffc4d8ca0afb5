"""Validation of ``solve()``'s arguments: one clear :class:`~hqopt.errors.ArgumentError` each.

``solve`` calls :func:`check_solve_arguments` before any work, so a bad
argument is a one-line :class:`ValueError` (an :class:`~hqopt.errors.HqoptError`
too), never a raw exception from deep inside, and never silently accepted
(``nan`` targets, warm starts naming variables the model does not have).

Example:
    >>> from hqopt import Model
    >>> m = Model.from_qubo({(0, 0): -1})
    >>> check_solve_arguments(m, time_limit=2, seed=7)
    (2.0, 7)
    >>> check_solve_arguments(m, target=float("nan"))
    Traceback (most recent call last):
    ...
    hqopt.errors.ArgumentError: target must be a finite number, got nan
"""

from __future__ import annotations

import math
import numbers
import secrets
from collections.abc import Mapping
from typing import Any

import dimod

from hqopt.budget import check_time_limit
from hqopt.errors import ArgumentError
from hqopt.model import Model

__all__ = ["check_seed", "check_solve_arguments"]


def check_solve_arguments(
    model: Model,
    *,
    time_limit: Any = None,
    seed: Any = None,
    penalty: Any = None,
    penalty_growth: Any = 2.0,
    penalty_rounds: Any = None,
    initial: Any = None,
    on_progress: Any = None,
    stop: Any = None,
    target: Any = None,
) -> tuple[float | None, int]:
    """Check every ``solve`` argument against ``model``; return ``(time_limit, seed)`` normalised.

    The seed is drawn (and so can be recorded) when ``None``.
    """
    time_limit = check_time_limit(time_limit)
    seed = check_seed(seed)
    _check_penalty(penalty)
    growth = _real(penalty_growth, "penalty_growth")
    if not growth > 1:
        raise ArgumentError(f"penalty_growth must be a finite number > 1, got {penalty_growth!r}")
    if penalty_rounds is not None and (not _is_int(penalty_rounds) or penalty_rounds < 1):
        raise ArgumentError(f"penalty_rounds must be a positive integer, got {penalty_rounds!r}")
    if initial is not None:
        _check_initial(model, initial)
    if on_progress is not None and not callable(on_progress):
        raise ArgumentError(f"on_progress must be callable (it gets a Progress), got {type(on_progress).__name__}")
    if stop is not None and not (callable(getattr(stop, "is_set", None)) and callable(getattr(stop, "set", None))):
        raise ArgumentError(f"stop must be a threading.Event, got {type(stop).__name__}")
    if target is not None:
        _real(target, "target")
    return time_limit, seed


def check_seed(seed: Any) -> int:
    """A non-negative integer seed; a random one (to be recorded) when ``None``.

    >>> check_seed(3)
    3
    """
    if seed is None:
        return secrets.randbelow(2**31)
    if not _is_int(seed) or seed < 0:
        raise ArgumentError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _real(value: Any, name: str) -> float:
    """``value`` as a finite float, or an ArgumentError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise ArgumentError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _check_penalty(penalty: Any) -> None:
    if penalty is None:
        return
    weights = penalty.items() if isinstance(penalty, Mapping) else [(None, penalty)]
    for _, weight in weights:  # labels are checked when the penalty model is built
        if not _real(weight, "penalty") > 0:
            raise ArgumentError(f"penalty weights must be positive, got {weight!r}")


def _check_initial(model: Model, initial: Any) -> None:
    if not isinstance(initial, Mapping):
        raise ArgumentError(f"initial must be a mapping {{variable: value}}, got {type(initial).__name__}")
    cqm = model.cqm
    for v, value in initial.items():
        if v not in cqm.variables:
            raise ArgumentError(f"initial names {v!r}, which is not a variable of the model")
        x = _real(value, f"initial value of {v!r}")
        if not in_domain(cqm, v, x):
            raise ArgumentError(f"initial value {value!r} of {v!r} is outside its domain ({domain_text(cqm, v)})")


def in_domain(cqm: dimod.ConstrainedQuadraticModel, v: Any, x: float) -> bool:
    """Whether variable ``v`` of ``cqm`` may take the value ``x``.

    >>> cqm = dimod.CQM.from_bqm(dimod.BQM({"a": 1.0}, {}, 0, "BINARY"))
    >>> in_domain(cqm, "a", 1.0), in_domain(cqm, "a", 2.0)
    (True, False)
    """
    vartype = cqm.vartype(v)
    if vartype is dimod.SPIN:
        return x in (-1.0, 1.0)
    within = cqm.lower_bound(v) <= x <= cqm.upper_bound(v)
    return bool(within if vartype is dimod.REAL else within and float(x).is_integer())


def domain_text(cqm: dimod.ConstrainedQuadraticModel, v: Any) -> str:
    """The values variable ``v`` may take, in words (``0 or 1``, ``integers 0..5``)."""
    vartype = cqm.vartype(v)
    if vartype is dimod.SPIN:
        return "-1 or +1"
    if vartype is dimod.BINARY:
        return "0 or 1"
    kind = "integers" if vartype is dimod.INTEGER else "reals"
    return f"{kind} {cqm.lower_bound(v):g}..{cqm.upper_bound(v):g}"
