"""Surrogate models that are themselves QUBOs: a factorization machine and BOCS.

Both learn ``f(x) ~ c + sum_i a_i x_i + sum_{i<j} b_ij x_i x_j`` over bit
vectors ``x`` from (x, y) pairs and hand back the upper-triangular matrix
``Q`` with ``x' Q x`` equal to the prediction minus a constant, ready for any
QUBO solver.

* :class:`FactorizationMachine` (FMQA, Kitai et al. 2020): ``b_ij = <v_i, v_j>``
  with rank-``k`` factors, fitted by full-batch Adam on the squared error.
* :class:`FMEnsemble`: ``members`` factorization machines fitted at once
  (vectorised) on Bayesian-bootstrap weights of the data; their spread is the
  uncertainty and :meth:`FMEnsemble.thompson_qubo` is one member.
* :class:`BOCS` (Baptista & Poloczek 2018): Bayesian linear regression on all
  first- and second-order monomials with a horseshoe prior, sampled by Gibbs
  (the fast sampler of Bhattacharya et al. 2016 for the coefficients), plus a
  shared per-bit slope (the number of bits set) under a Gaussian prior;
  :meth:`BOCS.thompson_qubo` is one posterior draw (Thompson sampling).
* :func:`heldout_loglik` scores a surrogate by the Gaussian log density of
  held-out targets (K-fold): :class:`~hqopt.automl.QuboSampler` picks its
  surrogate with it.

Example:
    >>> import numpy as np
    >>> X = np.array([[0, 0], [1, 0], [0, 1], [1, 1]])
    >>> y = np.array([0.0, 1.0, 2.0, -2.0])          # 1*x0 + 2*x1 - 5*x0*x1
    >>> fm = FactorizationMachine(rank=2, epochs=2000, seed=0).fit(X, y)
    >>> Q = fm.qubo()
    >>> int(np.argmin([x @ Q @ x for x in X]))
    3
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from hqopt.errors import ArgumentError, ModelError


def _check_xy(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    if X.ndim != 2 or len(X) != len(y) or len(y) == 0:
        raise ModelError(f"need X of shape (m, n) and y of length m >= 1, got {X.shape} and {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ModelError("y holds NaN or infinite values")
    return X, y


def _standardize(y: np.ndarray) -> tuple[np.ndarray, float, float]:
    mean = float(np.mean(y))
    std = float(np.std(y))
    std = std if std > 1e-12 else 1.0
    return (y - mean) / std, mean, std


class FactorizationMachine:
    """Second-order factorization machine on bit vectors.

    Args:
        rank: length ``k`` of each factor vector ``v_i``.
        epochs: full-batch Adam steps per :meth:`fit`.
        lr: Adam step size.
        l2: weight decay on the linear weights and factors.
        seed: seeds the factor initialisation.
    """

    def __init__(self, rank: int = 8, epochs: int = 500, lr: float = 0.03, l2: float = 1e-4, seed: int | None = None) -> None:
        if rank < 1 or epochs < 1:
            raise ArgumentError(f"rank and epochs must be >= 1, got {rank} and {epochs}")
        self.rank = rank
        self.epochs = epochs
        self.lr = lr
        self.l2 = l2
        self.rng = np.random.default_rng(seed)
        self.w0 = 0.0
        self.w: np.ndarray | None = None
        self.V: np.ndarray | None = None
        self._mean, self._std = 0.0, 1.0

    def fit(self, X: np.ndarray, y: np.ndarray) -> FactorizationMachine:
        """Fit from scratch (fresh random factors) on standardized targets."""
        X, y = _check_xy(X, y)
        t, self._mean, self._std = _standardize(y)
        n = X.shape[1]
        params = [np.zeros(1), np.zeros(n), self.rng.normal(0.0, 0.1, size=(n, self.rank))]
        with threadpool_limits(1, user_api="blas"):  # small matrices: threads only add waiting
            self._adam(X, t, params)
        self.w0, self.w, self.V = float(params[0][0]), params[1], params[2]
        return self

    def _adam(self, X: np.ndarray, t: np.ndarray, params: list[np.ndarray]) -> None:
        m = len(X)
        moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
        X2 = X * X
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        for step in range(1, self.epochs + 1):
            w0, w, V = params
            XV = X @ V
            pred = w0[0] + X @ w + 0.5 * np.sum(XV**2 - X2 @ (V**2), axis=1)
            r = 2.0 * (pred - t) / m
            grads = [
                np.array([r.sum()]),
                X.T @ r + self.l2 * w,
                X.T @ (r[:, None] * XV) - (X2.T @ r)[:, None] * V + self.l2 * V,
            ]
            for p, g, (m1, m2) in zip(params, grads, moments):
                m1 *= beta1
                m1 += (1 - beta1) * g
                m2 *= beta2
                m2 += (1 - beta2) * g * g
                p -= self.lr * (m1 / (1 - beta1**step)) / (np.sqrt(m2 / (1 - beta2**step)) + eps)

    def _require_fit(self) -> tuple[np.ndarray, np.ndarray]:
        if self.w is None or self.V is None:
            raise ModelError("the factorization machine is not fitted yet")
        return self.w, self.V

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predictions in the units of the training targets."""
        w, V = self._require_fit()
        X = np.asarray(X, dtype=float)
        XV = X @ V
        pred = self.w0 + X @ w + 0.5 * np.sum(XV**2 - (X * X) @ (V**2), axis=1)
        return self._mean + self._std * pred

    def qubo(self) -> np.ndarray:
        """Upper-triangular Q with ``x' Q x = predict(x) - constant`` for bit vectors x."""
        w, V = self._require_fit()
        Q = np.triu(V @ V.T, k=1) + np.diag(w)
        return self._std * Q


