"""The problem every hqopt backend solves: a dimod CQM with a sense and a name.

A :class:`Model` wraps a :class:`dimod.ConstrainedQuadraticModel` whose
objective is written in the problem's *own* sense: a maximisation keeps its
objective as is and sets ``sense="max"``. Compilation turns it into the
minimisation form a backend needs; results come back in the problem's sense.

Example:
    >>> import dimod
    >>> from hqopt import Model
    >>> m = Model(name="pick-two", sense="max")
    >>> x = [m.binary(f"x{i}") for i in range(3)]
    >>> m.set_objective(3 * x[0] + 2 * x[1] + x[2])
    >>> m.add_constraint(x[0] + x[1] + x[2] == 2, label="two")
    'two'
    >>> m.evaluate({"x0": 1, "x1": 1, "x2": 0}).objective
    5.0
"""

from __future__ import annotations

import copy
import enum
import os
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import dimod
import numpy as np

from hqopt.errors import ModelError
from hqopt.samples import ConstraintRows, constraint_rows, variable_arrays
from hqopt.verify import Verdicts, Verifier

Label = Hashable
Sample = Mapping[Label, float]


class Sense(str, enum.Enum):
    """Direction of optimisation."""

    MIN = "min"
    MAX = "max"

    @classmethod
    def parse(cls, value: str | Sense) -> Sense:
        """Accept ``min``/``minimize``/``minimise`` and the ``max`` spellings.

        >>> Sense.parse("maximise")
        <Sense.MAX: 'max'>
        """
        if isinstance(value, Sense):
            return value
        text = str(value).strip().lower()
        if text in {"min", "minimize", "minimise", "minimum"}:
            return cls.MIN
        if text in {"max", "maximize", "maximise", "maximum"}:
            return cls.MAX
        raise ModelError(f"sense must be 'min' or 'max', got {value!r}")

    @property
    def sign(self) -> int:
        """+1 for minimisation, -1 for maximisation (objective -> minimisation form)."""
        return 1 if self is Sense.MIN else -1


@dataclass(frozen=True)
class Evaluation:
    """The verdict of a sample on the original model."""

    objective: float
    feasible: bool
    violations: dict[str, float] = field(default_factory=dict)

    @property
    def total_violation(self) -> float:
        return float(sum(self.violations.values()))


