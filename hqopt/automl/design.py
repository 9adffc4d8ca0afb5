"""Startup design: space-filling configurations before the surrogate has data.

:func:`maximin_point` adds one configuration at a time, the untried candidate
farthest (in the smallest distance) from every configuration so far --
finished or still running, so parallel workers fill the space together.
Distance per parameter: 1 for two different categorical choices, the
difference of level positions scaled to [0, 1] for numeric ones (log scales
are already even in the levels). Among ties the candidate that best balances
each parameter's levels wins.

Design points are also stratified by how many two-level parameters (bits)
they set. Uniformly random bit vectors all set about half their bits (the
binomial concentrates: 12 bits give 4-8 set in 85 % of draws), so a random
or maximin design never shows the surrogate a sparse or a dense
configuration, and it cannot learn what the number of set bits does -- often
the leading effect when the bits choose a subset (features kept, edges kept,
stages treated). :func:`design_densities` gives the ``k``-th design point a
density, the midpoints of ``n`` equal strata of (0, 1) in a random order;
:func:`maximin_point`'s candidates set exactly that fraction of the bits
(rounded; which bits is random), so maximin chooses *which* bits a point
sets but not *how many*. (Candidates drawn bit by bit with that probability
were not enough: the farthest of them is the one whose count strayed
towards the middle, and the sparsest and densest strata were lost.)
Parameters with more than two levels are drawn uniformly.

Example:
    >>> import numpy as np
    >>> from optuna.distributions import IntDistribution
    >>> from hqopt.automl.encoding import SearchSpaceEncoder
    >>> enc = SearchSpaceEncoder({f"b{i}": IntDistribution(0, 1) for i in range(12)})
    >>> rng = np.random.default_rng(0)
    >>> densities = design_densities(4, rng)
    >>> densities.tolist()
    [0.625, 0.125, 0.375, 0.875]
    >>> design = []
    >>> for density in densities:
    ...     design.append(maximin_point(enc, design, rng, density=density))
    >>> [sum(point) for point in design]  # bits set, of 12: 0.625 * 12, 0.125 * 12, ... rounded
    [8, 2, 5, 11]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from optuna.distributions import CategoricalDistribution

from hqopt.automl.encoding import SearchSpaceEncoder

#: random candidates scored for each design point
POOL = 512
#: a grid at most this large is searched whole when the random candidates are all tried
ENUMERATE_UNTRIED = 200_000


def design_densities(n: int, rng: np.random.Generator) -> np.ndarray:
    """Shares of the bits set for ``n`` design points: the midpoints of ``n`` strata of (0, 1), shuffled."""
    return (rng.permutation(n) + 0.5) / n


def maximin_point(
    enc: SearchSpaceEncoder,
    tried: Sequence[tuple[int, ...]],
    rng: np.random.Generator,
    *,
    density: float = 0.5,
) -> tuple[int, ...]:
    """An untried configuration far from every one in ``tried`` (level indices in, level indices out).

    Every candidate sets ``density`` of its two-level parameters (rounded), a random subset of them.
    """
    sizes = np.array([code.n_levels for code in enc.params])
    pool = (rng.random((POOL, len(sizes))) * sizes).astype(int)
    bits = sizes == 2
    n_bits = int(bits.sum())
    rank = rng.random((POOL, n_bits)).argsort(axis=1).argsort(axis=1)  # a random order of the bits per candidate
    pool[:, bits] = rank < int(np.floor(density * n_bits + 0.5))
    if not tried:
        return tuple(int(v) for v in pool[0])
    done = np.array(list(tried), dtype=int).reshape(-1, len(sizes))
    categorical = np.array([isinstance(code.distribution, CategoricalDistribution) for code in enc.params])
    span = np.maximum(sizes - 1, 1)
    diff = np.abs(pool[:, None, :] - done[None, :, :])
    dist = np.where(categorical, diff > 0, diff / span).sum(axis=2)
    nearest = dist.min(axis=1)
    # balance: how often each candidate's levels already appear (fewer is better)
    used = sum(np.mean(done[:, p][None, :] == pool[:, p][:, None], axis=1) for p in range(len(sizes)))
    score = nearest - 1e-3 * used
    score[nearest == 0] = -np.inf  # already tried
    best = int(np.argmax(score))
    if np.isfinite(score[best]):
        return tuple(int(v) for v in pool[best])
    if enc.grid_size <= ENUMERATE_UNTRIED:  # a nearly exhausted small grid: look at all of it
        grid = np.stack(np.unravel_index(np.arange(enc.grid_size), sizes), axis=1)
        seen = set(map(tuple, done.tolist()))
        untried = [tuple(int(v) for v in row) for row in grid if tuple(row.tolist()) not in seen]
        if untried:
            return untried[int(rng.integers(len(untried)))]
    return tuple(int(v) for v in pool[0])


__all__ = ["POOL", "design_densities", "maximin_point"]
