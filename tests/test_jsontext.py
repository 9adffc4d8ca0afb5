"""readable_json: the same data as json.dumps, containers on one line where they fit."""

from __future__ import annotations

import json
import math
import random

import pytest

import hqopt
from hqopt.jsontext import readable_json


def _random_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return rng.choice(["", "a", "x[1,2]", 'q"uo{te}', "é ü\n\t", "[", "]}"])
    if kind == 1:
        return rng.randint(-(10**20), 10**20)
    if kind == 2:
        return rng.choice([0.0, -0.0, 1.5, 1e-300, 1e300, rng.random()])
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return float(rng.choice(["nan", "inf", "-inf"]))
    if kind == 5:
        return []
    if kind in (6, 7):
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(30))]
    keys = ["k", "long key " * 3, 7, 2.5, True, None, "t"]
    return {rng.choice(keys): _random_value(rng, depth + 1) for _ in range(rng.randrange(8))}


def _same(a, b) -> bool:
    """Equal, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


@pytest.mark.parametrize("seed", range(200))
def test_the_text_reads_back_as_json_dumps_would_and_keeps_lines_short(seed):
    rng = random.Random(seed)
    data = _random_value(rng)
    width, indent = rng.choice([10, 40, 100]), rng.choice([1, 2, 4])
    text = readable_json(data, width=width, indent=indent)
    assert _same(json.loads(text), json.loads(json.dumps(data)))  # same data, keys made strings the same way
    for line in (line for line in text.splitlines() if len(line) > width):
        # a line over the width opens a container, or holds one member that can't be opened (a scalar, an empty container)
        body = line.strip().removesuffix(",")
        if body in ("[", "{", "]", "}"):  # an opening or a closing line (deep indentation may pass the width)
            continue
        first, end = json.JSONDecoder().raw_decode(body)
        rest = body[end:]
        if rest.startswith(": "):  # a key
            if rest[2:] in ("[", "{"):
                continue
            first = json.loads(rest[2:])
        assert not isinstance(first, (list, dict)) or not first, line


def test_a_result_is_a_line_per_variable_and_round_trips():
    result = hqopt.solve(hqopt.Model.from_qubo({(("x", i), ("x", i)): -1.0 for i in range(300)}), backend="sa", seed=1, num_reads=2)
    text = result.to_json()
    assert '    [{"t": ["x", 0]}, 1],' in text.splitlines()
    assert len(text.splitlines()) < 300 + 60  # json.dumps(indent=2) took 9 lines a variable
    assert hqopt.Result.from_json(text).solution == result.solution


def test_nan_is_refused_when_asked():
    with pytest.raises(ValueError, match="not JSON compliant"):
        readable_json({"x": [float("nan")]}, allow_nan=False)