class Model:
    """A constrained quadratic model with a sense, a name and an optional decoder.

    Args:
        cqm: the model; a fresh empty one when omitted (build it with
            :meth:`binary`, :meth:`integer`, :meth:`set_objective`,
            :meth:`add_constraint`).
        sense: ``"min"`` or ``"max"``; the objective in ``cqm`` is in this sense.
        name: a short name used in reports.
        decoder: turns a solution (labels -> values) into domain terms, e.g. an
            assignment table. Its return value should be JSON-friendly.
        metadata: free-form facts about the source (file, instance, ...).
    """

    def __init__(
        self,
        cqm: dimod.ConstrainedQuadraticModel | None = None,
        *,
        sense: str | Sense = Sense.MIN,
        name: str = "model",
        decoder: Callable[[dict[Label, float]], Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.cqm = cqm if cqm is not None else dimod.ConstrainedQuadraticModel()
        if not isinstance(self.cqm, dimod.ConstrainedQuadraticModel):
            raise ModelError(f"cqm must be a dimod ConstrainedQuadraticModel, got {type(cqm).__name__}")
        self.sense = Sense.parse(sense)
        self.name = name
        self.decoder = decoder
        self.metadata: dict[str, Any] = dict(metadata or {})

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_cqm(cls, cqm: dimod.ConstrainedQuadraticModel, **kwargs: Any) -> Model:
        """Wrap an existing CQM (not copied)."""
        return cls(cqm, **kwargs)

    @classmethod
    def from_bqm(cls, bqm: dimod.BinaryQuadraticModel, **kwargs: Any) -> Model:
        """An unconstrained model from a BQM (binary or spin)."""
        if not isinstance(bqm, dimod.BinaryQuadraticModel):
            raise ModelError(f"expected a dimod BinaryQuadraticModel, got {type(bqm).__name__}")
        return cls(dimod.ConstrainedQuadraticModel.from_bqm(bqm), **kwargs)

    @classmethod
    def from_qubo(
        cls,
        Q: Mapping[tuple[Label, Label], float] | np.ndarray,
        offset: float = 0.0,
        **kwargs: Any,
    ) -> Model:
        """A model from a QUBO dict ``{(u, v): bias}`` or a square NumPy matrix.

        A matrix ``Q`` means the objective ``x' Q x`` over variables ``0..n-1``
        (both triangles count, as in ``x' Q x``).

        >>> Model.from_qubo({(0, 0): -1, (0, 1): 2}).evaluate({0: 1, 1: 0}).objective
        -1.0
        """
        if isinstance(Q, np.ndarray):
            if Q.ndim != 2 or Q.shape[0] != Q.shape[1]:
                raise ModelError(f"a QUBO matrix must be square, got shape {Q.shape}")
            bqm = dimod.BinaryQuadraticModel(np.asarray(Q, dtype=float), "BINARY", offset=offset)
        else:
            bqm = dimod.BinaryQuadraticModel.from_qubo(dict(Q), offset=offset)
        return cls.from_bqm(bqm, **kwargs)

    @classmethod
    def from_ising(
        cls, h: Mapping[Label, float], J: Mapping[tuple[Label, Label], float], offset: float = 0.0, **kwargs: Any
    ) -> Model:
        """A model over spin variables from Ising ``h`` and ``J``."""
        return cls.from_bqm(dimod.BinaryQuadraticModel.from_ising(dict(h), dict(J), offset), **kwargs)

    def to_model(self) -> Model:
        """A Model is its own model (the protocol every formulation follows)."""
        return self

    # ------------------------------------------------------------ expression API
    @staticmethod
    def binary(label: Label) -> dimod.BinaryQuadraticModel:
        """A binary variable symbol (dimod's ``Binary``); used once added to an expression."""
        return dimod.Binary(label)

    @staticmethod
    def spin(label: Label) -> dimod.BinaryQuadraticModel:
        """A spin (+1/-1) variable symbol."""
        return dimod.Spin(label)

    @staticmethod
    def integer(label: Label, lower: int = 0, upper: int = 1) -> dimod.QuadraticModel:
        """A bounded integer variable symbol in ``[lower, upper]``."""
        if upper < lower:
            raise ModelError(f"integer {label!r}: upper bound {upper} is below lower bound {lower}")
        return dimod.Integer(label, lower_bound=lower, upper_bound=upper)

    def set_objective(self, expression: dimod.BinaryQuadraticModel | dimod.QuadraticModel) -> None:
        """Set the objective (in the model's sense)."""
        self.cqm.set_objective(expression)

    def add_constraint(self, comparison: Any, label: str | None = None) -> str:
        """Add a hard constraint ``expr <= rhs``, ``expr >= rhs`` or ``expr == rhs``; returns its label."""
        return cast(str, self.cqm.add_constraint_from_comparison(comparison, label=label))

    # ------------------------------------------------------------------ queries
    @property
    def variables(self) -> list[Label]:
        return list(self.cqm.variables)

    @property
    def num_variables(self) -> int:
        return len(self.cqm.variables)

    @property
    def num_constraints(self) -> int:
        return len(self.cqm.constraints)

    @property
    def is_constrained(self) -> bool:
        return bool(self.cqm.constraints)

    def variable_counts(self) -> dict[str, int]:
        """Number of variables of each type, e.g. ``{'BINARY': 10, 'INTEGER': 2}``."""
        vartypes = variable_arrays(self.cqm)[0]
        counts: dict[str, int] = {}
        for vartype in dict.fromkeys(vartypes.tolist()):  # in order of first appearance
            counts[vartype.name] = int(np.count_nonzero(vartypes == vartype))
        return counts

    def has_vartype(self, vartype: dimod.Vartype) -> bool:
        return bool(np.any(variable_arrays(self.cqm)[0] == vartype))

    # ------------------------------------------------------------- verification
    def objective_value(self, sample: Sample) -> float:
        """The objective of ``sample`` in the model's own sense."""
        if not self.cqm.variables:  # dimod drops the offset of an empty sample
            return float(self.cqm.objective.offset)
        return float(self.cqm.objective.energy(sample))

    def violations(self, sample: Sample) -> dict[str, float]:
        """Violation of every hard constraint (0.0 where satisfied).

        For ``<=`` it is ``max(0, lhs - rhs)``, for ``>=`` ``max(0, rhs - lhs)``
        and for ``==`` ``|lhs - rhs|``.
        """
        verdicts = self._verify(sample)
        return dict(zip(verdicts.constraint_labels, verdicts.violations[0].tolist()))

    def evaluate(self, sample: Sample) -> Evaluation:
        """Recompute objective and feasibility of ``sample`` on this model.

        Feasibility follows the one rule of :mod:`hqopt.verify`; a value out of
        its variable's domain shows as a ``domain:<label>`` violation of 1.
        """
        verdicts = self._verify(sample)
        violations = dict(zip(verdicts.constraint_labels, verdicts.violations[0].tolist()))
        violations.update({f"domain:{v}": 1.0 for v in verdicts.out_of_domain[0]})
        return Evaluation(float(verdicts.objectives[0]), bool(verdicts.feasible[0]), violations)

    def validate(self) -> Model:
        """``self`` if every coefficient is finite and every integer's bounds are sound.

        NaN or infinite biases, offsets or right-hand sides, and integer bounds
        with ``lower > upper`` (or not finite), are a :class:`ModelError`
        naming the place: no backend can give a meaningful answer for them.
        :func:`hqopt.solve` and :func:`hqopt.io.load` call it. It builds the
        constraints' arrays afresh (:func:`hqopt.samples.constraint_rows`): the
        solve's verifier, ``auto``'s rules and the ``ls`` engine then read them.

        >>> import dimod
        >>> Model.from_bqm(dimod.BQM({"a": float("nan")}, {}, 0, "BINARY")).validate()
        Traceback (most recent call last):
        ...
        hqopt.errors.ModelError: the objective has a non-finite coefficient: linear bias of 'a' is nan
        """
        cqm = self.cqm
        bad = _first_non_finite(cqm.objective)
        if bad is not None:
            raise ModelError(f"the objective has a non-finite coefficient: {bad}")
        rows = constraint_rows(cqm)  # built afresh, even with no constraints: hqopt.solve's verifier and engine read them
        if cqm.constraints and not _constraints_finite(cqm, rows):  # find and name the first non-finite number
            for label, con in cqm.constraints.items():
                bad = _first_non_finite(con.lhs)
                if bad is not None:
                    raise ModelError(f"constraint {label!r} has a non-finite coefficient: {bad}")
                if not np.isfinite(con.rhs):
                    raise ModelError(f"constraint {label!r} has a non-finite right-hand side ({con.rhs})")
        vartypes, lowers, uppers = variable_arrays(cqm)
        unsound = (vartypes == dimod.INTEGER) & ~(np.isfinite(lowers) & np.isfinite(uppers) & (lowers <= uppers))
        if unsound.any():  # name the first
            j = int(np.flatnonzero(unsound)[0])
            v, lower, upper = cqm.variables[j], lowers[j], uppers[j]
            if not (np.isfinite(lower) and np.isfinite(upper)):
                raise ModelError(f"integer {v!r} has a non-finite bound ({lower:g} <= {v} <= {upper:g})")
            raise ModelError(f"integer {v!r} has inverted bounds: lower {lower:g} > upper {upper:g}")
        return self

    def decode(self, solution: dict[Label, float]) -> Any:
        """The solution in domain terms (the decoder's output), or ``None``."""
        return self.decoder(solution) if self.decoder is not None else None

    def minimization_objective(self) -> dimod.QuadraticModel:
        """A copy of the objective as a minimisation (negated for ``max`` models)."""
        qm = dimod.QuadraticModel()
        qm.update(self.cqm.objective)
        if self.sense is Sense.MAX:
            qm.scale(-1)
        return qm

    def minimization_cqm(self) -> dimod.ConstrainedQuadraticModel:
        """A copy of the CQM whose objective is to be minimised."""
        cqm = copy.deepcopy(self.cqm)
        if self.sense is Sense.MAX:
            cqm.set_objective(self.minimization_objective())
        return cqm

    def __repr__(self) -> str:
        counts = ", ".join(f"{n} {k.lower()}" for k, n in self.variable_counts().items()) or "no variables"
        return f"Model({self.name!r}, sense={self.sense.value}, {counts}, {self.num_constraints} constraints)"

    # ----------------------------------------------------------------- helpers
    def _verify(self, sample: Sample) -> Verdicts:
        missing = [v for v in self.cqm.variables if v not in sample]
        if missing:
            raise ModelError(f"sample lacks {len(missing)} variable(s), e.g. {missing[0]!r}")
        verifier = Verifier(self)
        return verifier(np.array([[float(sample[v]) for v in verifier.labels]]))


def _constraints_finite(cqm: dimod.ConstrainedQuadraticModel, rows: ConstraintRows) -> bool:
    """Whether every coefficient, offset and right-hand side of ``cqm``'s constraints (``rows``: their
    arrays, as the solve's verifier reads them) is finite."""
    if not (np.isfinite(rows.matrix.data).all() and np.isfinite(rows.offset).all() and np.isfinite(rows.rhs).all()):
        return False
    return all(_first_non_finite(cqm.constraints[rows.labels[j]].lhs) is None for j in rows.quadratic)


def _first_non_finite(qm: dimod.QuadraticModel | dimod.BinaryQuadraticModel) -> str | None:
    """Where ``qm`` has a NaN or infinite bias or offset (a short description), or ``None``."""
    if not np.isfinite(qm.offset):
        return f"the offset is {qm.offset}"
    if not qm.num_variables or np.isfinite(qm.energies((np.ones((1, qm.num_variables)), qm.variables))).all():
        return None  # fast path: a NaN or inf bias makes the all-ones energy non-finite
    linear = np.fromiter(qm.linear.values(), dtype=float, count=qm.num_variables)
    if not np.isfinite(linear).all():
        v = list(qm.linear)[int(np.flatnonzero(~np.isfinite(linear))[0])]
        return f"linear bias of {v!r} is {qm.linear[v]}"
    quadratic = np.fromiter(qm.quadratic.values(), dtype=float, count=qm.num_interactions)
    if not np.isfinite(quadratic).all():
        u, v = list(qm.quadratic)[int(np.flatnonzero(~np.isfinite(quadratic))[0])]
        return f"quadratic bias of ({u!r}, {v!r}) is {qm.quadratic[u, v]}"
    return None


def as_model(problem: Any) -> Model:
    """Turn a Model, dimod BQM/CQM, or anything with ``to_model()`` into a Model, checked
    with :meth:`Model.validate`.

    >>> import dimod
    >>> as_model(dimod.BQM({"a": -1}, {}, 0, "BINARY")).num_variables
    1
    """
    return _as_model(problem).validate()


def _as_model(problem: Any) -> Model:
    if isinstance(problem, Model):
        return problem
    if isinstance(problem, dimod.BinaryQuadraticModel):
        return Model.from_bqm(problem)
    if isinstance(problem, dimod.ConstrainedQuadraticModel):
        return Model.from_cqm(problem)
    if isinstance(problem, dimod.QuadraticModel):
        cqm = dimod.ConstrainedQuadraticModel()
        cqm.set_objective(problem)
        return Model.from_cqm(cqm)
    to_model = getattr(problem, "to_model", None)
    if callable(to_model):
        model = to_model()
        if not isinstance(model, Model):
            raise ModelError(f"{type(problem).__name__}.to_model() returned {type(model).__name__}, not a Model")
        return model
    hint = f" (a file? hqopt.io.load({str(problem)!r}) reads it)" if isinstance(problem, (str, os.PathLike)) else ""
    raise ModelError(
        f"cannot solve a {type(problem).__name__}{hint}: pass an hqopt.Model, a dimod BQM/CQM, "
        "or an object with a to_model() method"
    )
