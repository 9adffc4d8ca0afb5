"""Search space -> bits: every Optuna distribution as a few binary variables.

Each parameter is first made discrete (its *levels*), then the level index is
written in bits:

* categorical -> one-hot (one bit per choice, exactly one set);
* integers and floats -> up to ``max_levels`` levels, evenly spaced on a log
  scale when the distribution has ``log=True``, written as ``binary`` (fewest
  bits; indices past the last level are forbidden), ``one-hot`` or
  ``domain-wall`` (bits ``1...10...0``; the index is the number of ones).
  Given a ``center`` (the incumbent's value), half the levels stay an even
  coarse grid and the other half close in around the center (adaptive levels:
  the grid refines where good values are, on the log scale when ``log=True``).

The rules that keep a bit vector valid are exported as hard constraints of an
:class:`hqopt.Model` (:meth:`SearchSpaceEncoder.model`), so ``hqopt.solve``
enforces them and verifies every sample it returns.

Example:
    >>> from optuna.distributions import CategoricalDistribution, FloatDistribution
    >>> enc = SearchSpaceEncoder(
    ...     {"C": FloatDistribution(1e-2, 1e2, log=True), "kernel": CategoricalDistribution(["rbf", "linear"])},
    ...     max_levels=5,
    ... )
    >>> enc.n_bits
    5
    >>> bits = enc.encode({"C": 1.0, "kernel": "linear"})
    >>> bits.tolist()
    [0, 1, 0, 0, 1]
    >>> enc.decode(bits)
    {'C': 1.0, 'kernel': 'linear'}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dimod
import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from hqopt.errors import ArgumentError, ModelError
from hqopt.model import Model

ENCODINGS = ("binary", "one-hot", "domain-wall")
#: default number of levels of a numeric parameter
DEFAULT_MAX_LEVELS = 16


@dataclass(frozen=True)
class ParamCode:
    """How one parameter is written in bits ``offset .. offset + n_bits - 1``."""

    name: str
    distribution: BaseDistribution
    levels: tuple[Any, ...]
    encoding: str
    offset: int

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    @property
    def n_bits(self) -> int:
        n = self.n_levels
        if n == 1:
            return 0
        if self.encoding == "binary":
            return max(1, math.ceil(math.log2(n)))
        if self.encoding == "domain-wall":
            return n - 1
        return n  # one-hot

    def index_of(self, value: Any) -> int:
        """The level nearest to ``value`` (exact for categorical choices)."""
        dist = self.distribution
        if isinstance(dist, CategoricalDistribution):
            return int(dist.to_internal_repr(value))
        log = bool(getattr(dist, "log", False))
        scale = np.log if log else (lambda a: np.asarray(a, dtype=float))
        grid = scale(np.asarray(self.levels, dtype=float))
        return int(np.argmin(np.abs(grid - scale(float(value)))))

    def bits_of(self, index: int) -> np.ndarray:
        bits = np.zeros(self.n_bits, dtype=np.int8)
        if self.n_bits == 0:
            return bits
        if self.encoding == "binary":
            for j in range(self.n_bits):
                bits[j] = (index >> j) & 1
        elif self.encoding == "domain-wall":
            bits[:index] = 1
        else:
            bits[index] = 1
        return bits

    def index_of_bits(self, bits: np.ndarray) -> int | None:
        """The level index written in ``bits``, or ``None`` if they break the encoding's rule."""
        if self.n_bits == 0:
            return 0
        b = np.asarray(bits, dtype=int)
        if self.encoding == "binary":
            index = int(sum(int(v) << j for j, v in enumerate(b)))
            return index if index < self.n_levels else None
        if self.encoding == "domain-wall":
            ones = int(b.sum())
            return ones if np.all(b[:ones] == 1) else None
        return int(np.argmax(b)) if int(b.sum()) == 1 else None

    def constraints(self, x: Sequence[Any]) -> list[tuple[str, Any]]:
        """(label, comparison) pairs that make ``x`` (this parameter's bit symbols) valid."""
        if self.n_bits == 0:
            return []
        if self.encoding == "binary":
            if 2**self.n_bits == self.n_levels:
                return []
            index = sum((2**j) * x[j] for j in range(self.n_bits))
            return [(f"{self.name}:levels", index <= self.n_levels - 1)]
        if self.encoding == "domain-wall":
            return [(f"{self.name}:wall{j}", x[j + 1] - x[j] <= 0) for j in range(self.n_bits - 1)]
        return [(f"{self.name}:one-hot", sum(x) == 1)]


