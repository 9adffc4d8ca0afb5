"""Search-space encodings: every distribution type round-trips, and the model's constraints are exact."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hqopt.automl.encoding import ENCODINGS, SearchSpaceEncoder
from hqopt.errors import ArgumentError, ModelError

DISTRIBUTIONS = {
    "cat": CategoricalDistribution(["a", None, 3, 2.5, True]),
    "int_small": IntDistribution(-3, 4),
    "int_step": IntDistribution(0, 20, step=4),
    "int_wide": IntDistribution(1, 1000),
    "int_log": IntDistribution(1, 4096, log=True),
    "float": FloatDistribution(-1.0, 2.0),
    "float_log": FloatDistribution(1e-5, 10.0, log=True),
    "float_step": FloatDistribution(0.0, 1.0, step=0.1),
    "float_step_wide": FloatDistribution(0.0, 100.0, step=0.5),
}


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_every_level_round_trips(name: str, encoding: str) -> None:
    dist = DISTRIBUTIONS[name]
    enc = SearchSpaceEncoder({name: dist}, encoding=encoding, max_levels=9)
    (code,) = enc.params
    assert 2 <= code.n_levels <= max(9, len(getattr(dist, "choices", ())))
    seen = set()
    for level in code.levels:
        bits = enc.encode({name: level})
        assert bits.shape == (enc.n_bits,)
        back = enc.decode(bits)[name]
        assert back == level and type(back) is type(level)
        assert dist._contains(dist.to_internal_repr(back))  # a value Optuna accepts
        seen.add(bits.tobytes())
    assert len(seen) == code.n_levels  # distinct levels, distinct bit vectors


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_off_grid_values_go_to_the_nearest_level(encoding: str) -> None:
    space = {"lin": FloatDistribution(0.0, 10.0), "log": FloatDistribution(1e-4, 1.0, log=True)}
    enc = SearchSpaceEncoder(space, encoding=encoding, max_levels=5)  # lin 0,2.5,..,10; log 1e-4..1 per decade
    out = enc.decode(enc.encode({"lin": 3.6, "log": 0.004}))
    assert out["lin"] == pytest.approx(2.5)
    assert out["log"] == pytest.approx(1e-2)  # on a log scale 4e-3 is nearer 1e-2 (linearly it is nearer 1e-3)


def test_bit_counts_per_encoding() -> None:
    space = {"k": CategoricalDistribution(list("abc")), "n": IntDistribution(0, 5)}  # 6 levels
    counts = {e: SearchSpaceEncoder(space, encoding=e).n_bits for e in ENCODINGS}
    assert counts == {"binary": 3 + 3, "one-hot": 3 + 6, "domain-wall": 3 + 5}


def test_numeric_ranges_are_cut_to_max_levels_on_log_scale() -> None:
    enc = SearchSpaceEncoder({"n": IntDistribution(1, 10_000, log=True)}, max_levels=5)
    assert enc.params[0].levels == (1, 10, 100, 1000, 10000)


@pytest.mark.parametrize("low, high, log, center", [(1e-3, 10.0, True, 1.0), (0.0, 1.0, False, 0.5)])
def test_refined_levels_hold_no_two_values_a_rounding_error_apart(low, high, log, center) -> None:
    """0.3727593720314938 and 0.372759372031494 were two levels: a trust region of radius 1 stepped onto the copy."""
    enc = SearchSpaceEncoder({"x": FloatDistribution(low, high, log=log)}, centers={"x": center})
    levels = np.array(enc.params[0].levels)
    assert center in levels
    assert np.all(np.diff(levels) > 1e-9 * np.abs(levels[1:]))


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_model_constraints_accept_exactly_the_valid_bit_vectors(encoding: str) -> None:
    space = {"k": CategoricalDistribution(["x", "y", "z"]), "n": IntDistribution(0, 4), "f": FloatDistribution(0, 1)}
    enc = SearchSpaceEncoder(space, encoding=encoding, max_levels=3)
    model = enc.model(np.zeros((enc.n_bits, enc.n_bits)))
    valid = 0
    for bits in itertools.product((0, 1), repeat=enc.n_bits):
        ok = model.evaluate(dict(enumerate(bits))).feasible
        assert ok == (enc.indices_of_bits(np.array(bits)) is not None)
        valid += ok
    assert valid == enc.grid_size == 3 * 3 * 3  # n: 5 values cut to 3 levels


def test_invalid_bits_are_rejected() -> None:
    enc = SearchSpaceEncoder({"k": CategoricalDistribution(["a", "b"]), "n": IntDistribution(0, 2)}, encoding="binary")
    with pytest.raises(ModelError):
        enc.decode(np.array([1, 1, 0, 0]))  # two one-hot bits
    with pytest.raises(ModelError):
        enc.decode(np.array([1, 0, 1, 1]))  # binary index 3 > last level 2
    dw = SearchSpaceEncoder({"n": IntDistribution(0, 3)}, encoding="domain-wall")
    assert dw.indices_of_bits(np.array([0, 1, 0])) is None
    assert dw.indices_of_bits(np.array([1, 1, 0])) == (2,)


def test_bad_settings_are_errors() -> None:
    with pytest.raises(ArgumentError, match="encoding"):
        SearchSpaceEncoder({"n": IntDistribution(0, 3)}, encoding="gray")
    with pytest.raises(ArgumentError, match="max_levels"):
        SearchSpaceEncoder({"n": IntDistribution(0, 3)}, max_levels=1)
