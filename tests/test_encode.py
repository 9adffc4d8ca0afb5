"""Integer/spin expansion into bits: the BQM's energy equals the model's on every assignment."""

from __future__ import annotations

import dimod
import numpy as np
import pytest

from hqopt.compile import _decompose
from hqopt.compile.encode import ENCODINGS, IntegerEncoding, binary_coefficients, expand_to_bqm


def _random_qm(rng: np.random.Generator) -> dimod.QuadraticModel:
    qm = dimod.QuadraticModel()
    for i in range(int(rng.integers(1, 6))):
        vartype = str(rng.choice(["BINARY", "SPIN", "INTEGER"]))
        if vartype == "INTEGER":
            qm.add_variable(vartype, i, lower_bound=int(rng.integers(-3, 2)), upper_bound=int(rng.integers(2, 7)))
        else:
            qm.add_variable(vartype, i)
        qm.add_linear(i, rng.normal())
    n = qm.num_variables
    for _ in range(int(rng.integers(0, 8))):
        u, v = (int(x) for x in rng.integers(0, n, 2))
        if u != v or qm.vartype(u) is dimod.INTEGER:
            qm.add_quadratic(u, v, rng.normal())
    qm.offset = rng.normal()
    return qm


@pytest.mark.parametrize("method", [m for m in ENCODINGS if m != "domain-wall"])
def test_expanded_energy_equals_the_models_on_random_assignments(method):
    rng = np.random.default_rng(7)
    for _ in range(60):
        qm = _random_qm(rng)
        bounds = {v: (qm.lower_bound(v), qm.upper_bound(v)) for v in qm.variables if qm.vartype(v) is dimod.INTEGER}
        encoding = IntegerEncoding.for_variables(bounds, method)
        scale = float(rng.choice([1.0, -1.0, 2.5]))
        bqm = expand_to_bqm(qm, encoding, scale=scale)
        for _ in range(5):
            sample, bits = {}, {}
            for v in qm.variables:
                vartype = qm.vartype(v)
                if vartype is dimod.BINARY:
                    sample[v] = bits[v] = int(rng.integers(0, 2))
                elif vartype is dimod.SPIN:
                    sample[v] = int(rng.choice([-1, 1]))
                    bits[v] = (sample[v] + 1) // 2
                else:
                    lower, terms = encoding.expansion(v)
                    chosen = [int(rng.integers(0, 2)) for _ in terms]
                    if method == "one-hot":
                        chosen = [int(k == rng.integers(len(terms))) for k in range(len(terms))]
                    sample[v] = lower + sum(c * b for (_, c), b in zip(terms, chosen))
                    bits.update({b: x for (b, _), x in zip(terms, chosen)})
            assert bqm.energy(bits) == pytest.approx(scale * qm.energy(sample), abs=1e-9)


@pytest.mark.parametrize("span", range(1, 70))
def test_binary_decomposition_reaches_every_value(span):
    terms = [(k, c) for k, c in enumerate(binary_coefficients(span))]
    for value in range(span + 1):
        bits = _decompose(value, terms)
        assert sum(c * bits[k] for k, c in terms) == value
