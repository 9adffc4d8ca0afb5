"""Read a solution file: the warm start of ``hqopt solve --initial FILE``.

Three forms are accepted:

* a result JSON written by ``hqopt solve --output`` (its ``solution``; tuple
  labels come back as tuples);
* a JSON object ``{"label": value, ...}``;
* text with one ``label value`` pair per line (``#`` starts a comment; the
  value is the last word, so labels such as ``('x', 1, 2)`` may hold spaces).

Labels are matched to the model's variables by their text when the model's
labels aren't strings (``3`` in a file names variable ``3``). A label the model
does not have, a variable given twice, or a value outside its variable's
domain is an error naming the file and line; in a result JSON, though, labels
the model lacks are left out (a re-plan's model has no variables on a site
that went down), and only a result with none of its labels is an error, as
is a file that gives no variable a value (empty, ``{}``, comments only). A
result of a problem with another name, or with labels left out, warns
(:class:`~hqopt.errors.OtherProblemStartWarning`).

Example:
    >>> import tempfile, os
    >>> from hqopt import Model
    >>> m = Model.from_qubo({(0, 1): 1})
    >>> path = os.path.join(tempfile.mkdtemp(), "start.txt")
    >>> _ = open(path, "w").write("0 1\\n1 0\\n")
    >>> read_solution(path, m)
    {0: 1, 1: 0}
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from hqopt.arguments import domain_text, in_domain
from hqopt.errors import FormatError, OtherProblemStartWarning
from hqopt.io.base import DuplicateKey, duplicate_key_line, read_text, unique_keys
from hqopt.model import Model


def read_solution(path: str | os.PathLike[str], model: Model) -> dict[Hashable, float]:
    """The assignment in ``path`` over ``model``'s variables (see the module docstring)."""
    text = read_text(path)
    by_text = {str(v): v for v in model.cqm.variables}
    pairs: list[tuple[int | None, Any, Any]]
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(text, object_pairs_hook=unique_keys)
        except DuplicateKey as repeated:
            raise FormatError(path, duplicate_key_line(text, repeated.key), f"variable {repeated.key[:80]!r} is given twice") from None
        except (ValueError, RecursionError) as error:
            raise FormatError(path, getattr(error, "lineno", None), f"not valid JSON: {str(error)[:200]}") from None
        if isinstance(data, dict) and {"solution", "objective", "status"} <= set(data):  # a result JSON
            from hqopt.result import Result

            result = Result.from_dict(data)
            if result.solution is None:
                raise FormatError(path, None, "this result has no solution to start from")
            if result.model_name and model.name and result.model_name != model.name:
                warnings.warn(
                    f"{path}: a result of problem {result.model_name!r}, not {model.name!r}; its values start the search where the labels match",
                    OtherProblemStartWarning,
                    stacklevel=2,
                )
            solution = result.solution
            known = {label: value for label, value in solution.items() if _known(label, model, by_text)}
            if not known:
                raise FormatError(path, None, "none of this result's variables is in the model")
            if len(known) < len(solution):  # e.g. a re-plan's model lacks a down site's variables
                left = next(str(label)[:80] for label in solution if label not in known)
                warnings.warn(
                    f"{path}: {len(solution) - len(known)} of the result's {len(solution)} variables are not in this model "
                    f"(e.g. {left!r}); the others start the search",
                    OtherProblemStartWarning,
                    stacklevel=2,
                )
            pairs = [(None, label, value) for label, value in known.items()]
        elif isinstance(data, dict):
            pairs = [(None, label, value) for label, value in data.items()]
        else:
            raise FormatError(path, 1, "expected a JSON object of {variable: value} or a result JSON")
    else:
        pairs = []
        first_line: dict[str, int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            content = line.split("#", 1)[0].strip().rsplit(None, 1)  # labels may hold spaces: "(0, 1) 1"
            if not content:
                continue
            if len(content) != 2:
                raise FormatError(path, number, "expected 'label value'")
            if content[0] in first_line:
                raise FormatError(path, number, f"variable {content[0][:80]!r} is given twice (first on line {first_line[content[0]]})")
            first_line[content[0]] = number
            pairs.append((number, content[0], content[1]))
    if not pairs:  # an empty file, {} or only comments: no warm start at all, which the user did not mean
        raise FormatError(path, None, "it gives no variable a value (an empty file?)")
    start: dict[Hashable, float] = {}
    for where, label, raw in pairs:
        variable, value = _variable(path, where, label, model, by_text), _value(path, where, label, raw)
        if not in_domain(model.cqm, variable, value):
            raise FormatError(Path(path), where, f"value {value:g} of {str(label)[:80]!r} is outside its domain ({domain_text(model.cqm, variable)})")
        start[variable] = value
    return start


def _known(label: Any, model: Model, by_text: dict[str, Hashable]) -> bool:
    return label in model.cqm.variables or str(label) in by_text


def _variable(path: Any, line: int | None, label: Any, model: Model, by_text: dict[str, Hashable]) -> Hashable:
    if label in model.cqm.variables:
        return label
    if str(label) in by_text:
        return by_text[str(label)]
    shown = str(label)[:80]
    raise FormatError(Path(path), line, f"variable {shown!r} is not in the model")


def _value(path: Any, line: int | None, label: Any, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FormatError(Path(path), line, f"value of {str(label)[:80]!r} is not a number") from None
    return int(number) if number.is_integer() else number
