"""Check the hyperparameter-search targets on ``bench_automl.py`` results, with their noise.

The targets (issue 15): QuboSampler's mean regret at or below GPSampler's at
25, 50 and 100 trials and at or below a third of TPESampler's at 60 trials on
every BOCS Ising instance; mean best value at or below GPSampler's at 50 and
100 trials on contamination; mean regret at or below TPESampler's at 25 and 50
trials on the hpo_tabular tables.

A 10-seed mean moves with the random stream, so each target is printed with a
95 % bootstrap interval of the difference (QuboSampler's mean minus the
reference), seeds resampled independently for each sampler. A target whose
interval holds 0 is *within noise*: these seeds cannot tell whether it is met.

Several ``--out`` folders of disjoint seeds (e.g. ``--first-seed 0`` and
``--first-seed 10``) are pooled per problem and sampler.

Usage::

    python benchmarks/bench_automl.py --seeds 10 --trials 100 --out bench-automl
    python benchmarks/automl_targets.py bench-automl
    python benchmarks/automl_targets.py bench-automl bench-automl-seeds10   # 20 seeds pooled
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ISING = [f"ising{n}_l{lam}" for n in (9, 16) for lam in ("0", "0.0001", "0.01", "1")]
TABULAR = ["svm_digits", "dtree_breast_cancer", "krr_diabetes"]
RESAMPLES = 10_000


@dataclass(frozen=True)
class Target:
    """QuboSampler's mean at ``trials`` must be at most ``factor`` times ``reference``'s mean."""

    problem: str
    trials: int
    reference: str
    factor: float = 1.0

    @property
    def label(self) -> str:
        ref = self.reference if self.factor == 1.0 else f"{self.reference}/{round(1 / self.factor)}"
        return f"{self.problem} @{self.trials} vs {ref}"


TARGETS = (
    [Target(p, k, "gp") for p in ISING for k in (25, 50, 100)]
    + [Target(p, 60, "tpe", 1 / 3) for p in ISING]
    + [Target("contamination", k, "gp") for k in (50, 100)]
    + [Target(p, k, "tpe") for p in TABULAR for k in (25, 50)]
)


def load(folders: list[Path], problem: str, sampler: str) -> np.ndarray | None:
    """Regret (best value without a known optimum) curves of every seed in ``folders``, one row per seed."""
    rows, seeds = [], []
    for folder in folders:
        path = folder / f"{problem}__{sampler}.json"
        if not path.exists():
            continue
        cell = json.loads(path.read_text())
        if set(cell["seeds"]) & set(seeds):
            raise SystemExit(f"{path}: seeds {sorted(set(cell['seeds']) & set(seeds))} are in an earlier folder too")
        seeds += cell["seeds"]
        curves = np.array(cell["curves"], dtype=float)
        rows.append(curves - cell["optimum"] if cell["optimum"] is not None else curves)
    if not rows:
        return None
    trials = min(r.shape[1] for r in rows)
    return np.vstack([r[:, :trials] for r in rows])


def difference_interval(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """95 % percentile-bootstrap interval of ``mean(a) - mean(b)``, each sample resampled on its own.

    >>> rng = np.random.default_rng(0)
    >>> low, high = difference_interval(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]), rng)
    >>> low < 0 < high
    True
    """
    ma = a[rng.integers(len(a), size=(RESAMPLES, len(a)))].mean(axis=1)
    mb = b[rng.integers(len(b), size=(RESAMPLES, len(b)))].mean(axis=1)
    low, high = np.percentile(ma - mb, [2.5, 97.5])
    return float(low), float(high)


def check(folders: list[Path]) -> list[str]:
    """Markdown rows, one per target whose results are in ``folders``."""
    rng = np.random.default_rng(0)
    lines = [
        "| target | seeds | qubo | reference | difference (95 % interval) | verdict |",
        "|---|---|---|---|---|---|",
    ]
    loaded: dict[tuple[str, str], np.ndarray | None] = {}  # each (problem, sampler) read once, for all its targets
    for target in TARGETS:
        for key in ((target.problem, "qubo"), (target.problem, target.reference)):
            if key not in loaded:
                loaded[key] = load(folders, *key)
        qubo, ref = loaded[target.problem, "qubo"], loaded[target.problem, target.reference]
        if qubo is None or ref is None or min(qubo.shape[1], ref.shape[1]) < target.trials:
            continue
        a, b = qubo[:, target.trials - 1], target.factor * ref[:, target.trials - 1]
        diff = a.mean() - b.mean()
        low, high = difference_interval(a, b, rng)
        met = diff <= 1e-9 * max(1.0, abs(b.mean()))
        noisy = low <= 0 <= high and high > low  # (equal on every seed, e.g. both at the optimum: no noise)
        verdict = ("met" if met else "missed") + (" (within noise)" if noisy else "")
        lines.append(
            f"| {target.label} | {len(a)}/{len(b)} | {a.mean():.4g} | {b.mean():.4g} "
            f"| {diff:+.3g} ({low:+.3g}, {high:+.3g}) | {verdict} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="bench_automl.py --out folders (disjoint seeds)")
    args = parser.parse_args(argv)
    for folder in args.folders:
        if not folder.is_dir():
            raise SystemExit(f"{folder}: not a folder of bench_automl.py results")
    lines = check(args.folders)
    if len(lines) == 2:
        raise SystemExit("no target has both QuboSampler's and its reference's results in these folders")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