class BOCS:
    """Bayesian pairwise regression with a horseshoe prior (BOCS), sampled by Gibbs.

    Args:
        burn_in: Gibbs sweeps on the first :meth:`fit`.
        sweeps: Gibbs sweeps on every later fit (the chain continues where it stopped).
        trend: prior variance (noise units, not shrunk) of one more feature, the
            number of bits set: a slope shared by every bit, e.g. a cost per
            selected item, that a few samples reveal long before the horseshoe
            has found each linear term (``None``: no such feature).
        seed: seeds the chain.
    """

    def __init__(self, burn_in: int = 300, sweeps: int = 60, trend: float | None = 1.0, seed: int | None = None) -> None:
        if burn_in < 2 or sweeps < 2:
            raise ArgumentError(f"burn_in and sweeps must be >= 2, got {burn_in} and {sweeps}")
        self.trend = trend
        self.burn_in = burn_in
        self.sweeps = sweeps
        self.rng = np.random.default_rng(seed)
        self.n = 0
        self._state: dict[str, np.ndarray | float] | None = None
        self._draws: list[np.ndarray] = []
        self._mean, self._std, self._sigma2 = 0.0, 1.0, 1.0
        self._pairs: tuple[np.ndarray, np.ndarray] = (np.zeros(0, int), np.zeros(0, int))
        #: features that are non-zero in some training row (the others' posterior is their prior)
        self._observed = np.zeros(0, dtype=bool)

    # --------------------------------------------------------------- features
    def features(self, X: np.ndarray) -> np.ndarray:
        """``[1] + [x_i] + [x_i x_j for i < j]`` (+ ``[sum_i x_i]`` with a trend) for every row."""
        X = np.asarray(X, dtype=float)
        i, j = self._pairs
        parts = [np.ones((len(X), 1)), X, X[:, i] * X[:, j]]
        if self.trend is not None:
            parts.append(X.sum(axis=1, keepdims=True))
        return np.hstack(parts)

    def fit(self, X: np.ndarray, y: np.ndarray) -> BOCS:
        """Run the Gibbs chain on (X, y); keeps this fit's draws for prediction and Thompson sampling."""
        X, y = _check_xy(X, y)
        if self._state is None or X.shape[1] != self.n:
            self.n = X.shape[1]
            self._pairs = np.triu_indices(self.n, k=1)
            self._state = None
        Phi = self.features(X)
        self._observed = Phi.any(axis=0)
        t, self._mean, self._std = _standardize(y)
        p = Phi.shape[1]
        if self._state is None:
            self._state = {"beta": np.zeros(p), "sigma2": 1.0, "lam2": np.ones(p), "tau2": np.ones(3), "nu": np.ones(p), "xi": np.ones(3)}
            steps = self.burn_in
        else:
            steps = self.sweeps
        self._draws = []
        with threadpool_limits(1, user_api="blas"):  # small matrices: threads only add waiting
            for _ in range(steps):
                self._gibbs_sweep(Phi, t)
                self._draws.append(np.array(self._state["beta"]))
        self._draws = self._draws[len(self._draws) // 2 :]  # the second half: past the chain's transient
        self._sigma2 = float(self._state["sigma2"])
        return self

    def _gibbs_sweep(self, Phi: np.ndarray, y: np.ndarray) -> None:
        s = self._state
        assert s is not None
        rng = self.rng
        m, p = Phi.shape
        sigma2, lam2 = float(s["sigma2"]), np.asarray(s["lam2"])
        group = self._group(p)  # 0: linear terms, 1: pairs (the intercept's prior is fixed)
        tau2_g, xi_g = np.asarray(s["tau2"], dtype=float), np.asarray(s["xi"], dtype=float)
        tau2 = tau2_g[group]
        # coefficients: alpha = beta / sigma ~ N(0, D), y / sigma = Phi alpha + N(0, I); the intercept is not shrunk
        D = np.clip(tau2 * lam2, 1e-10, 1e10)
        D[0] = INTERCEPT_VARIANCE
        if self.trend is not None:
            D[-1] = self.trend
        u = rng.normal(0.0, np.sqrt(D))
        v = Phi @ u + rng.normal(0.0, 1.0, m)
        PhiD = Phi * D
        K = PhiD @ Phi.T + np.eye(m)
        w = np.linalg.solve(K, y / np.sqrt(sigma2) - v)
        beta = np.sqrt(sigma2) * (u + PhiD.T @ w)
        resid = y - Phi @ beta
        shrink = beta**2 / D
        sigma2 = _inv_gamma(rng, (m + p) / 2, (resid @ resid + shrink.sum()) / 2)
        lam2 = _inv_gamma(rng, 1.0, 1.0 / np.asarray(s["nu"]) + beta**2 / (2 * tau2 * sigma2))
        ratio = beta**2 / lam2
        for g in range(2):  # one global scale per order: pairs may be shrunk harder than linear terms
            members = group == g
            if members.any():
                tau2_g[g] = _inv_gamma(rng, (members.sum() + 1) / 2, 1.0 / xi_g[g] + ratio[members].sum() / (2 * sigma2))
                xi_g[g] = _inv_gamma(rng, 1.0, 1.0 + 1.0 / tau2_g[g])
        nu = _inv_gamma(rng, 1.0, 1.0 + 1.0 / lam2)
        s.update(beta=beta, sigma2=float(np.clip(sigma2, 1e-10, 1e10)), lam2=np.clip(lam2, 1e-10, 1e10),
                 tau2=np.clip(tau2_g, 1e-10, 1e10), nu=nu, xi=xi_g)

    def _group(self, p: int) -> np.ndarray:
        """Prior group of each feature: 0 for the intercept and linear terms, 1 for pairs, 2 for the trend (fixed prior)."""
        group = (np.arange(p) > self.n).astype(int)
        if self.trend is not None:
            group[-1] = 2
        return group

    # ------------------------------------------------------------- prediction
    def _require_fit(self) -> list[np.ndarray]:
        if not self._draws:
            raise ModelError("BOCS is not fitted yet")
        return self._draws

    def coefficients(self) -> np.ndarray:
        """Posterior-mean coefficients (standardized units): intercept, linear terms, pairs i < j, then the trend.

        A feature that no training row sets (a pair never seen together, a
        level never tried) keeps its prior, whose mean is exactly 0: that 0 is
        used, not the average of its draws. Under the horseshoe those draws
        have Cauchy-like tails, so their average would be about as wild as a
        single draw and would pull the posterior-mean proposal towards
        whichever unseen pair drew far out.
        """
        return np.where(self._observed, np.mean(self._require_fit(), axis=0), 0.0)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Posterior-mean predictions in the units of the training targets."""
        return self._mean + self._std * (self.features(X) @ self.coefficients())

    def predictive(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior predictive mean and standard deviation (draw spread and noise) of new targets."""
        f = self.features(X) @ np.array(self._require_fit()).T  # one column per draw
        sd = np.sqrt(f.var(axis=1) + self._sigma2)
        return self._mean + self._std * f.mean(axis=1), self._std * sd

    def _qubo_of(self, beta: np.ndarray) -> np.ndarray:
        n_pairs = len(self._pairs[0])
        Q = np.diag(beta[1 : self.n + 1] + (beta[-1] if self.trend is not None else 0.0))
        Q[self._pairs] = beta[self.n + 1 : self.n + 1 + n_pairs]
        return self._std * Q

    def qubo(self) -> np.ndarray:
        """Upper-triangular Q of the posterior-mean model."""
        return self._qubo_of(self.coefficients())

    def thompson_qubo(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """Q of one posterior draw (Thompson sampling): minimising it is BOCS's acquisition."""
        draws = self._require_fit()
        pick = (rng or self.rng).integers(len(draws))
        return self._qubo_of(draws[int(pick)])


class FMEnsemble:
    """Factorization machines fitted together on Bayesian-bootstrap weights (Thompson sampling by member).

    All members train in one vectorised Adam loop: member ``k`` minimises the
    squared error weighted by Dirichlet(1, ..., 1) weights of the rows, so the
    spread of the members is a bootstrap estimate of the surrogate's uncertainty.

    Example:
        >>> import numpy as np
        >>> X = np.array([[0, 0], [1, 0], [0, 1], [1, 1]] * 3)
        >>> y = X @ [1.0, 2.0] - 5 * X[:, 0] * X[:, 1]
        >>> ens = FMEnsemble(members=4, rank=2, epochs=800, seed=0).fit(X, y)
        >>> mean, sd = ens.predictive(X[:4])
        >>> np.round(mean, 1).tolist(), int(np.argmin([x @ ens.thompson_qubo() @ x for x in X[:4]]))
        ([0.0, 1.0, 2.0, -2.0], 3)
    """

    def __init__(
        self, members: int = 8, rank: int = 4, epochs: int = 300, lr: float = 0.05, l2: float = 1e-3, seed: int | None = None
    ) -> None:
        if members < 2 or rank < 1 or epochs < 1:
            raise ArgumentError(f"need members >= 2, rank >= 1, epochs >= 1; got {members}, {rank}, {epochs}")
        self.members, self.rank, self.epochs, self.lr, self.l2 = members, rank, epochs, lr, l2
        self.rng = np.random.default_rng(seed)
        self._params: list[np.ndarray] | None = None
        self._mean, self._std, self._noise = 0.0, 1.0, 1.0

    def fit(self, X: np.ndarray, y: np.ndarray) -> FMEnsemble:
        """Fit every member from fresh random factors on standardized targets."""
        X, y = _check_xy(X, y)
        t, self._mean, self._std = _standardize(y)
        m, n = X.shape
        K, r = self.members, self.rank
        weights = self.rng.dirichlet(np.ones(m), size=K) * m  # (K, m), mean 1
        params = [np.zeros((K, 1)), np.zeros((K, n)), self.rng.normal(0.0, 0.1, size=(K, n, r))]
        moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
        X2 = X * X
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        with threadpool_limits(1, user_api="blas"):
            for step in range(1, self.epochs + 1):
                w0, w, V = params
                XV = np.einsum("mn,knr->kmr", X, V)
                pred = w0 + w @ X.T + 0.5 * np.sum(XV**2 - np.einsum("mn,knr->kmr", X2, V**2), axis=2)
                res = 2.0 * weights * (pred - t) / m  # (K, m)
                grads = [
                    res.sum(axis=1, keepdims=True),
                    res @ X + self.l2 * w,
                    np.einsum("km,mn,kmr->knr", res, X, XV) - (res @ X2)[:, :, None] * V + self.l2 * V,
                ]
                for p, g, (m1, m2) in zip(params, grads, moments):
                    m1 *= beta1
                    m1 += (1 - beta1) * g
                    m2 *= beta2
                    m2 += (1 - beta2) * g * g
                    p -= self.lr * (m1 / (1 - beta1**step)) / (np.sqrt(m2 / (1 - beta2**step)) + eps)
        self._params = params
        resid = self._raw(X).mean(axis=0) - t
        self._noise = max(float(np.mean(resid**2)), 1e-4)
        return self

    def _raw(self, X: np.ndarray) -> np.ndarray:
        """Standardized predictions of every member, shape (members, rows)."""
        if self._params is None:
            raise ModelError("the FM ensemble is not fitted yet")
        w0, w, V = self._params
        X = np.asarray(X, dtype=float)
        XV = np.einsum("mn,knr->kmr", X, V)
        return w0 + w @ X.T + 0.5 * np.sum(XV**2 - np.einsum("mn,knr->kmr", X * X, V**2), axis=2)

    def predictive(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation over members (plus the training residual) of new targets."""
        f = self._raw(X)
        sd = np.sqrt(f.var(axis=0) + self._noise)
        return self._mean + self._std * f.mean(axis=0), self._std * sd

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.predictive(X)[0]

    def _qubo_of(self, k: int | None) -> np.ndarray:
        if self._params is None:
            raise ModelError("the FM ensemble is not fitted yet")
        _, w, V = self._params
        wk, Vk = (w.mean(axis=0), None) if k is None else (w[k], V[k])
        if Vk is None:
            B = np.mean([np.triu(V[j] @ V[j].T, k=1) for j in range(self.members)], axis=0)
        else:
            B = np.triu(Vk @ Vk.T, k=1)
        return self._std * (B + np.diag(wk))

    def qubo(self) -> np.ndarray:
        """Upper-triangular Q of the members' mean."""
        return self._qubo_of(None)

    def thompson_qubo(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """Q of one member, picked at random."""
        return self._qubo_of(int((rng or self.rng).integers(self.members)))


#: prior variance (in noise units) of BOCS's intercept, which the horseshoe does not shrink
INTERCEPT_VARIANCE = 100.0


def heldout_loglik(make: Callable[[], Any], X: np.ndarray, y: np.ndarray, folds: int = 4, seed: int = 0) -> float:
    """Mean Gaussian log density of held-out targets under fresh surrogates from ``make()`` (K-fold).

    The surrogate needs ``fit(X, y)`` and ``predictive(X) -> (mean, sd)``.

    >>> import numpy as np
    >>> X = (np.random.default_rng(0).random((24, 4)) < 0.5).astype(float)
    >>> y = X @ [1.0, -2.0, 0.5, 0.0]
    >>> bocs = heldout_loglik(lambda: BOCS(burn_in=100, seed=0), X, y)
    >>> noise = heldout_loglik(lambda: BOCS(burn_in=100, seed=0), X, np.random.default_rng(1).normal(size=24))
    >>> bool(bocs > noise)
    True
    """
    X, y = _check_xy(X, y)
    if len(y) < 2:
        raise ModelError("held-out likelihood needs at least 2 points")
    order = np.random.default_rng(seed).permutation(len(y))
    total = 0.0
    for part in np.array_split(order, min(folds, len(y))):
        train = np.setdiff1d(order, part)
        mean, sd = make().fit(X[train], y[train]).predictive(X[part])
        sd = np.maximum(sd, 1e-9)
        total += float(np.sum(-0.5 * ((y[part] - mean) / sd) ** 2 - np.log(sd) - 0.5 * np.log(2 * np.pi)))
    return total / len(y)


def _inv_gamma(rng: np.random.Generator, shape: float | np.ndarray, scale: float | np.ndarray) -> np.ndarray | float:
    """Draw(s) from InverseGamma(shape, scale) = scale / Gamma(shape, 1)."""
    return scale / rng.gamma(shape, 1.0, size=np.shape(scale) or None)


__all__ = ["BOCS", "FMEnsemble", "FactorizationMachine", "heldout_loglik"]
