"""``auto``: a selection policy over the model's facts and the backends' Capabilities.

:class:`ModelFacts` measures the model once (size, assignments, constraints,
linearity, integer widths, and, when the engine is installed, its structure:
one-hot groups, permutations, capacity rows). :func:`choose` walks an ordered
list of rules; the first that applies names the backends to run (one, or
several to race under one budget, see :mod:`hqopt.race`) and why. The
candidates are then filtered by their :class:`~hqopt.backends.base.Capabilities`
and availability: ``auto`` never picks a quantum backend or one that needs
credentials, never a penalty (BQM) backend for integers too wide to encode or
when the penalty QUBO would exceed :data:`PENALTY_MAX_TERMS` interactions (long
capacity rows square up), and never one whose ``max_variables`` the model
exceeds. The choice and its reason
are recorded in ``Result.backend`` and ``Result.backend_reason``.

The rules, in order:

1. at most :data:`EXACT_ASSIGNMENTS` assignments -> ``exact`` (proves optimality);
2. quadratic constraints -> ``cpsat`` (it keeps them exact);
3. a linear model with constraints -> ``mip`` raced with ``cpsat``
   (HiGHS proves facility-location optima in seconds; CP-SAT is the fallback);
4. unconstrained binary/spin -> ``ls`` (the compiled local-search engine;
   ``tabu`` densifies the problem, so it is never picked); while the engine's
   kernels are not yet compiled (the first run after installing), ``sa`` runs
   beside it;
5. a permutation (QAP, assignment) larger than :data:`PROVABLE_PERMUTATION` ->
   ``ls`` alone (robust tabu; CP-SAT would only take its cores);
6. constrained, up to :data:`CPSAT_RACE_MAX_TERMS` variables + quadratic
   terms -> ``ls`` raced with ``cpsat`` (``ls`` finds good answers fast on the
   exact structure; CP-SAT proves bounds and sometimes optimality, and stops
   the race);
7. constrained, up to :data:`LOCAL_SEARCH_MAX_TERMS` -> ``ls`` alone on all
   cores (measured on generated placements: at this size CP-SAT's
   linearisation finds neither a better answer nor a useful bound in a
   working budget, and would take half the cores); while the engine's
   kernels are not yet compiled, raced with ``cpsat`` as in rule 6;
8. constrained and larger -> ``lns`` (large-neighbourhood search over ``ls``
   with CP-SAT repairing small sub-problems).

Where a preferred backend is not installed the rule falls back to the next
name in its list (``sa`` for ``ls``, ...).

Example:
    >>> from hqopt import Model
    >>> backends, why = AutoBackend().select(Model.from_qubo({(i, i + 1): -1 for i in range(40)}), None)
    >>> [b.name for b in backends], why.split(":")[0]
    (['ls'], 'unconstrained binary model')
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dimod
import numpy as np

from hqopt.backends.base import Backend, BackendOutput, Capabilities
from hqopt.backends.exact import assignment_count
from hqopt.backends.registry import available_backends, backend_class
from hqopt.budget import Budget
from hqopt.compile.encode import MAX_INTEGER_RANGE
from hqopt.model import Model
from hqopt.samples import ConstraintRows, cached_constraint_rows, constraint_arrays, variable_arrays

#: models with at most this many assignments are enumerated
EXACT_ASSIGNMENTS = 2**16
#: constrained models up to this many variables + quadratic terms get CP-SAT in the race
#: (generated placements: CP-SAT bounds 100 x 10, 22 780 terms, in 8 s; nothing at 150 x 15, 84 948)
CPSAT_RACE_MAX_TERMS = 50_000
#: constrained models above this many variables + quadratic terms go to ``lns``
LOCAL_SEARCH_MAX_TERMS = 1_000_000
#: permutations (QAP, assignment) up to this size are raced with CP-SAT, which may prove them
PROVABLE_PERMUTATION = 12
#: penalty QUBOs above this many interactions (estimated before building) are not annealed
PENALTY_MAX_TERMS = 5_000_000


@dataclass(frozen=True)
class ModelFacts:
    """What the policy knows about a model (computed once)."""

    variables: int
    terms: int
    assignments: int | None
    constrained: bool
    linear: bool
    quadratic_constraints: bool
    widest_integer: float
    penalty_terms: int
    structure: dict[str, Any] = field(default_factory=dict)
    jit_ready: bool = True

    @classmethod
    def of(cls, model: Model) -> ModelFacts:
        cqm = model.cqm
        vartypes, lowers, uppers = variable_arrays(cqm)
        has_real = bool(np.any(vartypes == dimod.REAL))
        integer = vartypes == dimod.INTEGER
        widths = (uppers - lowers)[integer]
        rows = cached_constraint_rows(cqm)  # as the solve's validation built them
        quadratic_constraints = bool(rows.quadratic)  # the rows whose left-hand side has products
        return cls(
            variables=len(cqm.variables),
            terms=len(cqm.variables) + cqm.objective.num_interactions,
            assignments=None if has_real else assignment_count(cqm),
            constrained=model.is_constrained or bool(integer.any()),
            linear=cqm.objective.is_linear() and not quadratic_constraints,
            quadratic_constraints=quadratic_constraints,
            widest_integer=float(widths.max(initial=0.0)),
            penalty_terms=penalty_size(cqm, rows),
            structure=structure_summary(cqm),
            jit_ready=_jit_ready(),
        )


@dataclass(frozen=True)
class Rule:
    """When ``applies``, run the first available of each group in ``members``."""

    applies: Callable[[ModelFacts], bool]
    members: tuple[tuple[str, ...], ...]
    reason: Callable[[ModelFacts], str]


RULES: tuple[Rule, ...] = (
    Rule(
        lambda f: f.assignments is not None and f.assignments <= EXACT_ASSIGNMENTS,
        (("exact",),),
        lambda f: f"{f.assignments} assignments: small enough to enumerate and prove optimal",
    ),
    Rule(
        lambda f: f.quadratic_constraints,
        (("cpsat",),),
        lambda f: "quadratic constraints: CP-SAT keeps them exact",
    ),
    Rule(
        lambda f: f.linear and f.constrained,
        (("mip",), ("cpsat",)),
        lambda f: "linear model: MIP (HiGHS) raced with CP-SAT, both prove bounds",
    ),
    Rule(
        lambda f: not f.constrained and f.jit_ready,
        (("ls", "sa"),),
        lambda f: f"unconstrained binary model: compiled local search on {f.variables} variables",
    ),
    Rule(
        lambda f: not f.constrained,
        (("ls", "sa"), ("sa",)),
        lambda f: f"unconstrained binary model: compiled local search on {f.variables} variables, with annealing "
        "beside it while the engine compiles (first run after installing)",
    ),
    Rule(
        lambda f: f.structure.get("kind") == "permutation" and (f.structure.get("permutation") or 0) > PROVABLE_PERMUTATION,
        (("ls", "sa"),),
        lambda f: f"a permutation of {f.structure['permutation']}: robust tabu search on the exact permutation "
        "(too large for CP-SAT to prove in a useful time)",
    ),
    Rule(
        lambda f: f.terms <= CPSAT_RACE_MAX_TERMS,
        (("ls", "sa"), ("cpsat",)),
        lambda f: f"constrained, {f.terms} variables+terms: local search on the exact structure raced with "
        "CP-SAT (proven bound)",
    ),
    Rule(
        lambda f: f.terms <= LOCAL_SEARCH_MAX_TERMS and f.jit_ready,
        (("ls", "sa"),),
        lambda f: f"constrained, {f.terms} variables+terms: local search on the exact structure on all cores "
        "(too large for CP-SAT to improve on it or bound it usefully)",
    ),
    Rule(
        lambda f: f.terms <= LOCAL_SEARCH_MAX_TERMS,
        (("ls", "sa"), ("cpsat",)),
        lambda f: f"constrained, {f.terms} variables+terms: local search on the exact structure, with CP-SAT "
        "beside it while the engine compiles (first run after installing)",
    ),
    Rule(
        lambda f: True,
        (("lns", "ls", "sa"),),
        lambda f: f"constrained, {f.terms} variables+terms (too large to prove): large-neighbourhood search",
    ),
)


def choose(model: Model) -> tuple[list[str], str]:
    """Backend names for ``model`` (one, or several to race) and the reason."""
    facts = ModelFacts.of(model)
    for rule in RULES:
        if not rule.applies(facts):
            continue
        names = [name for group in rule.members if (name := _first_fitting(group, facts)) is not None]
        if names:
            reason = rule.reason(facts)
            if facts.structure:
                reason += f" [{_describe(facts.structure)}]"
            return names, reason
    return ["cpsat"], "no other installed backend fits this model"


class AutoBackend(Backend):
    """Chooses backends per problem; see the module docstring for the rules."""

    name = "auto"
    description = "chooses exact, cpsat, mip+cpsat, ls alone (unconstrained, large permutations, large constrained; +sa or +cpsat while the engine compiles), ls+cpsat or lns from the model's facts; says why"
    capabilities = Capabilities(accepts="cqm", integer_variables=True, proves_bounds=True)
    option_names = ()

    def select(self, model: Model, time_limit: float | None) -> tuple[list[Backend], str]:
        """The backends to run (one, or several to race) and why."""
        names, reason = choose(model)
        return [backend_class(n)() for n in names], reason

    def run(
        self,
        problem: dimod.ConstrainedQuadraticModel,
        budget: Budget,
        seed: int | None,
        *,
        initial: dict[Any, float] | None = None,
    ) -> BackendOutput:
        """As a dimod Sampler: pick for the CQM and run the choice (see :func:`hqopt.race.race_output`)."""
        from hqopt.race import race_output  # the race runs backends: imported when used

        backends, reason = self.select(Model.from_cqm(problem), budget.time_limit)
        out = race_output(problem, backends, budget, seed, initial)
        out.info.update(chosen="+".join(b.name for b in backends), reason=reason)
        return out


def _first_fitting(names: tuple[str, ...], facts: ModelFacts) -> str | None:
    """The first of ``names`` that is installed, classical, available and fits the model."""
    known = set(available_backends())
    for name in names:
        if name not in known:
            continue
        cls = backend_class(name)
        caps = cls.capabilities
        if caps.kind == "quantum" or caps.needs_credentials:
            continue
        if caps.max_variables is not None and facts.variables > caps.max_variables:
            continue
        if caps.accepts == "bqm" and (
            facts.widest_integer > MAX_INTEGER_RANGE or facts.penalty_terms > PENALTY_MAX_TERMS
        ):
            continue  # integers too wide to encode in bits, or a penalty QUBO too large to build
        if not cls.availability().available:
            continue
        return name
    return None


def penalty_size(cqm: dimod.ConstrainedQuadraticModel, rows: ConstraintRows | None = None) -> int:
    """Interactions a penalty QUBO of ``cqm`` would have, at least: a constraint of k variables squares up to k(k-1)/2
    (``rows``: ``cqm``'s constraint arrays, where a linear row's k are counted; built when not given).

    >>> cqm = dimod.ConstrainedQuadraticModel()
    >>> cqm.add_variables("BINARY", "abcd")
    >>> _ = cqm.add_constraint_from_iterable([(v, 1) for v in "abcd"], "<=", 2)
    >>> penalty_size(cqm)
    6
    """
    rows = constraint_arrays(cqm) if rows is None else rows
    k = np.diff(rows.matrix.indptr).astype(np.int64)  # linear rows (quadratic ones: 0 here)
    k[rows.quadratic] = [cqm.constraints[rows.labels[j]].lhs.num_variables for j in rows.quadratic]
    return cqm.objective.num_interactions + int((k * (k - 1) // 2).sum())


def structure_summary(cqm: dimod.ConstrainedQuadraticModel) -> dict[str, Any]:
    """The engine's structure summary, when the engine is installed (else empty); the engine, and numba
    with it, is imported on the first call."""
    try:
        from hqopt.engine import detect_structure  # type: ignore[attr-defined]
    except ImportError:
        return {}
    try:
        return dict(detect_structure(cqm).summary())
    except Exception:  # noqa: BLE001 - detection is advice for the policy, never a failure
        return {}


def _jit_ready() -> bool:
    """Whether the engine's kernels are compiled or cached (True when the engine isn't installed)."""
    try:
        from hqopt.engine import jit_ready
    except ImportError:
        return True
    return jit_ready()


def _describe(structure: dict[str, Any]) -> str:
    parts = [f"{k.replace('_', ' ')} {v}" for k, v in structure.items() if isinstance(v, (int, float)) and v and not math.isnan(v)]
    return ", ".join(parts[:4])
