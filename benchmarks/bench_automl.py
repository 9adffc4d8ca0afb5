"""Benchmark: QuboSampler (FM, BOCS) against Optuna's TPE, random and GP samplers.

Problems (all from ../shared/benchmarks, development set):

* ``svm_digits``, ``dtree_breast_cancer``, ``krr_diabetes``: the hpo_tabular
  lookup tables (regret to the best row of each table);
* ``ising9_l0.01``, ``ising16_l0.0001``, ``ising16_l0.01``: BOCS Ising-model
  sparsification, KL(P||Q) + lambda * edges kept, exact (regret to the
  enumerated optimum);
* ``contamination``: the BOCS contamination-control problem (d = 30 stages,
  T = 100 fixed Monte Carlo samples, lambda = 0.01), built from
  bocs/README.md; no known optimum, so the best value itself is reported.

For each problem, sampler and seed a study of ``--trials`` trials is run; the
table gives the mean (and standard deviation over seeds) of the regret (or best
value) after 25, 50 and 100 trials, and the sampler's own mean time per trial
(seconds: the study's wall time less the time spent evaluating the objective).

Usage::

    python benchmarks/bench_automl.py --seeds 10 --trials 100
    python benchmarks/bench_automl.py --problems ising9_l0.01,contamination --samplers qubo-bocs,tpe --seeds 3
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from hqopt.automl import QuboSampler
from hqopt.automl.tune import suggest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
CHECKPOINTS = (25, 50, 100)


@dataclass
class Problem:
    """A black-box minimisation over an Optuna search space."""

    name: str
    space: dict[str, BaseDistribution]
    f: Callable[[dict[str, Any]], float]  # value to minimise
    optimum: float | None  # known minimum (regret is reported) or None (best value is reported)


# ------------------------------------------------------------ tabular HPO
def tabular_problem(table: str) -> Problem:
    """Lookup-table HPO: configurations are matched on the table's exact strings."""
    path = SHARED / "hpo_tabular" / f"{table}.csv"
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    metric = next(c for c in rows[0] if c.endswith("_mean"))
    params = [c for c in rows[0] if not c.startswith("cv_")]
    sense = 1.0 if "mse" in metric else -1.0  # minimise mse, maximise accuracy
    space: dict[str, BaseDistribution] = {}
    for p in params:
        values = list(dict.fromkeys(r[p] for r in rows))
        try:
            nums = np.array(sorted(float(v) for v in values))
        except ValueError:
            nums = None
        if nums is not None and np.allclose(np.diff(nums), nums[1] - nums[0]):  # an evenly spaced grid
            space[p] = FloatDistribution(nums[0], nums[-1], step=nums[1] - nums[0])
        else:  # labels, or uneven numbers (tried as given, in table order)
            space[p] = CategoricalDistribution(values)
    lookup = {tuple(_key(r[p]) for p in params): sense * float(r[metric]) for r in rows}

    def f(config: dict[str, Any]) -> float:
        return lookup[tuple(_key(config[p]) for p in params)]

    return Problem(table, space, f, min(lookup.values()))


def _key(value: Any) -> Any:
    try:
        return round(float(value), 6)
    except ValueError:
        return value


# ------------------------------------------------------- BOCS: Ising model
def ising_problem(nodes: int, lam: float) -> Problem:
    """KL(P||Q) + lam * (edges kept) for the generated BOCS instance, exact over all spin states."""
    stem = SHARED / "bocs" / f"ising_{nodes}nodes_seed0"
    meta = json.loads(Path(f"{stem}.json").read_text())
    theta = np.loadtxt(f"{stem}_theta.csv", delimiter=",")
    edges = [tuple(e) for e in meta["edge_order_(i,j)_0based"]]
    n = theta.shape[0]
    states = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)  # all spin vectors
    prods = np.stack([states[:, i] * states[:, j] for i, j in edges], axis=1).astype(float)
    w = np.array([2.0 * theta[i, j] for i, j in edges])  # z' Theta z = 2 sum_e theta_e z_i z_j

    def log_z(weights: np.ndarray) -> float:
        e = prods @ weights
        top = e.max()
        return float(top + np.log(np.exp(e - top).sum()))

    log_zp = log_z(w)
    p = np.exp(prods @ w - log_zp)
    moments = p @ prods  # E_P[z_i z_j] per edge

    def f(config: dict[str, Any]) -> float:
        x = np.array([config[f"x{k:02d}"] for k in range(len(edges))], dtype=float)
        kl = float(np.sum(w * (1 - x) * moments)) + log_z(w * x) - log_zp
        return kl + lam * float(x.sum())

    optimum = meta["optima"][_lam_key(lam)]["best"]
    space = {f"x{k:02d}": IntDistribution(0, 1) for k in range(len(edges))}
    return Problem(f"ising{nodes}_l{lam:g}", space, f, float(optimum))


