"""CQM -> BQM with one penalty weight per constraint, and the tuning rule.

Each linear constraint becomes a squared penalty ``w_c * (lhs - rhs + slack)^2``;
inequalities get a slack variable encoded in bits over exactly the range the
left-hand side can take. Weights start from a bound per constraint:

    w_c = 1.5 * max_v m_v / a_max^2

where ``m_v = |a_v| + sum_u |q_uv|`` (over the objective) is the most the
objective can change when one variable ``v`` of the constraint flips, and
``a_max`` is the constraint's largest coefficient: a flip that moves the
left-hand side by a full step of the largest coefficient costs more than any
single flip can gain. (One-hot constraints, all coefficients 1, get
``1.5 * max_v m_v``.) Normalising by ``a_max^2`` keeps constraints with large
coefficients (capacities in cores or GB) from dwarfing the others, which
otherwise traps annealers in states with unassigned items; dimod's single
``10 * max|bias|`` default ignores both how many terms a variable touches and
the scale of each constraint. Violations smaller than a full step are left to
tuning: when the lowest-energy samples still violate constraints,
:meth:`PenaltyModel.raise_weights` multiplies the weights of the violated ones
and ``solve`` runs again; every answer is verified on the original model.

Example:
    >>> import dimod
    >>> from hqopt import Model
    >>> m = Model()
    >>> x, y = m.binary("x"), m.binary("y")
    >>> m.set_objective(-x - y)
    >>> m.add_constraint(x + y <= 1, label="atmost1")
    'atmost1'
    >>> pm = PenaltyModel.from_model(m)
    >>> pm.weights
    {'atmost1': 1.5}
    >>> bqm = pm.bqm()
    >>> float(bqm.energy({"x": 1, "y": 1, ("slack", "atmost1", 0): 0}))
    -0.5
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

import dimod
import numpy as np

from hqopt.compile.encode import Decoder, IntegerEncoding, binary_coefficients, expand_to_bqm
from hqopt.errors import ModelError
from hqopt.model import Model

Label = Hashable

#: starting weights are this factor above the single-flip gain bound (strictly above it)
PENALTY_MARGIN = 1.5

#: tolerance for treating a coefficient as an integer
_INTEGRAL_TOL = 1e-9


@dataclass
class PenaltyTerm:
    """``(sum terms + constant)^2`` for one constraint, slack included.

    ``variables`` are the constraint's own (non-slack) variables and
    ``step`` its largest coefficient in absolute value.
    """

    label: str
    terms: list[tuple[Label, float]]
    constant: float
    step: float
    variables: list[Label]


@dataclass
class PenaltyModel:
    """A model compiled to a BQM with tunable per-constraint penalty weights.

    Attributes:
        objective: the minimisation objective over bits (no penalties).
        penalties: one :class:`PenaltyTerm` per constraint.
        weights: constraint label -> current weight.
        decoder: maps compiled samples back to the original variables.
        encoding: how integer variables were encoded in bits.
        side_penalty: encoding penalties (domain wall), weighted by ``side_weight``.
    """

    objective: dimod.BinaryQuadraticModel
    penalties: dict[str, PenaltyTerm]
    weights: dict[str, float]
    decoder: Decoder
    encoding: IntegerEncoding
    side_penalty: dimod.BinaryQuadraticModel = field(default_factory=lambda: dimod.BQM(dimod.BINARY))
    side_weight: float = 1.0
    skipped: list[str] = field(default_factory=list)

    @classmethod
    def from_model(
        cls,
        model: Model,
        *,
        encoding: str = "binary",
        weights: float | Mapping[str, float] | None = None,
    ) -> PenaltyModel:
        """Compile ``model`` (any sense) to a minimisation BQM with penalties.

        ``weights`` overrides the starting weights: one number for all
        constraints, or a mapping for some of them.
        """
        cqm = model.cqm
        vartypes = {v: cqm.vartype(v) for v in cqm.variables}
        for v, vt in vartypes.items():
            if vt is dimod.REAL:
                raise ModelError(f"variable {v!r} is real-valued; BQM backends need binary, spin or integer variables")
        int_bounds = {v: (cqm.lower_bound(v), cqm.upper_bound(v)) for v, vt in vartypes.items() if vt is dimod.INTEGER}
        enc = IntegerEncoding.for_variables(int_bounds, encoding)

        objective = expand_to_bqm(cqm.objective, enc, scale=model.sense.sign)
        for v in cqm.variables:  # variables only in constraints still belong to the BQM
            for bit in ([b for b, _ in enc.bits[v]] if vartypes[v] is dimod.INTEGER else [v]):
                objective.add_variable(bit)

        penalties: dict[str, PenaltyTerm] = {}
        skipped: list[str] = []
        for label, constraint in cqm.constraints.items():
            lhs = expand_to_bqm(constraint.lhs, enc)
            if not lhs.is_linear():
                raise ModelError(
                    f"constraint {label!r} is quadratic; penalty compilation takes linear constraints only "
                    "-- use a CQM backend (cpsat or exact)"
                )
            term = _penalty_term(str(label), lhs, constraint.sense, float(constraint.rhs))
            if term is None:
                skipped.append(str(label))
            else:
                penalties[str(label)] = term
        for label, terms, rhs in enc.side_constraints():
            penalties[label] = PenaltyTerm(label, terms, -rhs, 1.0, [b for b, _ in terms])

        marginal = _marginal_gains(objective)
        start = {label: _initial_weight(term, marginal) for label, term in penalties.items()}
        if isinstance(weights, Mapping):
            unknown = sorted(set(weights) - set(start))
            if unknown:
                raise ModelError(f"penalty weight given for unknown constraint {unknown[0]!r}")
            start.update({k: float(w) for k, w in weights.items()})
        elif weights is not None:
            start = {k: float(weights) for k in start}
        for label, w in start.items():
            if not (w > 0 and math.isfinite(w)):
                raise ModelError(f"penalty weight of {label!r} must be a positive number, got {w!r}")

        side = enc.side_penalty()
        side_weight = max(marginal.values(), default=1.0) or 1.0
        decoder = Decoder.build(cqm.variables, vartypes, enc)
        return cls(objective, penalties, start, decoder, enc, side, side_weight, skipped)

    def bqm(self) -> dimod.BinaryQuadraticModel:
        """The BQM at the current weights."""
        bqm = self.objective.copy()
        for label, term in self.penalties.items():
            bqm.add_linear_equality_constraint(term.terms, lagrange_multiplier=self.weights[label], constant=term.constant)
        if self.side_penalty.num_variables:
            bqm.update(self.side_penalty * self.side_weight)
        return bqm

    def raise_weights(self, violated: set[str], factor: float = 2.0) -> None:
        """Multiply the weights of ``violated`` constraints by ``factor``."""
        for label in violated:
            if label in self.weights:
                self.weights[label] *= factor

    @property
    def num_slack_variables(self) -> int:
        return sum(len(t.terms) - len(t.variables) for t in self.penalties.values())


def _penalty_term(
    label: str, lhs: dimod.BinaryQuadraticModel, sense: dimod.sym.Sense, rhs: float
) -> PenaltyTerm | None:
    """Squared penalty of ``lhs (sense) rhs``; ``None`` if it always holds."""
    terms = [(v, float(b)) for v, b in lhs.linear.items() if b != 0]
    constant = float(lhs.offset) - rhs
    if sense is dimod.sym.Sense.Ge:
        terms = [(v, -b) for v, b in terms]
        constant = -constant
    variables = [v for v, _ in terms]
    integral = all(_is_integral(b) for _, b in terms) and _is_integral(constant)
    step = max((abs(b) for _, b in terms), default=1.0)
    if sense is dimod.sym.Sense.Eq:
        return PenaltyTerm(label, terms, constant, step, variables)
    # sum terms + constant <= 0: add a slack s in [0, -(lowest lhs)]
    lowest = constant + sum(min(b, 0.0) for _, b in terms)
    highest = constant + sum(max(b, 0.0) for _, b in terms)
    if highest <= 0:
        return None
    span = -lowest
    if span <= 0:  # cannot be satisfied; keep the penalty so the violation is minimised
        return PenaltyTerm(label, terms, constant, step, variables)
    # integral constraints get an exact unit slack; others one as fine as their smallest coefficient
    resolution = 1.0 if integral else min(abs(b) for _, b in terms)
    units = int(math.floor(span / resolution + 1e-9)) if integral else int(math.ceil(span / resolution))
    slack = [(("slack", label, k), c * resolution) for k, c in enumerate(binary_coefficients(units))]
    return PenaltyTerm(label, terms + slack, constant, step, variables)


def _is_integral(x: float) -> bool:
    return abs(x - round(x)) <= _INTEGRAL_TOL * max(1.0, abs(x))


def _marginal_gains(bqm: dimod.BinaryQuadraticModel) -> dict[Label, float]:
    """``|a_v| + sum_u |q_uv|`` for every variable (vectorised)."""
    ldata, (irow, icol, qdata), _ = bqm.to_numpy_vectors()
    gains = np.abs(ldata).astype(float)
    np.add.at(gains, irow, np.abs(qdata))
    np.add.at(gains, icol, np.abs(qdata))
    return dict(zip(bqm.variables, gains.tolist()))


def _initial_weight(term: PenaltyTerm, marginal: Mapping[Label, float]) -> float:
    gain = max((marginal.get(v, 0.0) for v in term.variables), default=0.0)
    if gain <= 0:
        return 1.0
    return PENALTY_MARGIN * gain / term.step**2
