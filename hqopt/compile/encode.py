"""Express spin and bounded-integer variables with binary ones, and back.

Encodings of an integer ``v`` in ``[lb, ub]`` (``r = ub - lb``):

* ``binary`` (default): ``v = lb + sum_k c_k b_k`` with ``c = 1, 2, 4, ..``
  and a last coefficient cut so that the values are exactly ``[lb, ub]``
  (``ceil(log2(r + 1))`` bits);
* ``unary``: ``v = lb + sum_k b_k`` (``r`` bits, many encodings per value);
* ``one-hot``: ``v = lb + sum_k k b_k`` with ``sum_k b_k == 1`` (``r + 1``
  bits, the one-hot constraint is penalised like any other constraint);
* ``domain-wall``: unary bits ordered ``b_1 >= b_2 >= ...``; the order is
  kept by a penalty ``sum_k b_{k+1} (1 - b_k)`` (``r`` bits).

A spin ``s`` becomes the binary ``x`` with ``s = 2x - 1`` and keeps its label.

Example:
    >>> import dimod
    >>> enc = IntegerEncoding.for_variables({"i": (0, 5)}, method="binary")
    >>> [c for _, c in enc.bits["i"]]
    [1.0, 2.0, 2.0]
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import dimod
import numpy as np

from hqopt.errors import ModelError

Label = Hashable

ENCODINGS = ("binary", "unary", "one-hot", "domain-wall")

#: integers with a wider range than this are refused for penalty compilation
MAX_INTEGER_RANGE = 1 << 20


def binary_coefficients(span: int) -> list[float]:
    """Coefficients whose 0/1 combinations give exactly ``0..span``.

    >>> binary_coefficients(6)
    [1.0, 2.0, 3.0]
    """
    if span <= 0:
        return []
    n_bits = int(math.floor(math.log2(span))) + 1
    coefficients = [float(1 << k) for k in range(n_bits - 1)]
    coefficients.append(float(span - (1 << (n_bits - 1)) + 1))
    return coefficients


@dataclass
class IntegerEncoding:
    """How each integer variable maps to bits, and how to decode.

    Attributes:
        method: one of :data:`ENCODINGS`.
        bits: integer label -> list of ``(bit label, coefficient)``.
        lower: integer label -> lower bound.
    """

    method: str = "binary"
    bits: dict[Label, list[tuple[Label, float]]] = field(default_factory=dict)
    lower: dict[Label, float] = field(default_factory=dict)

    @classmethod
    def for_variables(cls, bounds: Mapping[Label, tuple[float, float]], method: str = "binary") -> IntegerEncoding:
        if method not in ENCODINGS:
            raise ModelError(f"unknown integer encoding {method!r}; choose one of {', '.join(ENCODINGS)}")
        encoding = cls(method=method)
        for v, (lb, ub) in bounds.items():
            span = ub - lb
            if span > MAX_INTEGER_RANGE or not math.isfinite(span):
                raise ModelError(
                    f"integer variable {v!r} has range [{lb:g}, {ub:g}], too wide to encode in bits; "
                    "give it tighter bounds or use a CQM backend (cpsat)"
                )
            span = int(span)
            if method == "binary":
                coefficients = binary_coefficients(span)
            elif method == "one-hot":
                coefficients = [float(k) for k in range(span + 1)]
            else:  # unary, domain-wall
                coefficients = [1.0] * span
            encoding.bits[v] = [((v, "bit", k), c) for k, c in enumerate(coefficients)]
            encoding.lower[v] = float(lb)
        return encoding

    def expansion(self, v: Label) -> tuple[float, list[tuple[Label, float]]]:
        """``(constant, [(bit, coefficient)])`` such that ``v = constant + sum c * bit``."""
        return self.lower[v], self.bits[v]

    def side_constraints(self) -> list[tuple[str, list[tuple[Label, float]], float]]:
        """One-hot constraints ``(label, terms, rhs)`` this encoding needs."""
        if self.method != "one-hot":
            return []
        return [(f"one-hot:{v}", [(b, 1.0) for b, _ in bits], 1.0) for v, bits in self.bits.items()]

    def side_penalty(self) -> dimod.BinaryQuadraticModel:
        """The unweighted domain-wall order penalty (empty for other encodings)."""
        bqm = dimod.BinaryQuadraticModel(dimod.BINARY)
        if self.method == "domain-wall":
            for bits in self.bits.values():
                for (upper, _), (lower, _) in zip(bits, bits[1:]):
                    bqm.add_linear(lower, 1.0)
                    bqm.add_quadratic(upper, lower, -1.0)
        return bqm


def expand_to_bqm(
    qm: dimod.QuadraticModel | dimod.BinaryQuadraticModel, encoding: IntegerEncoding, scale: float = 1.0
) -> dimod.BinaryQuadraticModel:
    """Rewrite ``scale * qm`` over binary/spin/integer variables as a binary BQM.

    Spins are substituted (``s = 2x - 1``) in place of their label; integers by
    their bits. Real-valued variables are refused. The expansion is done on
    arrays (one pass over the interactions), so a QAP objective with ~10^6
    terms compiles in well under a second.

    >>> qm = dimod.QuadraticModel({"i": 1.0}, {("i", "s"): 2.0}, 0.0, {"i": "INTEGER", "s": "SPIN"})
    >>> qm.set_upper_bound("i", 3)
    >>> bqm = expand_to_bqm(qm, IntegerEncoding.for_variables({"i": (0, 3)}))
    >>> float(bqm.energy({("i", "bit", 0): 1, ("i", "bit", 1): 1, "s": 1})), float(qm.energy({"i": 3, "s": 1}))
    (9.0, 9.0)
    """
    if isinstance(qm, dimod.BinaryQuadraticModel):
        out = qm.change_vartype(dimod.BINARY, inplace=False) if qm.vartype is dimod.SPIN else qm.copy()
        if scale != 1.0:
            out.scale(scale)
        return out

    labels = list(qm.variables)
    index = {v: i for i, v in enumerate(labels)}
    constant = np.zeros(len(labels))
    lengths = np.zeros(len(labels), dtype=np.int64)
    bit_labels: list[Label] = []
    coefficients: list[float] = []
    for i, v in enumerate(labels):
        vartype = qm.vartype(v)
        if vartype is dimod.BINARY:
            terms: list[tuple[Label, float]] = [(v, 1.0)]
        elif vartype is dimod.SPIN:
            constant[i], terms = -1.0, [(v, 2.0)]
        elif vartype is dimod.INTEGER:
            constant[i], terms = encoding.expansion(v)
        else:
            raise ModelError(f"variable {v!r} is {vartype.name}; only binary, spin and integer variables are supported")
        lengths[i] = len(terms)
        bit_labels.extend(b for b, _ in terms)
        coefficients.extend(c for _, c in terms)
    coef = np.asarray(coefficients, dtype=float)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64) if len(labels) else np.zeros(0, np.int64)
    owner = np.repeat(np.arange(len(labels)), lengths)  # the original variable of each bit

    linear = scale * np.array([qm.get_linear(v) for v in labels], dtype=float)
    quadratic = [(index[u], index[v], b) for u, v, b in qm.iter_quadratic()]
    qu = np.fromiter((t[0] for t in quadratic), dtype=np.int64, count=len(quadratic))
    qv = np.fromiter((t[1] for t in quadratic), dtype=np.int64, count=len(quadratic))
    qb = scale * np.fromiter((t[2] for t in quadratic), dtype=float, count=len(quadratic))

    offset = scale * float(qm.offset) + float(linear @ constant) + float(np.sum(qb * constant[qu] * constant[qv]))
    # (c_u + sum a b)(c_v + sum a' b'): the constants times the other side's bits are linear
    weight = linear + np.bincount(qv, qb * constant[qu], len(labels)) + np.bincount(qu, qb * constant[qv], len(labels))
    bit_linear = weight[owner] * coef
    # every pair of bits of the two sides (one pair per term for binaries and spins)
    pairs = lengths[qu] * lengths[qv]
    term = np.repeat(np.arange(len(quadratic)), pairs)
    k = np.arange(int(pairs.sum())) - np.repeat(np.cumsum(pairs) - pairs, pairs)
    eu = starts[qu][term] + k // lengths[qv][term]
    ev = starts[qv][term] + k % lengths[qv][term]
    w = qb[term] * coef[eu] * coef[ev]
    same = eu == ev  # b * b = b for bits (an integer's square)
    bit_linear += np.bincount(eu[same], w[same], len(bit_labels))
    bqm = dimod.BinaryQuadraticModel.from_numpy_vectors(
        bit_linear, (eu[~same], ev[~same], w[~same]), offset, dimod.BINARY, variable_order=bit_labels
    )
    return bqm


@dataclass
class Decoder:
    """Vectorised map from compiled samples back to the original variables.

    Original variable ``i`` is ``offset[i] + sum(coef[e] * compiled[column[e]])``
    over its entries ``e`` (entries are grouped by ``i``, in order); compiled
    variables that carry no original value (slacks) are simply not read.
    """

    labels: list[Label]
    compiled_labels: list[Label]
    coefficients: np.ndarray
    starts: np.ndarray
    offset: np.ndarray

    @classmethod
    def build(
        cls,
        original: Iterable[Label],
        vartypes: Mapping[Label, dimod.Vartype],
        encoding: IntegerEncoding,
    ) -> Decoder:
        labels = list(original)
        compiled: list[Label] = []
        coefficients: list[float] = []
        starts: list[int] = []
        offset = np.zeros(len(labels))
        for i, v in enumerate(labels):
            starts.append(len(compiled))
            vartype = vartypes[v]
            if vartype is dimod.INTEGER:
                offset[i] = encoding.lower[v]
                for bit, c in encoding.bits[v]:
                    compiled.append(bit)
                    coefficients.append(c)
            elif vartype is dimod.SPIN:
                compiled.append(v)
                coefficients.append(2.0)
                offset[i] = -1.0
            else:
                compiled.append(v)
                coefficients.append(1.0)
        return cls(labels, compiled, np.asarray(coefficients), np.asarray(starts, dtype=int), offset)

    def decode(self, sampleset: dimod.SampleSet) -> np.ndarray:
        """Rows of original values, one per sample of ``sampleset``."""
        index = {v: j for j, v in enumerate(sampleset.variables)}
        missing = [b for b in self.compiled_labels if b not in index]
        if missing:
            raise ModelError(f"backend returned samples without variable {missing[0]!r}")
        columns = [index[b] for b in self.compiled_labels]
        values = np.asarray(sampleset.record.sample, dtype=float)[:, columns]
        if not self.labels:
            return np.zeros((len(values), 0))
        weighted = values * self.coefficients
        return np.rint(np.add.reduceat(weighted, self.starts, axis=1) + self.offset)
