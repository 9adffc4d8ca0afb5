"""Exceptions raised by hqopt.

Every error a user can cause derives from :class:`HqoptError`, so the CLI can
turn it into a one-line message and exit code 2 instead of a traceback. They
also derive from the built-in class a Python user would catch: a bad argument
value is a :class:`ValueError` (as dimod's errors are), an unknown name a
:class:`LookupError`.

Example:
    >>> from hqopt.errors import ArgumentError, FormatError
    >>> str(FormatError("bqp50.txt", 3, "expected 3 numbers, got 2"))
    'bqp50.txt:3: expected 3 numbers, got 2'
    >>> issubclass(ArgumentError, ValueError) and issubclass(ArgumentError, HqoptError)
    True
"""

from __future__ import annotations

#: the longest error message hqopt produces (a 10 MB token is never echoed whole)
MAX_MESSAGE = 500


def bounded(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line, cut in the middle to at most ``limit`` characters.

    >>> len(bounded("x" * 10_000)), bounded("two\\nlines")
    (500, 'two lines')
    """
    text = " ".join(str(text).split("\n")).replace("\r", " ")
    if len(text) <= limit:
        return text
    keep = limit - 5
    return text[: keep - keep // 4] + " ... " + text[len(text) - keep // 4 :]


class HqoptError(Exception):
    """Base class of every error caused by the caller's input or settings."""


class ArgumentError(HqoptError, ValueError):
    """An argument has a bad value (``solve(seed=-1)``, ``time_limit=nan``, ...)."""


class UnknownNameError(HqoptError, LookupError):
    """A name (backend, format, formulation, ...) is not known."""


class FormatError(HqoptError):
    """A problem file is malformed: names the file, the line and the reason."""

    def __init__(self, path: object, line: int | None, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{bounded(self.path, 200)}:{line}" if line is not None else bounded(self.path, 200)
        super().__init__(bounded(f"{where}: {reason}"))


class SpecError(HqoptError):
    """A problem or tuning spec has a bad field: names the field and the reason."""

    def __init__(self, field: str, reason: str, *, source: object | None = None) -> None:
        self.field = field
        self.reason = reason
        self.source = None if source is None else str(source)
        prefix = f"{self.source}: " if self.source else ""
        super().__init__(bounded(f"{prefix}field '{bounded(field, 120)}': {reason}"))


class ModelError(HqoptError):
    """A model cannot be built or compiled as asked (e.g. unbounded integers)."""


class BackendError(HqoptError):
    """A backend cannot take this problem or request (size, kind, failure)."""


class BackendOptionError(BackendError, ArgumentError):
    """A backend option is unknown to that backend or has a bad value."""


class UnknownBackendError(BackendError, UnknownNameError):
    """No backend has this name (the message suggests the closest ones)."""


class BackendUnavailable(BackendError):
    """A backend exists but cannot run here (missing extra or credentials)."""


class NotSearchedWarning(RuntimeWarning):
    """The time limit ran out before a backend could search (a cold JIT compile, loading a QPU
    sampler, an embedding search); ``Result.info["compile"]`` says why and what would do."""


class SitesStillDownWarning(UserWarning):
    """A placement re-planned from a result in which sites were down (a re-plan's ``--output``) keeps
    them down; ``Placement.replan(up=...)`` (``--site-up``) says they run again.

    >>> str(SitesStillDownWarning(["fra-1"]))
    "site fra-1 is down in the current plan's result and stays down (--site-up fra-1, or up= in Python, once it runs again)"
    """

    def __init__(self, sites: list[str]) -> None:
        self.sites = list(sites)
        which = f"site {sites[0]} is" if len(sites) == 1 else f"sites {', '.join(sites)} are"
        flags = " ".join(f"--site-up {s}" for s in sites)
        again = "it runs" if len(sites) == 1 else "they run"
        super().__init__(f"{which} down in the current plan's result and stay{'s' if len(sites) == 1 else ''} down ({flags}, or up= in Python, once {again} again)")


class OtherProblemStartWarning(UserWarning):
    """A warm start read from the result of another problem (its ``model_name`` differs) or one whose
    variables the model partly lacks (a re-plan): its values are used where the labels match."""