def _lam_key(lam: float) -> str:
    return {0.0: "0", 1e-4: "0.0001", 1e-2: "0.01", 1.0: "1"}[lam]


# ------------------------------------------------ BOCS: contamination control
def contamination_problem(d: int = 30, T: int = 100, lam: float = 0.01, seed: int = 0) -> Problem:
    """Hu, Hu & Xu (2010) contamination control with one fixed sample set (bocs/README.md)."""
    rng = np.random.default_rng(seed)
    z0 = rng.beta(1.0, 30.0, size=T)
    contamination = rng.beta(1.0, 17.0 / 3.0, size=(d, T))
    restoration = rng.beta(1.0, 3.0 / 7.0, size=(d, T))
    cost, limit, eps, gamma = np.ones(d), 0.1, 0.05, 1.0

    def f(config: dict[str, Any]) -> float:
        u = np.array([config[f"u{i:02d}"] for i in range(d)], dtype=float)
        z = z0.copy()
        safe = np.empty(d)
        for i in range(d):
            z = contamination[i] * (1 - u[i]) * (1 - z) + (1 - restoration[i] * u[i]) * z
            safe[i] = np.mean(z <= limit)
        return float(cost @ u - gamma * np.sum(safe - (1 - eps)) + lam * u.sum())

    space = {f"u{i:02d}": IntDistribution(0, 1) for i in range(d)}
    return Problem("contamination", space, f, None)


PROBLEMS: dict[str, Callable[[], Problem]] = {
    "svm_digits": lambda: tabular_problem("svm_digits"),
    "dtree_breast_cancer": lambda: tabular_problem("dtree_breast_cancer"),
    "krr_diabetes": lambda: tabular_problem("krr_diabetes"),
    "ising9_l0.01": lambda: ising_problem(9, 1e-2),
    "ising16_l0.0001": lambda: ising_problem(16, 1e-4),
    "ising16_l0.01": lambda: ising_problem(16, 1e-2),
    "contamination": contamination_problem,
}


# ---------------------------------------------------------------- samplers
def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler | None:
    if name == "qubo-fm":
        return QuboSampler(surrogate="fm", n_startup_trials=10, seed=seed)
    if name == "qubo-bocs":
        return QuboSampler(surrogate="bocs", n_startup_trials=10, seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "gp":
        try:
            import torch  # noqa: F401 - GPSampler needs it
        except ImportError:
            return None
        return optuna.samplers.GPSampler(seed=seed)
    raise SystemExit(f"unknown sampler {name!r}")


SAMPLERS = ("qubo-fm", "qubo-bocs", "tpe", "random", "gp")


def run_one(problem: Problem, sampler: optuna.samplers.BaseSampler, trials: int) -> tuple[np.ndarray, float]:
    """Best-so-far curve and the sampler's mean seconds per trial."""
    study = optuna.create_study(sampler=sampler)
    values: list[float] = []
    in_objective = 0.0

    def objective(trial: optuna.Trial) -> float:
        nonlocal in_objective
        config = {name: suggest(trial, name, dist) for name, dist in problem.space.items()}
        t0 = time.perf_counter()
        values.append(problem.f(config))
        in_objective += time.perf_counter() - t0
        return values[-1]

    t0 = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    sampler_time = time.perf_counter() - t0 - in_objective  # Optuna's loop and the sampler
    return np.minimum.accumulate(values), sampler_time / trials


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--samplers", default=",".join(SAMPLERS))
    parser.add_argument("--json", help="also write the raw curves here")
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    checkpoints = [c for c in CHECKPOINTS if c <= args.trials] or [args.trials]
    raw: dict[str, Any] = {}
    header = "| problem | sampler | " + " | ".join(f"@{c}" for c in checkpoints) + " | s/trial |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for pname in args.problems.split(","):
        problem = PROBLEMS[pname]()
        for sname in args.samplers.split(","):
            curves, times = [], []
            for seed in range(args.seeds):
                sampler = make_sampler(sname, seed)
                if sampler is None:
                    break
                curve, per_trial = run_one(problem, sampler, args.trials)
                curves.append(curve)
                times.append(per_trial)
            if not curves:
                print(f"| {pname} | {sname} | " + " | ".join("n/a" for _ in checkpoints) + " | (not installed) |")
                continue
            best = np.array(curves)
            shown = best - problem.optimum if problem.optimum is not None else best
            cells = [f"{shown[:, c - 1].mean():.4g} ± {shown[:, c - 1].std():.2g}" for c in checkpoints]
            print(f"| {pname} | {sname} | " + " | ".join(cells) + f" | {np.mean(times):.3f} |", flush=True)
            raw[f"{pname}/{sname}"] = {"curves": best.tolist(), "optimum": problem.optimum, "s_per_trial": times}
    if args.json:
        Path(args.json).write_text(json.dumps(raw))
    print("\nregret to the known optimum (contamination: best value); mean ± std over seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
