"""Small readers for spec fields: each returns a clean value or raises SpecError naming the field.

Formulations parse their YAML/JSON spec dicts with these, so every bad field
gets the same kind of one-line message, e.g.
``field 'sites[2].capacity.cpu': must be a number >= 0, got 'lots'``.

Example:
    >>> number({"cpu": 4}, "cpu", "capacity", minimum=0)
    4.0
    >>> number({"cpu": -1}, "cpu", "capacity", minimum=0)
    Traceback (most recent call last):
    ...
    hqopt.errors.SpecError: field 'capacity.cpu': must be a number >= 0, got -1
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from hqopt.errors import SpecError

_MISSING = object()


def join(parent: str, key: str | int) -> str:
    """``sites`` + ``2`` -> ``sites[2]``; ``sites[2]`` + ``name`` -> ``sites[2].name``."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def mapping(value: Any, where: str) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else SpecError."""
    if not isinstance(value, Mapping):
        raise SpecError(where, f"must be a mapping, got {type(value).__name__}")
    return value


def sequence(value: Any, where: str) -> list[Any]:
    """``value`` as a list if it is a list or tuple, else SpecError."""
    if not isinstance(value, (list, tuple)):
        raise SpecError(where, f"must be a list, got {type(value).__name__}")
    return list(value)


def no_unknown_keys(spec: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """SpecError for the first key of ``spec`` not in ``allowed`` (typos never pass silently)."""
    allowed = set(allowed)
    for key in spec:
        if key not in allowed:
            raise SpecError(join(where, str(key)), f"unknown field; expected one of {', '.join(sorted(allowed))}")


def to_number(value: Any, where: str, *, minimum: float | None = None, integer: bool = False) -> float:
    """``value`` as a finite float (bools refused), checked against ``minimum``."""
    kind = "an integer" if integer else "a number"
    bound = f" >= {minimum:g}" if minimum is not None else ""
    if isinstance(value, int) and not isinstance(value, bool) and not _fits_a_float(value):
        raise SpecError(where, f"must be a finite number, got an integer past a float's range (about {'-' if value < 0 else ''}1e{int(value.bit_length() * math.log10(2))})")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isfinite(value):
        raise SpecError(where, f"must be a finite number, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(where, f"must be {kind}{bound}, got {value!r}{_text_number_hint(value)}")
    if integer and isinstance(value, float) and not value.is_integer():  # (an int is one, however large)
        raise SpecError(where, f"must be {kind}{bound}, got {value!r}")
    if minimum is not None and value < minimum:
        raise SpecError(where, f"must be {kind}{bound}, got {value!r}")
    return float(value)


def _fits_a_float(value: int) -> bool:
    """Whether ``float(value)`` is finite (an integer past about 1.8e308 has no float).

    >>> _fits_a_float(10**308), _fits_a_float(10**309)
    (True, False)
    """
    try:
        float(value)
    except OverflowError:
        return False
    return True


def _text_number_hint(value: Any) -> str:
    """How to write e-notation that YAML 1.1 reads as text (it needs a dot and a signed exponent).

    >>> _text_number_hint("12345e3"), _text_number_hint("1.5e3"), _text_number_hint("2e-4")
    (' (YAML reads 12345e3 as text: write 12345.0e+3)', ' (YAML reads 1.5e3 as text: write 1.5e+3)', ' (YAML reads 2e-4 as text: write 2.0e-4)')
    >>> _text_number_hint("lots"), _text_number_hint("3"), _text_number_hint("1.0e+3")
    ('', '', '')
    """
    match = re.fullmatch(r"([+-]?[0-9]+)(\.[0-9]*)?[eE]([+-]?)([0-9]+)", value) if isinstance(value, str) else None
    if match is None:
        return ""
    mantissa, fraction, sign, exponent = match.groups()
    if fraction and sign:  # a number to YAML too: it came quoted
        return ""
    if math.isinf(float(value)):
        return f" ({value} is beyond the largest number, about 1.8e+308)"
    if float(value) == 0 and float(mantissa):
        return f" ({value} is below the smallest number, about 5e-324)"
    return f" (YAML reads {value} as text: write {mantissa}{fraction or '.0'}e{sign or '+'}{exponent})"


def number(
    spec: Mapping[str, Any],
    key: str,
    where: str,
    *,
    default: Any = _MISSING,
    minimum: float | None = None,
    integer: bool = False,
) -> float:
    """The number ``spec[key]``; ``default`` when absent (SpecError if no default)."""
    if key not in spec:
        if default is _MISSING:
            raise SpecError(join(where, key), "is required")
        return default
    return to_number(spec[key], join(where, key), minimum=minimum, integer=integer)


def name(value: Any, where: str) -> str:
    """A non-empty name (numbers are accepted and turned into text)."""
    if isinstance(value, bool):  # YAML 1.1 reads off, no, on, yes (unquoted) as false and true
        raise SpecError(where, f"must be a name (text), got {value!r} (YAML reads off/no/on/yes as {str(value).lower()}: quote the name)")
    if not isinstance(value, (str, int)):
        raise SpecError(where, f"must be a name (text), got {value!r}")
    text = str(value).strip()
    if not text:
        raise SpecError(where, "must not be empty")
    return text


def text(spec: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str | None:
    """The optional name ``spec[key]``, or ``default``."""
    if key not in spec or spec[key] is None:
        return default
    return name(spec[key], join(where, key))


def choice(spec: Mapping[str, Any], key: str, where: str, options: tuple[str, ...], default: str) -> str:
    """``spec[key]`` if it is one of ``options`` (``default`` when absent)."""
    value = spec.get(key, default)
    if value not in options:
        raise SpecError(join(where, key), f"must be one of {', '.join(options)}, got {value!r}")
    return str(value)


def number_map(value: Any, where: str, *, minimum: float | None = None) -> dict[str, float]:
    """A mapping name -> number, e.g. ``{cpu: 4, memory: 16}``."""
    return {name(k, join(where, str(k))): to_number(v, join(where, str(k)), minimum=minimum) for k, v in mapping(value, where).items()}


def known(value: str, names: Mapping[str, Any] | set[str], where: str, what: str) -> str:
    """``value`` if it names one of ``names`` (a SpecError listing a few otherwise)."""
    if value not in names:
        sample = ", ".join(sorted(names)[:5])
        more = ", ..." if len(names) > 5 else ""
        raise SpecError(where, f"unknown {what} {value!r} (known: {sample}{more})")
    return value
