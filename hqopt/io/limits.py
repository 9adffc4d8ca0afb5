"""Resource limits for reading problem files: one place, checked before allocating.

Every reader compares the sizes a file *declares* (a header's ``n m``, a
matrix side, a spec's list lengths) with these caps before it builds
anything, so a 13-byte file cannot ask for gigabytes. The caps:

=====================  ===========================  ==========  ==========================================
attribute              environment variable         default     what it bounds
=====================  ===========================  ==========  ==========================================
``max_file_bytes``     ``HQOPT_MAX_FILE_BYTES``     64 MiB      a file's size after gzip decompression
``max_variables``      ``HQOPT_MAX_VARIABLES``      100 000     variables of the model a file describes
``max_couplings``      ``HQOPT_MAX_COUPLINGS``      10 000 000  quadratic terms / matrix entries / edges
``max_qap_n``          ``HQOPT_MAX_QAP_N``          60          QAP size n (the model has ~n^4/2 terms)
``max_spec_nodes``     ``HQOPT_MAX_SPEC_NODES``     2 000 000   values in a YAML/JSON spec (aliases expanded)
=====================  ===========================  ==========  ==========================================

The environment is read when :mod:`hqopt.io` is imported; change
:data:`LIMITS` in code, or for a block with :func:`overridden`.

Example:
    >>> LIMITS.max_qap_n
    60
    >>> with overridden(max_variables=10):
    ...     check("variables", 11, "tiny.txt", 1)
    Traceback (most recent call last):
    ...
    hqopt.errors.FormatError: tiny.txt:1: 11 variables is more than the limit of 10 (raise it with HQOPT_MAX_VARIABLES or hqopt.io.limits.LIMITS.max_variables)
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from hqopt.errors import FormatError


@dataclass
class Limits:
    """The caps every reader checks (see the module docstring for the defaults)."""

    max_file_bytes: int = 64 * 2**20
    max_variables: int = 100_000
    max_couplings: int = 10_000_000
    max_qap_n: int = 60
    max_spec_nodes: int = 2_000_000

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        """The defaults, each overridden by its ``HQOPT_MAX_...`` environment variable."""
        env = os.environ if environ is None else environ
        values = {}
        for f in dataclasses.fields(cls):
            raw = env.get(_env_name(f.name))
            if raw is None:
                continue
            try:
                value = int(raw.replace("_", ""))
            except ValueError:
                value = 0
            if value < 1:  # never fail an import over this: say so and keep the default
                warnings.warn(f"{_env_name(f.name)} must be a positive integer, got {raw[:40]!r}; using {f.default}", stacklevel=2)
                continue
            values[f.name] = value
        return cls(**values)


#: what each ``check`` key counts, and the attribute that caps it
_CAPS = {
    "variables": ("variables", "max_variables"),
    "couplings": ("quadratic terms", "max_couplings"),
    "entries": ("entries", "max_couplings"),
    "edges": ("edges", "max_couplings"),
    "bytes": ("bytes", "max_file_bytes"),
    "qap_n": ("as QAP size n", "max_qap_n"),
    "spec_nodes": ("values in the spec", "max_spec_nodes"),
}


def _env_name(attribute: str) -> str:
    return "HQOPT_" + attribute.upper()


#: the limits in force (read from the environment at import; assign to change them)
LIMITS = Limits.from_env()


def cap(what: str) -> int:
    """The current cap on ``what`` (a key of ``check``), e.g. ``cap("variables")``."""
    return int(getattr(LIMITS, _CAPS[what][1]))


def check(what: str, value: int, source: object, line: int | None = None) -> int:
    """``value`` if it is within the cap on ``what``; a FormatError naming the file otherwise.

    ``what`` is one of ``variables``, ``couplings``, ``entries``, ``edges``,
    ``bytes``, ``qap_n``, ``spec_nodes``.
    """
    noun, attribute = _CAPS[what]
    limit = int(getattr(LIMITS, attribute))
    if value > limit:
        count = f"n = {value}" if what == "qap_n" else f"{value} {noun}"
        raise FormatError(
            source,
            line,
            f"{count} is more than the limit of {limit} (raise it with {_env_name(attribute)} or hqopt.io.limits.LIMITS.{attribute})",
        )
    return value


@contextlib.contextmanager
def overridden(**caps: int) -> Iterator[Limits]:
    """Change some caps for a ``with`` block (e.g. in tests), then restore them."""
    saved = dataclasses.replace(LIMITS)
    for name, value in caps.items():
        if not hasattr(LIMITS, name):
            raise AttributeError(f"no limit called {name!r}; limits: {', '.join(f.name for f in dataclasses.fields(Limits))}")
        setattr(LIMITS, name, value)
    try:
        yield LIMITS
    finally:
        for f in dataclasses.fields(Limits):
            setattr(LIMITS, f.name, getattr(saved, f.name))
