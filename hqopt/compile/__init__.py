"""Turn a Model into what a backend accepts, and samples back into the Model's terms.

One interface, :class:`Compiled`, with one implementation per kind of backend:

* :class:`CompiledCQM` for CQM backends (cpsat, exact, ls, mip, ...): the
  minimisation CQM, spins made binary, constraints kept as constraints;
* :class:`CompiledBQM` for BQM backends (annealers, QPU, QAOA): integers
  encoded in bits, constraints as weighted penalties
  (:class:`~hqopt.compile.penalty.PenaltyModel`).

Both offer ``problem()`` (what to hand the backend), ``decode(sampleset)``
(compiled samples -> rows of original values), ``encode(solution)`` (an
original assignment -> the compiled variables: warm starts, incumbent
exchange in a race) and ``tune(violated, growth)`` (raise the penalty weights
of the constraints the best samples break).

Example:
    >>> from hqopt import Model
    >>> m = Model()
    >>> n = m.integer("n", 0, 5)
    >>> m.set_objective(-1 * n)
    >>> m.add_constraint(n <= 4, label="cap")
    'cap'
    >>> compiled = compile_for(m, accepts="bqm")
    >>> sorted(compiled.encode({"n": 3}).items(), key=str)
    [(('n', 'bit', 0), 1), (('n', 'bit', 1), 1), (('n', 'bit', 2), 0), (('slack', 'cap', 0), 1), (('slack', 'cap', 1), 0), (('slack', 'cap', 2), 0)]
"""

from __future__ import annotations

import abc
from collections.abc import Hashable, Mapping
from typing import Any

import dimod
import numpy as np

from hqopt.compile.encode import Decoder, IntegerEncoding
from hqopt.compile.penalty import PenaltyModel
from hqopt.errors import ModelError
from hqopt.model import Model, Sense

__all__ = ["Compiled", "CompiledBQM", "CompiledCQM", "IntegerEncoding", "PenaltyModel", "compile_for"]

Label = Hashable


class Compiled(abc.ABC):
    """A compiled problem plus the ways between it and the original variables."""

    accepts: str
    decoder: Decoder

    @abc.abstractmethod
    def problem(self) -> dimod.BinaryQuadraticModel | dimod.ConstrainedQuadraticModel:
        """The problem to hand to the backend (minimisation form)."""

    @abc.abstractmethod
    def encode(self, solution: Mapping[Label, float]) -> dict[Label, int | float]:
        """An assignment of the original variables over the compiled problem's variables.

        Values missing from ``solution`` are left out (a partial hint); labels
        the model doesn't have raise :class:`~hqopt.errors.ModelError`.
        """

    def decode(self, sampleset: dimod.SampleSet) -> np.ndarray:
        """Original-variable rows (in ``self.decoder.labels`` order)."""
        return self.decoder.decode(sampleset)

    def tune(self, violated: set[str], growth: float) -> bool:
        """Raise the penalties of ``violated`` constraints; True if anything changed."""
        return False

    @property
    def tunable(self) -> bool:
        """Whether :meth:`tune` can change the problem (penalty weights exist)."""
        return False

    @property
    def weights(self) -> dict[str, float]:
        return {}

    def _check_labels(self, solution: Mapping[Label, float]) -> None:
        known = set(self.decoder.labels)
        unknown = [v for v in solution if v not in known]
        if unknown:
            raise ModelError(f"initial assignment names variable {unknown[0]!r}, which the model does not have")


