"""Acquisition: the best untried configurations under a QUBO surrogate.

Given ``Q`` (upper triangular, the surrogate's value of bit vector ``x`` is
``x' Q x`` up to a constant) and the configurations already tried,
:class:`Acquisition` returns distinct untried configurations, best first:

* a grid of at most :data:`ENUMERATE_LIMIT` configurations (e.g. 20 binary
  parameters) is enumerated: the answer is exact;
* a larger one is minimised by :func:`minimise_qubo` (``hqopt.solve`` on the
  exact one-hot/level structure, the encoding rules being hard constraints),
  then every configuration one parameter away from the solver's best samples
  and up to two away from the incumbent is scored exactly and the best taken;
* diverse batches: every pending configuration (handed out, not finished)
  adds ``diversity * (1 - hamming / n_bits)`` to the acquisition -- a linear
  term, so the problem stays a QUBO -- pushing proposals apart.

Example:
    >>> import numpy as np
    >>> from optuna.distributions import IntDistribution
    >>> from hqopt.automl.encoding import SearchSpaceEncoder
    >>> enc = SearchSpaceEncoder({f"b{i}": IntDistribution(0, 1) for i in range(4)})
    >>> Q = np.diag([-2.0, -1.0, 1.0, 1.0])           # best: b0 = b1 = 1, b2 = b3 = 0
    >>> acq = Acquisition(enc)
    >>> acq.best(Q, tried=set(), count=2)
    [(1, 1, 0, 0), (1, 0, 0, 0)]
    >>> acq.best(Q, tried={(1, 1, 0, 0)}, count=1)
    [(1, 0, 0, 0)]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import hqopt
from hqopt.automl.encoding import SearchSpaceEncoder
from hqopt.automl.trust_region import Region
from hqopt.automl.trust_region import distance as param_distance

#: a grid with at most this many configurations is enumerated (exact acquisition)
ENUMERATE_LIMIT = 2**20
#: the hqopt backend that minimises a surrogate too large to enumerate, and its options
ACQUISITION_BACKEND = "sa"
SA_OPTIONS = {"num_reads": 16, "num_sweeps": 200}
#: the incumbent's two-parameter moves are scored when there are at most about this many
MOVES_LIMIT = 20_000


def minimise_qubo(
    enc: SearchSpaceEncoder,
    Q: np.ndarray,
    seed: int,
    *,
    backend: Any = None,
    time_limit: float | None = None,
    options: dict[str, Any] | None = None,
) -> tuple[list[tuple[int, ...]], hqopt.Result]:
    """Valid configurations from ``hqopt.solve`` on the surrogate (lowest first) and the Result.

    The one place the sampler calls a solver: ``backend=None`` uses
    :data:`ACQUISITION_BACKEND` with :data:`SA_OPTIONS`.
    """
    if backend is None:
        backend, options = ACQUISITION_BACKEND, {**SA_OPTIONS, **(options or {})}
    result = hqopt.solve(enc.model(Q), backend=backend, time_limit=time_limit, seed=seed, **(options or {}))
    ss = result.sampleset
    if ss is None or len(ss) == 0:
        return [], result
    record = ss.record
    columns = [ss.variables.index(i) for i in range(enc.n_bits)]
    out = []
    for k in np.argsort(record.energy, kind="stable"):
        if "is_feasible" in record.dtype.names and not record.is_feasible[k]:
            continue
        indices = enc.indices_of_bits(record.sample[k, columns].astype(int))
        if indices is not None:
            out.append(indices)
    return list(dict.fromkeys(out)), result


class Acquisition:
    """Best untried configurations of one encoded search space under a QUBO.

    Args:
        enc: the search space's encoder.
        backend, time_limit, options: how :func:`minimise_qubo` solves a grid too large to enumerate.
        diversity: weight of the proximity penalty to pending configurations
            (in the units of ``Q``; the sampler passes ``Q`` in standard deviations of the targets).
    """

    def __init__(
        self,
        enc: SearchSpaceEncoder,
        *,
        backend: Any = None,
        time_limit: float | None = None,
        options: dict[str, Any] | None = None,
        diversity: float = 0.5,
    ) -> None:
        self.enc = enc
        self.backend = backend
        self.time_limit = time_limit
        self.options = options
        self.diversity = diversity
        self.exact = enc.grid_size <= ENUMERATE_LIMIT
        self._halves_cache: list[tuple[np.ndarray, np.ndarray, slice]] | None = None
        #: the Result of the last solver call (None while enumeration answers)
        self.last_solve: hqopt.Result | None = None

    def bits(self, grid: np.ndarray, params: Sequence[int] | None = None) -> np.ndarray:
        """Bit vectors (rows) of configurations given as level indices (rows) of ``params`` (default: all)."""
        codes = [self.enc.params[p] for p in (range(len(self.enc.params)) if params is None else params)]
        parts = [np.zeros((len(grid), 0), dtype=np.uint8)]
        for p, code in enumerate(codes):
            table = np.array([code.bits_of(i) for i in range(code.n_levels)], dtype=np.uint8).reshape(code.n_levels, -1)
            parts.append(table[grid[:, p]])
        return np.concatenate(parts, axis=1)

    def _halves(self) -> list[tuple[np.ndarray, np.ndarray, slice]]:
        """The grid as a product of two halves (level indices, bits, bit slice): enumeration meets in the middle."""
        if self._halves_cache is None:
            sizes = [code.n_levels for code in self.enc.params]
            split = next((s for s in range(len(sizes) + 1) if math.prod(sizes[:s]) ** 2 >= self.enc.grid_size), len(sizes))
            halves = []
            for params in (range(split), range(split, len(sizes))):
                shape = [sizes[p] for p in params]
                if shape:
                    grid = np.stack(np.unravel_index(np.arange(math.prod(shape)), shape), axis=1)
                else:  # an empty half: one configuration of no parameters
                    grid = np.zeros((1, 0), dtype=np.int64)
                bits = self.bits(grid, list(params))
                lo = self.enc.params[params[0]].offset if len(params) else self.enc.n_bits
                halves.append((grid.astype(np.int32), bits, slice(lo, lo + bits.shape[1])))
            self._halves_cache = halves
        return self._halves_cache

    def values(self, Q: np.ndarray, bits: np.ndarray, pending: Sequence[np.ndarray] = ()) -> np.ndarray:
        """Acquisition of every row of ``bits``: ``x' Q x`` plus the proximity penalty to ``pending``."""
        x = bits.astype(float)
        out = np.einsum("ij,ij->i", x @ np.asarray(Q, dtype=float), x)
        return out + self._penalty(bits, pending)

    def _penalty(self, bits: np.ndarray, pending: Sequence[np.ndarray]) -> np.ndarray | float:
        total: np.ndarray | float = 0.0
        n = max(1, self.enc.n_bits)
        for p in pending:
            total = total + self.diversity * (1.0 - np.count_nonzero(bits != np.asarray(p, dtype=bits.dtype), axis=1) / n)
        return total

    def _grid_values(self, Q: np.ndarray) -> np.ndarray:
        """``x' Q x`` of every configuration (flat, C order), from the two halves' energies and their coupling."""
        (_, bA, sA), (_, bB, sB) = self._halves()
        Q = np.asarray(Q, dtype=float)
        xa, xb = bA.astype(float), bB.astype(float)
        eA = np.einsum("ij,ij->i", xa @ Q[sA, sA], xa)
        eB = np.einsum("ij,ij->i", xb @ Q[sB, sB], xb)
        cross = (xa @ (Q[sA, sB] + Q[sB, sA].T)) @ xb.T
        return (eA[:, None] + eB[None, :] + cross).ravel()

    def best(
        self,
        Q: np.ndarray,
        tried: set[tuple[int, ...]],
        count: int = 1,
        *,
        pending: Sequence[tuple[int, ...]] = (),
        incumbent: tuple[int, ...] | None = None,
        seed: int = 0,
        region: Region | None = None,
    ) -> list[tuple[int, ...]]:
        """Up to ``count`` distinct untried configurations in ``region``, lowest acquisition first.

        After each pick the pick itself counts as pending, so a batch spreads out.
        """
        region = region or Region()
        if self.exact:
            return self._best_enumerated(Q, tried, count, pending, region)
        keys = self._candidates(Q, tried, incumbent, seed, region)
        if not keys:
            return []
        grid = np.array(keys, dtype=np.int32)
        bits = self.bits(grid)
        score = self.values(Q, bits, [self.enc.bits_of_indices(p) for p in pending])
        score[[k in tried for k in keys]] = np.inf
        score[~region.allowed(grid)] = np.inf
        chosen: list[tuple[int, ...]] = []
        for _ in range(count):
            k = int(np.argmin(score))
            if not np.isfinite(score[k]):
                break
            chosen.append(keys[k])
            score[k] = np.inf
            score += self._penalty(bits, [bits[k]])
        return chosen

    def _best_enumerated(
        self, Q: np.ndarray, tried: set[tuple[int, ...]], count: int, pending: Sequence[tuple[int, ...]], region: Region
    ) -> list[tuple[int, ...]]:
        (gA, bA, sA), (gB, bB, sB) = self._halves()
        score = self._grid_values(Q)
        score[~self._region_mask(region)] = np.inf
        shape = [code.n_levels for code in self.enc.params]
        if tried:
            score[np.ravel_multi_index(np.array(list(tried)).T, shape)] = np.inf
        n = max(1, self.enc.n_bits)
        chosen: list[tuple[int, ...]] = []
        points = [self.enc.bits_of_indices(p) for p in pending]
        while len(chosen) < count:
            for p in points:  # separable: hamming = hamming on the first half + on the second
                ham = np.count_nonzero(bA != p[sA], axis=1)[:, None] + np.count_nonzero(bB != p[sB], axis=1)[None, :]
                score = score + self.diversity * (1.0 - ham.ravel() / n)
            k = int(np.argmin(score))
            if not np.isfinite(score[k]):
                break
            a, b = divmod(k, len(gB))
            key = tuple(int(v) for v in np.concatenate([gA[a], gB[b]]))
            chosen.append(key)
            score[k] = np.inf
            points = [self.enc.bits_of_indices(key)]
        return chosen

    def _region_mask(self, region: Region) -> np.ndarray:
        """Which configurations of the grid (flat, C order) lie in ``region`` (distances are separable)."""
        (gA, _, _), (gB, _, _) = self._halves()
        split = gA.shape[1]

        ordA, ordB = (None, None) if region.ordinal is None else (region.ordinal[:split], region.ordinal[split:])

        def distance(p: np.ndarray) -> np.ndarray:
            return (param_distance(gA, p[:split], ordA)[:, None] + param_distance(gB, p[split:], ordB)[None, :]).ravel()

        ok = np.ones(len(gA) * len(gB), dtype=bool)
        if region.local and region.center is not None:  # (the second test is for mypy: local implies it)
            ok &= distance(region.center) <= region.radius
            if region.vary is not None:
                fixed = ~region.vary
                same_a = (gA[:, fixed[:split]] == region.center[:split][fixed[:split]]).all(axis=1)
                same_b = (gB[:, fixed[split:]] == region.center[split:][fixed[split:]]).all(axis=1)
                ok &= (same_a[:, None] & same_b[None, :]).ravel()
        for t in region.tabu:
            ok &= distance(t) > region.tabu_radius
        return ok

    def _candidates(
        self, Q: np.ndarray, tried: set[tuple[int, ...]], incumbent: tuple[int, ...] | None, seed: int, region: Region
    ) -> list[tuple[int, ...]]:
        """The solver's configurations, their one-parameter moves, and the incumbent's one- and two-parameter moves.

        With a local region the solver also minimises ``Q`` plus a Hamming penalty
        around the region's centre (a linear term: still a QUBO), so its samples
        fall inside the ball.
        """
        found, self.last_solve = minimise_qubo(
            self.enc, Q, seed, backend=self.backend, time_limit=self.time_limit, options=self.options
        )
        if region.local and region.center is not None:
            c = self.enc.bits_of_indices(tuple(int(v) for v in region.center)).astype(float)
            spread = float(np.abs(Q).sum()) / max(1, self.enc.n_bits)
            near, _ = minimise_qubo(
                self.enc, Q + np.diag(spread * (1.0 - 2.0 * c)), seed + 1,
                backend=self.backend, time_limit=self.time_limit, options=self.options,
            )
            found = list(dict.fromkeys(near + found))
            incumbent = tuple(int(v) for v in region.center)
        starts = found[:4]
        cands = dict.fromkeys(found)
        for start in starts + ([incumbent] if incumbent is not None else []):
            for move in _moves(self.enc, start, 1):
                cands.setdefault(move)
        pairs = sum(a.n_levels * b.n_levels for a, b in itertools.combinations(self.enc.params, 2))
        if incumbent is not None and pairs <= MOVES_LIMIT:
            for move in _moves(self.enc, incumbent, 2):
                cands.setdefault(move)
        keys = [c for c in cands if c not in tried]
        if region.tabu and pairs <= MOVES_LIMIT and not region.allowed(np.array(keys or list(cands))).any():
            for start in starts:  # the solver's best lie in tabu balls: step out of them
                for move in _moves(self.enc, start, min(region.tabu_radius + 1, 2)):
                    cands.setdefault(move)
            keys = [c for c in cands if c not in tried]
        return keys or list(cands)


def _moves(enc: SearchSpaceEncoder, start: tuple[int, ...], changes: int) -> list[tuple[int, ...]]:
    """Configurations that differ from ``start`` in exactly ``changes`` parameters."""
    out = []
    for params in itertools.combinations(range(len(enc.params)), changes):
        options = [[v for v in range(enc.params[p].n_levels) if v != start[p]] for p in params]
        for values in itertools.product(*options):
            cand = list(start)
            for p, v in zip(params, values):
                cand[p] = v
            out.append(tuple(cand))
    return out


__all__ = ["ACQUISITION_BACKEND", "ENUMERATE_LIMIT", "Acquisition", "minimise_qubo"]
