"""Trust region for the acquisition: a ball around a centre that grows and shrinks.

Distances are taken on level indices: a categorical parameter counts 1 when
its choice differs, an ordinal one the number of levels it moves
(:func:`distance`; the sampler makes numeric parameters on a fixed grid
ordinal, not refined ones, whose levels are uneven and follow the
incumbent). On binary spaces that is the Hamming distance on the bits; on
numeric ones a ball of radius 1 holds the neighbouring levels, not every
level of one parameter (certifying a local optimum of two 15-level
parameters then takes 4 trials, not 28).

The sampler's proposals stay within distance ``radius`` of a centre (the best
configuration of the current local search), as in CASMOPOLITAN (Wan et al.,
ICML 2021) and TuRBO (Eriksson et al., NeurIPS 2019):

* a finished trial better than the centre becomes the centre, and widens the
  ball by one if it lies on the ball's edge (a success); at radius one it
  takes ``successes_at_one`` (2) improvements in a row, as TuRBO's success
  tolerance (on a sparse binary problem one better neighbour says little
  about pairs of changes, and widening at once spends the next proposals on
  them); ``failures`` trials in a row that are not better narrow it by one,
  down to one;
* when the ball holds no untried configuration (at radius one: every
  neighbour of the centre is tried and none is better, a certified local
  optimum), the centre becomes *tabu*: configurations within ``tabu_radius``
  of it are not proposed again, and the search restarts from the best
  configuration outside every tabu ball. With ``stall_limit``, so many
  failures in a row at radius one count as exhausting the ball too (refined
  levels of continuous parameters keep adding neighbours, so it never runs
  out: :attr:`TrustRegion.stalled`);
* with ``probe_after``, so many failures in a row at radius one make the
  ball *probe* (:attr:`TrustRegion.probing`): the sampler then first
  proposes neighbours that change a parameter no two trials have differed in
  alone (:attr:`Region.vary` holds the proposal to such changes).

:class:`Region` is what the acquisition sees: the ball, and the tabu balls to
stay out of.

Example:
    >>> import numpy as np
    >>> tr = TrustRegion(n_params=4, init_radius=2, failures=1, tabu_radius=1)
    >>> K = np.array([[0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 1], [1, 1, 1, 0]])
    >>> y = np.array([3.0, 1.0, 0.5, 2.0])
    >>> tr.observe([0, 1], K[:2], y[:2])             # the best becomes the centre
    >>> tr.center, tr.radius
    (1, 2)
    >>> tr.observe([0, 1, 2], K[:3], y[:3])          # better, on the ball's edge: the centre moves, the ball widens
    >>> tr.center, tr.radius, tr.region().allowed(K).tolist()
    (2, 3, [False, True, True, True])
    >>> tr.observe([0, 1, 2, 3], K, y)               # not better: it narrows
    >>> tr.radius
    2
    >>> tr.restart([0, 1, 2, 3], y)                  # trial 2 is tabu: the best outside its ball of radius 1
    >>> tr.center, tr.region().allowed(K).tolist()
    (1, [True, True, False, False])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


def distance(keys: np.ndarray, point: np.ndarray, ordinal: np.ndarray | None = None) -> np.ndarray:
    """Distance of each row of ``keys`` to ``point`` (level indices): levels moved where ``ordinal``, else 1 per change.

    >>> distance(np.array([[0, 3], [2, 3], [1, 0]]), np.array([0, 0]), ordinal=np.array([False, True]))
    array([3, 4, 1])
    """
    diff = np.abs(np.asarray(keys) - np.asarray(point))
    if ordinal is None:
        return np.count_nonzero(diff, axis=-1)
    return np.where(ordinal, diff, diff > 0).sum(axis=-1)


@dataclass(frozen=True)
class Region:
    """Where proposals may go: within ``radius`` of ``center`` (no centre: anywhere), outside every tabu ball.

    ``ordinal`` marks the parameters whose levels are ordered (see :func:`distance`; None: none are).
    """

    center: np.ndarray | None = None
    radius: int | None = None
    tabu: tuple[np.ndarray, ...] = ()
    tabu_radius: int = 0
    ordinal: np.ndarray | None = None
    vary: np.ndarray | None = None  # which parameters may differ from the centre (None: all)

    @property
    def local(self) -> bool:
        """Whether proposals are held within a ball."""
        return self.center is not None and self.radius is not None

    def allowed(self, keys: np.ndarray) -> np.ndarray:
        """Which rows of ``keys`` (level indices of every parameter) lie in the region."""
        keys = np.asarray(keys)
        ok = np.ones(len(keys), dtype=bool)
        if self.center is not None and self.radius is not None:  # local
            ok &= distance(keys, self.center, self.ordinal) <= self.radius
            if self.vary is not None:
                ok &= (keys[:, ~self.vary] == self.center[~self.vary]).all(axis=1)
        for t in self.tabu:
            ok &= distance(keys, t, self.ordinal) > self.tabu_radius
        return ok


@dataclass
class TrustRegion:
    """The state of one local search: centre, radius, failures in a row, tabu centres.

    Centres are kept as trial numbers, so their level indices follow the
    encoding when it changes (adaptive numeric levels); :meth:`observe` must
    be called with every finished trial each time.

    Args:
        n_params: parameters of the search space.
        init_radius: radius after the start and after every restart.
        failures: trials in a row not better than the centre before the radius shrinks.
        tabu_radius: distance around a certified local optimum within which nothing is proposed again.
        ordinal: which parameters have ordered levels (None: none); see :func:`distance`.
        n_levels: levels of each parameter (needed with ``ordinal``: the largest distance).
        successes_at_one: improvements in a row at radius one before the ball widens to two.
        stall_limit: failures in a row at radius one after which the ball counts as exhausted (None: never).
        probe_after: failures in a row at radius one after which proposals first change a
            parameter that no two trials have differed in alone (:attr:`probing`; None: never).
    """

    n_params: int
    init_radius: int
    failures: int
    tabu_radius: int
    ordinal: np.ndarray | None = None
    n_levels: np.ndarray | None = None
    successes_at_one: int = 2
    stall_limit: int | None = None
    probe_after: int | None = None
    center: int | None = None
    center_value: float = np.inf
    radius: int = 0
    fails: int = 0
    streak: int = 0
    stale: int = 0
    tabu: list[int] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)
    _keys: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.ordinal is not None and self.n_levels is None:
            raise ValueError("TrustRegion: ordinal parameters need n_levels (their largest distance)")

    def observe(self, numbers: Sequence[int], X: np.ndarray, y: np.ndarray) -> None:
        """Update with the finished trials (numbers, level-index rows, values to minimise); new ones move the region."""
        self._keys = {int(n): np.asarray(b) for n, b in zip(numbers, X)}
        if self.center is not None and self.center not in self._keys:  # its trial is gone: start afresh
            self.center, self.center_value, self.tabu, self.seen = None, np.inf, [], set()
        if self.center is None:
            self.seen.update(int(n) for n in numbers)
            self._recenter(numbers, y)
            return
        for number, value in zip(numbers, y):
            if number in self.seen:
                continue
            self.seen.add(int(number))
            key = self._keys[int(number)]
            if value < self.center_value and self._outside_tabu(key):
                step = int(distance(key, self._keys[self.center], self.ordinal))
                self.streak += 1
                if step >= self.radius and (self.radius > 1 or self.streak >= self.successes_at_one):  # the whole ball was used: widen it
                    self.radius = min(self.radius + 1, self.max_distance)
                    self.streak = 0
                self.center, self.center_value = int(number), float(value)
                self.fails, self.stale = 0, 0
            else:
                self.streak = 0
                self.fails += 1
                self.stale = self.stale + 1 if self.radius == 1 else 0
                if self.fails >= self.failures:
                    self.radius = max(1, self.radius - 1)
                    self.fails = 0

    def restart(self, numbers: Sequence[int], y: np.ndarray) -> None:
        """The ball is exhausted: make its centre tabu and start again from the best configuration outside."""
        if self.center is not None:
            self.tabu.append(self.center)
        self._recenter(numbers, y)

    @property
    def stalled(self) -> bool:
        """Whether ``stall_limit`` failures in a row at radius one make the ball count as exhausted."""
        return self.stall_limit is not None and self.radius == 1 and self.stale >= self.stall_limit

    @property
    def probing(self) -> bool:
        """Whether ``probe_after`` failures in a row at radius one call for a change never measured alone."""
        return self.probe_after is not None and self.radius == 1 and self.stale >= self.probe_after

    @property
    def max_distance(self) -> int:
        """The largest distance between two configurations (a ball this wide covers the space)."""
        if self.ordinal is None or self.n_levels is None:
            return self.n_params
        return int(np.where(self.ordinal, np.asarray(self.n_levels) - 1, 1).sum())

    def region(self) -> Region:
        """The region the next local proposal must lie in (no ball once it would cover the space)."""
        if self.center is None or self.radius >= self.max_distance:
            return self.global_region()
        return Region(self._keys[self.center], self.radius, self._tabu_keys(), self.tabu_radius, self.ordinal)

    def global_region(self) -> Region:
        """Anywhere outside the tabu balls."""
        return Region(tabu=self._tabu_keys(), tabu_radius=self.tabu_radius, ordinal=self.ordinal)

    def _tabu_keys(self) -> tuple[np.ndarray, ...]:
        return tuple(self._keys[n] for n in self.tabu if n in self._keys)

    def _outside_tabu(self, key: np.ndarray) -> bool:
        return bool(self.global_region().allowed(np.asarray(key)[None, :])[0])

    def _recenter(self, numbers: Sequence[int], y: np.ndarray) -> None:
        self.radius, self.fails, self.streak, self.stale = max(1, min(self.init_radius, self.max_distance)), 0, 0, 0
        self.center, self.center_value = None, np.inf
        if len(numbers):
            ok = self.global_region().allowed(np.array([self._keys[int(n)] for n in numbers]))
            if ok.any():
                k = int(np.flatnonzero(ok)[np.argmin(np.asarray(y)[ok])])
                self.center, self.center_value = int(numbers[k]), float(y[k])


__all__ = ["Region", "TrustRegion", "distance"]