class CompiledCQM(Compiled):
    """The minimisation CQM (spins as binaries, integers native)."""

    accepts = "cqm"

    def __init__(self, model: Model) -> None:
        self._vartypes = {v: model.cqm.vartype(v) for v in model.cqm.variables}
        spins = any(vt is dimod.SPIN for vt in self._vartypes.values())
        if model.sense is Sense.MIN and not spins:
            self.cqm = model.cqm  # already the problem: backends only read it (no copy of a large model)
        else:
            self.cqm = model.minimization_cqm()
            if spins:
                self.cqm.spin_to_binary(inplace=True)
        identity = IntegerEncoding(
            bits={v: [(v, 1.0)] for v, vt in self._vartypes.items() if vt is dimod.INTEGER},
            lower={v: 0.0 for v, vt in self._vartypes.items() if vt is dimod.INTEGER},
        )
        self.decoder = Decoder.build(model.cqm.variables, self._vartypes, identity)

    def problem(self) -> dimod.ConstrainedQuadraticModel:
        return self.cqm

    def encode(self, solution: Mapping[Label, float]) -> dict[Label, int | float]:
        self._check_labels(solution)
        out: dict[Label, int | float] = {}
        for v, value in solution.items():
            vartype = self._vartypes[v]
            out[v] = int((value + 1) // 2) if vartype is dimod.SPIN else _number(value)
        return out


class CompiledBQM(Compiled):
    """A penalty BQM whose per-constraint weights ``tune`` raises."""

    accepts = "bqm"

    def __init__(self, model: Model, *, encoding: str = "binary", weights: float | Mapping[str, float] | None = None) -> None:
        self.penalty = PenaltyModel.from_model(model, encoding=encoding, weights=weights)
        self.decoder = self.penalty.decoder
        self._vartypes = {v: model.cqm.vartype(v) for v in model.cqm.variables}

    def problem(self) -> dimod.BinaryQuadraticModel:
        return self.penalty.bqm()

    @property
    def tunable(self) -> bool:
        return bool(self.penalty.penalties)

    def tune(self, violated: set[str], growth: float) -> bool:
        known = violated & set(self.penalty.weights)
        self.penalty.raise_weights(known, growth)
        return bool(known)

    @property
    def weights(self) -> dict[str, float]:
        return dict(self.penalty.weights)

    def encode(self, solution: Mapping[Label, float]) -> dict[Label, int | float]:
        self._check_labels(solution)
        encoding = self.penalty.encoding
        bits: dict[Label, int | float] = {}
        for v, value in solution.items():
            vartype = self._vartypes[v]
            if vartype is dimod.SPIN:
                bits[v] = int((value + 1) // 2)
            elif vartype is dimod.INTEGER:
                bits.update(_integer_bits(encoding, v, value))
            else:
                bits[v] = int(value)
        for term in self.penalty.penalties.values():  # slacks take the value the constraint leaves
            own = set(term.variables)
            slack = [(b, c) for b, c in term.terms if b not in own]
            if not slack or not all(b in bits for b in term.variables):
                continue
            lhs = term.constant + sum(c * bits[b] for b, c in term.terms if b in own)
            bits.update(_decompose(-lhs, slack))
        return bits


def compile_for(
    model: Model,
    *,
    accepts: str,
    encoding: str = "binary",
    weights: float | Mapping[str, float] | None = None,
) -> Compiled:
    """Compile ``model`` for a backend that accepts ``"cqm"`` or ``"bqm"``."""
    if accepts == "cqm":
        return CompiledCQM(model)
    return CompiledBQM(model, encoding=encoding, weights=weights)


def _number(value: Any) -> int | float:
    value = float(value)
    return int(value) if value.is_integer() else value


def _integer_bits(encoding: IntegerEncoding, v: Label, value: float) -> dict[Label, int]:
    """The bits that give integer ``v`` the value ``value`` in ``encoding``."""
    lower, terms = encoding.expansion(v)
    offset = round(value - lower)
    if offset < 0 or offset > sum(c for _, c in terms):
        raise ModelError(f"initial value {value!r} of {v!r} is outside its bounds")
    labels = [b for b, _ in terms]
    if encoding.method == "one-hot":
        return {b: int(k == offset) for k, b in enumerate(labels)}
    if encoding.method in ("unary", "domain-wall"):
        return {b: int(k < offset) for k, b in enumerate(labels)}
    return _decompose(offset, terms)


def _decompose(amount: float, terms: list[tuple[Label, float]]) -> dict[Label, int]:
    """Bits whose coefficients sum to ``amount`` (largest first; the rest 0).

    The binary encodings (powers of two with a cut last coefficient) are
    exact this way; an amount that can't be reached gets the closest below.
    """
    out = {b: 0 for b, _ in terms}
    remaining = amount
    for b, c in sorted(terms, key=lambda t: -t[1]):
        if c <= remaining + 1e-9:
            out[b] = 1
            remaining -= c
    return out
