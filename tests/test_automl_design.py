"""The startup design: stratified bit densities, sparse-to-dense design points, distinct points."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, IntDistribution

from hqopt.automl import QuboSampler
from hqopt.automl.design import design_densities, maximin_point
from hqopt.automl.encoding import SearchSpaceEncoder

BITS_24 = {f"b{i:02d}": IntDistribution(0, 1) for i in range(24)}


@pytest.mark.parametrize("n", [1, 2, 5, 8, 13])
def test_densities_are_the_strata_midpoints_in_some_order(n: int) -> None:
    densities = design_densities(n, np.random.default_rng(n))
    assert np.allclose(np.sort(densities), (np.arange(n) + 0.5) / n)


def test_density_order_depends_on_the_generator() -> None:
    orders = {tuple(design_densities(8, np.random.default_rng(seed))) for seed in range(5)}
    assert len(orders) > 1


def _design(seed: int, stratified: bool) -> list[tuple[int, ...]]:
    enc = SearchSpaceEncoder(BITS_24)
    rng = np.random.default_rng(seed)
    densities = design_densities(8, rng) if stratified else np.full(8, 0.5)
    design: list[tuple[int, ...]] = []
    for density in densities:
        design.append(maximin_point(enc, design, rng, density=float(density)))
    return design


def test_stratified_design_spans_sparse_to_dense_where_a_uniform_one_does_not() -> None:
    spans = {True: [], False: []}
    for seed in range(10):
        for stratified in (True, False):
            design = _design(seed, stratified)
            assert len(set(design)) == len(design)  # distinct points either way
            set_bits = [sum(point) for point in design]
            spans[stratified].append(max(set_bits) - min(set_bits))
    # densities 1/16 .. 15/16 of 24 bits: 2 to 23 bits set, against all 12
    assert min(spans[True]) == 21 and max(spans[False]) == 0
    assert sorted(sum(point) for point in _design(0, True)) == [2, 5, 8, 11, 14, 17, 20, 23]


def test_density_skews_only_two_level_parameters() -> None:
    space = {
        "bit": IntDistribution(0, 1),
        "flag": CategoricalDistribution([True, False]),
        "depth": IntDistribution(1, 5),
        "kind": CategoricalDistribution(["a", "b", "c"]),
    }
    enc = SearchSpaceEncoder(space)
    rng = np.random.default_rng(0)
    points = np.array([maximin_point(enc, [], rng, density=0.95) for _ in range(400)])
    column = {code.name: points[:, p] for p, code in enumerate(enc.params)}
    assert column["bit"].mean() > 0.9 and column["flag"].mean() > 0.9
    for name, levels in (("depth", 5), ("kind", 3)):
        counts = np.bincount(column[name], minlength=levels)
        assert counts.min() > 400 / levels * 0.6  # about uniform


def test_sampler_startup_trials_run_from_sparse_to_dense() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=QuboSampler(n_startup_trials=8, seed=3))
    study.optimize(lambda trial: sum(trial.suggest_int(name, 0, 1) for name in BITS_24), n_trials=8)
    set_bits = [int(t.value) for t in study.trials[1:]]  # trial 0 comes before any search space is known
    assert max(set_bits) - min(set_bits) >= 12


def test_a_batch_asked_before_any_trial_finishes_is_stratified_too() -> None:
    """QuboSearchCV asks its whole design at once, and parallel workers start together: no search space yet."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for seed in range(5):
        study = optuna.create_study(sampler=QuboSampler(n_startup_trials=8, seed=seed))
        batch = [study.ask(BITS_24) for _ in range(8)]
        set_bits = [sum(trial.params.values()) for trial in batch]
        assert max(set_bits) - min(set_bits) >= 12
        assert len({tuple(sorted(trial.params.items())) for trial in batch}) == 8
