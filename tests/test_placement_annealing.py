"""Acceptance (issue 4): annealers return checker-feasible placements on generated 20x5 instances.

Capacity constraints are real here (demands 2-32 per resource), so this is
penalty tuning on inequality constraints, not only on one-hot assignment.
Untimed runs are deterministic for a seed, so the test does not depend on the
machine's speed.
"""

from __future__ import annotations

import pytest

import hqopt
from hqopt.formulations.placement import Placement
from hqopt.formulations.placement_generator import generate_placement


def placement(seed: int) -> Placement:
    spec = generate_placement(20, 5, seed=seed)
    spec.pop("kind")
    return Placement.from_spec(spec)


@pytest.mark.parametrize(("backend", "seed"), [("sa", 1), ("sa", 2), ("sa", 3), ("sqa", 2)])
def test_annealer_returns_a_checker_feasible_placement(backend, seed):
    problem = placement(seed)
    model = problem.to_model()
    assert any(str(label).startswith("capacity") for label in model.cqm.constraints)
    # untimed, so the seed repeats the run on any machine (8 s of sqa was infeasible once on a busy one);
    # 8 sqa reads of 300 sweeps a round take 5 s here (8 of the default 1000: 16 s)
    options = {"num_reads": 8, "num_sweeps": 300} if backend == "sqa" else {}
    result = hqopt.solve(problem, backend=backend, seed=0, initial={}, **options)  # no greedy warm start: the annealer alone
    assert result.feasible
    check = problem.check(result.decoded["assignment"])  # independent of the model
    assert check.feasible
    assert check.objective == pytest.approx(result.objective)
    assert result.penalty_weights  # per-constraint weights were used and recorded