class SearchSpaceEncoder:
    """Encodes an Optuna search space (name -> distribution) as bit vectors.

    Args:
        search_space: parameter name -> Optuna distribution.
        encoding: ``binary``, ``one-hot`` or ``domain-wall`` for numeric
            parameters (categorical ones are always one-hot).
        max_levels: most levels a numeric parameter is cut into (every value
            is kept when a stepped/integer range has no more than this).
        centers: parameter -> value around which that parameter's levels are
            refined (numeric parameters with more values than ``max_levels``).
    """

    def __init__(
        self,
        search_space: Mapping[str, BaseDistribution],
        *,
        encoding: str = "binary",
        max_levels: int = DEFAULT_MAX_LEVELS,
        centers: Mapping[str, Any] | None = None,
    ) -> None:
        if encoding not in ENCODINGS:
            raise ArgumentError(f"encoding must be one of {', '.join(ENCODINGS)}, got {encoding!r}")
        if not isinstance(max_levels, int) or max_levels < 2:
            raise ArgumentError(f"max_levels must be an integer >= 2, got {max_levels!r}")
        self.encoding = encoding
        self.max_levels = max_levels
        self.search_space = dict(search_space)
        self.params: list[ParamCode] = []
        offset = 0
        for name in sorted(self.search_space):
            dist = self.search_space[name]
            is_cat = isinstance(dist, CategoricalDistribution)
            levels = _levels(dist, max_levels, (centers or {}).get(name))
            code = ParamCode(name, dist, levels, "one-hot" if is_cat else encoding, offset)
            self.params.append(code)
            offset += code.n_bits
        self.n_bits = offset

    # ---------------------------------------------------------------- mapping
    def indices(self, params: Mapping[str, Any]) -> tuple[int, ...]:
        """Level index of every parameter: the identity of a configuration on the grid."""
        return tuple(code.index_of(params[code.name]) for code in self.params)

    def bits_of_indices(self, indices: Sequence[int]) -> np.ndarray:
        parts = [code.bits_of(i) for code, i in zip(self.params, indices)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int8)

    def encode(self, params: Mapping[str, Any]) -> np.ndarray:
        """Bits of the levels nearest to ``params``."""
        return self.bits_of_indices(self.indices(params))

    def indices_of_bits(self, bits: np.ndarray) -> tuple[int, ...] | None:
        """Level indices written in ``bits``; ``None`` if any parameter's bits are invalid."""
        out = []
        for code in self.params:
            index = code.index_of_bits(bits[code.offset : code.offset + code.n_bits])
            if index is None:
                return None
            out.append(index)
        return tuple(out)

    def params_of_indices(self, indices: Sequence[int]) -> dict[str, Any]:
        return {code.name: code.levels[i] for code, i in zip(self.params, indices)}

    def decode(self, bits: np.ndarray) -> dict[str, Any]:
        """Parameter values written in ``bits`` (raises ModelError if they are invalid)."""
        indices = self.indices_of_bits(np.asarray(bits))
        if indices is None:
            raise ModelError("the bit vector breaks an encoding rule (e.g. two one-hot bits set)")
        return self.params_of_indices(indices)

    def random_indices(self, rng: np.random.Generator) -> tuple[int, ...]:
        return tuple(int(rng.integers(code.n_levels)) for code in self.params)

    @property
    def grid_size(self) -> int:
        """Number of distinct configurations on the grid."""
        return math.prod(code.n_levels for code in self.params)

    # ----------------------------------------------------------------- model
    def model(self, qubo: np.ndarray, name: str = "surrogate") -> Model:
        """A Model minimising ``x' Q x`` over valid bit vectors (Q: n_bits x n_bits).

        Bits are labelled ``0 .. n_bits-1``; the encoding rules are hard constraints.
        """
        if qubo.shape != (self.n_bits, self.n_bits):
            raise ModelError(f"the QUBO must be {self.n_bits}x{self.n_bits}, got {qubo.shape}")
        bqm = dimod.BinaryQuadraticModel(np.asarray(qubo, dtype=float), "BINARY")  # labels 0..n_bits-1, all kept
        cqm = dimod.ConstrainedQuadraticModel()
        cqm.set_objective(bqm)
        for code in self.params:
            x = [dimod.Binary(code.offset + j) for j in range(code.n_bits)]
            for label, comparison in code.constraints(x):
                cqm.add_constraint_from_comparison(comparison, label=label)
        return Model(cqm, sense="min", name=name)


def _levels(dist: BaseDistribution, max_levels: int, center: Any = None) -> tuple[Any, ...]:
    """The discrete values a parameter may take on the grid (refined around ``center`` when given)."""
    if isinstance(dist, CategoricalDistribution):
        return tuple(dist.choices)
    if not isinstance(dist, (IntDistribution, FloatDistribution)):
        raise ModelError(f"unsupported distribution {type(dist).__name__}")
    if dist.low == dist.high:
        return (dist.low,)
    step = dist.step
    n_all = None if step is None else round((dist.high - dist.low) / step) + 1
    if n_all is not None and n_all <= max_levels:
        return tuple(_snap(dist, dist.low + k * step) for k in range(n_all))
    space = np.geomspace if dist.log else np.linspace
    if center is None or not dist.low <= center <= dist.high:
        raw = space(dist.low, dist.high, max_levels)
    else:  # a coarse grid, plus levels closing in on the incumbent (within one coarse step either side)
        n_coarse = max(2, max_levels // 2)
        coarse = space(dist.low, dist.high, n_coarse)
        ratio = coarse[1] / coarse[0] if dist.log else coarse[1] - coarse[0]  # one coarse step
        n_fine = max_levels - n_coarse
        offsets = np.linspace(-1, 1, n_fine + 1)[1:-1] if n_fine > 1 else np.zeros(1)  # 0 is the center
        fine = center * ratio**offsets if dist.log else center + ratio * offsets
        raw = np.concatenate([coarse, fine, [center]])
    raw = np.clip(raw, dist.low, dist.high)
    raw[np.isclose(raw, dist.low, rtol=1e-9, atol=0)] = dist.low  # exact end points (geomspace rounds)
    raw[np.isclose(raw, dist.high, rtol=1e-9, atol=0)] = dist.high
    levels: list[Any] = []
    for value in sorted({_snap(dist, v) for v in raw}):  # floats a rounding error apart are one level
        if not levels or not math.isclose(value, levels[-1], rel_tol=1e-9, abs_tol=1e-12):
            levels.append(value)
    return tuple(levels)


def _snap(dist: IntDistribution | FloatDistribution, value: float) -> Any:
    """``value`` moved onto the distribution's step grid and into its range."""
    if dist.step is not None:
        value = dist.low + round((value - dist.low) / dist.step) * dist.step
    value = min(max(value, dist.low), dist.high)
    return round(value) if isinstance(dist, IntDistribution) else float(value)


__all__ = ["DEFAULT_MAX_LEVELS", "ENCODINGS", "ParamCode", "SearchSpaceEncoder"]
