"""The FM and BOCS surrogates recover a known quadratic function of bits from samples."""

from __future__ import annotations

import numpy as np
import pytest

from hqopt.automl.surrogate import BOCS, FactorizationMachine
from hqopt.errors import ModelError

N = 8
ALL_X = ((np.arange(2**N)[:, None] >> np.arange(N)) & 1).astype(float)


def energies(X: np.ndarray, Q: np.ndarray) -> np.ndarray:
    return np.einsum("ki,ij,kj->k", X, Q, X)


def r2(pred: np.ndarray, truth: np.ndarray) -> float:
    return 1 - float(np.sum((pred - truth) ** 2) / np.sum((truth - truth.mean()) ** 2))


def low_rank_quadratic(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    V = rng.normal(size=(N, 3))
    return np.triu(V @ V.T, k=1) + np.diag(rng.normal(0, 2, N))


def sparse_quadratic(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    Q = np.zeros((N, N))
    pairs = [(i, j) for i in range(N) for j in range(i + 1, N)]
    for k in rng.choice(len(pairs), 6, replace=False):
        Q[pairs[k]] = rng.choice([-1, 1]) * rng.uniform(1, 3)
    Q[np.diag_indices(N)] = rng.normal(0, 1, N)
    return Q


@pytest.mark.parametrize("seed", [0, 1])
def test_factorization_machine_recovers_a_low_rank_quadratic(seed: int) -> None:
    Q = low_rank_quadratic(seed)
    y_all = energies(ALL_X, Q) + 5.0
    train = np.random.default_rng(seed).choice(2**N, 100, replace=False)
    fm = FactorizationMachine(rank=4, epochs=1500, seed=seed).fit(ALL_X[train], y_all[train])
    assert r2(fm.predict(ALL_X), y_all) > 0.99  # on all 256 points, 156 of them unseen
    e = energies(ALL_X, fm.qubo())
    assert np.allclose(e - fm.predict(ALL_X), (e - fm.predict(ALL_X))[0])  # x'Qx = prediction - constant
    assert np.argmin(e) == np.argmin(y_all)


@pytest.mark.parametrize("seed", [0, 1])
def test_bocs_recovers_a_sparse_quadratic(seed: int) -> None:
    Q = sparse_quadratic(seed)
    y_all = energies(ALL_X, Q) - 2.0
    train = np.random.default_rng(seed).choice(2**N, 50, replace=False)  # fewer samples than the 36 monomials x 1.5
    model = BOCS(burn_in=400, seed=seed).fit(ALL_X[train], y_all[train])
    assert r2(model.predict(ALL_X), y_all) > 0.98
    coef = model.qubo()
    assert np.max(np.abs(coef - Q)) < 0.25 * np.max(np.abs(Q))  # every coefficient, zeros included
    assert np.argmin(energies(ALL_X, coef)) == np.argmin(y_all)
    draws = [model.thompson_qubo(np.random.default_rng(k)) for k in range(3)]
    assert all(np.argmin(energies(ALL_X, d)) == np.argmin(y_all) for d in draws)  # posterior is confident here


def test_bocs_trend_extrapolates_a_cost_shared_by_every_bit() -> None:
    """Ten samples of 16 bits where every bit costs one: the trend feature sees the slope, the horseshoe alone rarely does."""

    def extrapolates(trend: float | None, seed: int) -> bool:
        rng = np.random.default_rng(seed)
        X = (rng.random((10, 16)) < 0.5).astype(float)
        y = X.sum(axis=1) + 0.1 * rng.normal(size=10)
        model = BOCS(trend=trend, seed=seed).fit(X, y)
        return bool(model.predict(np.zeros((1, 16)))[0] < y.min())  # all bits off: better than every sample

    assert sum(extrapolates(1.0, seed) for seed in range(8)) >= 6
    assert sum(extrapolates(None, seed) for seed in range(8)) <= 2


def test_bocs_posterior_mean_of_a_never_set_feature_is_its_prior_mean() -> None:
    """Bit 3 is never set (nor any pair with it): its terms keep the prior, mean 0, while the draws still spread."""
    rng = np.random.default_rng(0)
    X = (rng.random((12, 4)) < 0.5).astype(float)
    X[:, 3] = 0.0
    X[0, :3] = 1.0  # every other pair is seen at least once
    y = X[:, 0] - 2 * X[:, 1] + X[:, 0] * X[:, 2]
    model = BOCS(trend=None, seed=1).fit(X, y)
    Q = model.qubo()
    assert np.all(Q[:, 3] == 0.0) and np.all(Q[3, :] == 0.0)
    assert np.count_nonzero(Q[:3, :3]) == 6  # the seen terms are estimated
    spread = np.std([model.thompson_qubo(np.random.default_rng(k))[3, 3] for k in range(20)])
    assert spread > 0.0  # Thompson sampling still explores the unseen bit


def test_bocs_chain_continues_and_seed_repeats() -> None:
    Q = sparse_quadratic(3)
    X = ALL_X[:40]
    y = energies(X, Q)
    a = BOCS(burn_in=50, sweeps=10, seed=7).fit(X, y)
    b = BOCS(burn_in=50, sweeps=10, seed=7).fit(X, y)
    assert np.array_equal(a.qubo(), b.qubo())
    a.fit(ALL_X[:60], energies(ALL_X[:60], Q))  # a later fit runs `sweeps` more steps
    assert len(a._draws) == 5


def test_unfitted_and_bad_data_are_errors() -> None:
    with pytest.raises(ModelError, match="not fitted"):
        FactorizationMachine().qubo()
    with pytest.raises(ModelError, match="not fitted"):
        BOCS().predict(ALL_X)
    with pytest.raises(ModelError, match="NaN"):
        FactorizationMachine().fit(ALL_X[:2], np.array([1.0, np.nan]))
    with pytest.raises(ModelError):
        BOCS().fit(ALL_X[:3], np.ones(2))
