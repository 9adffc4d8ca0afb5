"""Benchmark: QuboSampler (FM, BOCS) against Optuna's TPE, random and GP samplers.

Problems (from ../shared/benchmarks, development set, but the last two):

* ``svm_digits``, ``dtree_breast_cancer``, ``krr_diabetes``: the hpo_tabular
  lookup tables (regret to the best row of each table);
* ``ising9_l*``, ``ising16_l*`` (lambda = 0, 1e-4, 1e-2, 1): BOCS Ising-model
  sparsification, KL(P||Q) + lambda * edges kept, exact (regret to the
  enumerated optimum);
* ``contamination``: the BOCS contamination-control problem (d = 30 stages,
  T = 100 fixed Monte Carlo samples, lambda = 0.01), built from
  bocs/README.md; no known optimum, so the best value itself is reported;
* ``rosenbrock3``, ``log_bowl``: synthetic continuous checks (Rosenbrock on
  [-2, 2]^3; three log-scale floats and a log-scale integer 1-200), whose
  levels the sampler refines around the incumbent (regret to the optimum).

For each problem, sampler and seed a study of ``--trials`` trials is run; the
table gives the mean (and standard deviation over seeds) of the regret (or best
value) after 25, 50, 60 and 100 trials, and the sampler's own time per trial
over the last 10 trials (seconds between one objective call's end and the
next one's start: Optuna's bookkeeping plus the sampler).

Usage (``--out`` keeps one JSON per problem and sampler, so a long run can be
done in pieces and the table printed at the end)::

    python benchmarks/bench_automl.py --seeds 10 --trials 100 --out bench-automl
    python benchmarks/bench_automl.py --problems ising9_l0.01,contamination --samplers qubo,tpe --seeds 3
    python benchmarks/bench_automl.py --out bench-automl --report
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
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

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


LAMBDAS = (0.0, 1e-4, 1e-2, 1.0)  # every lambda with an exact optimum in bocs/


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


# ------------------------------------------- continuous checks (not in the targets)
def rosenbrock_problem(d: int = 3) -> Problem:
    """Rosenbrock's valley on [-2, 2]^d: continuous parameters, whose levels the sampler refines."""

    def f(config: dict[str, Any]) -> float:
        x = [config[f"x{i}"] for i in range(d)]
        return float(sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(d - 1)))

    return Problem(f"rosenbrock{d}", {f"x{i}": FloatDistribution(-2.0, 2.0) for i in range(d)}, f, 0.0)


def log_bowl_problem() -> Problem:
    """Three log-scale floats and a wide log-scale integer (1-200): a bowl in log space, like learning rates."""

    def f(config: dict[str, Any]) -> float:
        return float(sum((np.log10(config[f"x{i}"]) + 2) ** 2 for i in range(3)) + (np.log(config["k"]) - 3) ** 2)

    space: dict[str, BaseDistribution] = {f"x{i}": FloatDistribution(1e-4, 1.0, log=True) for i in range(3)}
    space["k"] = IntDistribution(1, 200, log=True)
    return Problem("log_bowl", space, f, float(min((np.log(k) - 3) ** 2 for k in range(1, 201))))


PROBLEMS: dict[str, Callable[[], Problem]] = {
    "svm_digits": lambda: tabular_problem("svm_digits"),
    "dtree_breast_cancer": lambda: tabular_problem("dtree_breast_cancer"),
    "krr_diabetes": lambda: tabular_problem("krr_diabetes"),
    **{f"ising{n}_l{lam:g}": (lambda n=n, lam=lam: ising_problem(n, lam)) for n in (9, 16) for lam in LAMBDAS},
    "contamination": contamination_problem,
    "rosenbrock3": rosenbrock_problem,
    "log_bowl": log_bowl_problem,
}


# ---------------------------------------------------------------- samplers
QUBO_OPTIONS: dict[str, Any] = {}  # --qubo-options: keyword arguments of every QuboSampler


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler | None:
    """A fresh sampler; ``None`` when it cannot run here (GP without PyTorch)."""
    if name == "qubo":
        return QuboSampler(seed=seed, **QUBO_OPTIONS)
    if name == "qubo-fm":
        return QuboSampler(surrogate="fm", seed=seed, **QUBO_OPTIONS)
    if name == "qubo-bocs":
        return QuboSampler(surrogate="bocs", seed=seed, **QUBO_OPTIONS)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "gp":
        try:
            import torch
        except ImportError:
            return None
        torch.set_num_threads(1)  # a shared machine; the GP's matrices are small
        return optuna.samplers.GPSampler(seed=seed)
    raise SystemExit(f"unknown sampler {name!r} (known: {', '.join(SAMPLERS)})")


SAMPLERS = ("qubo", "qubo-fm", "qubo-bocs", "tpe", "random", "gp")
DEFAULT_SAMPLERS = ("qubo", "tpe", "random", "gp")


def run_one(problem: Problem, sampler: optuna.samplers.BaseSampler, trials: int) -> tuple[np.ndarray, np.ndarray]:
    """Best-so-far curve and the sampler's seconds for each trial (wall time less the objective's)."""
    study = optuna.create_study(sampler=sampler)
    values: list[float] = []
    overhead: list[float] = []
    clock = [time.perf_counter()]

    def objective(trial: optuna.Trial) -> float:
        config = {name: suggest(trial, name, dist) for name, dist in problem.space.items()}
        t0 = time.perf_counter()
        overhead.append(t0 - clock[0])  # since the previous objective returned: Optuna + the sampler
        values.append(problem.f(config))
        clock[0] = time.perf_counter()
        return values[-1]

    study.optimize(objective, n_trials=trials)
    return np.minimum.accumulate(values), np.array(overhead)


def run_cell(pname: str, sname: str, seeds: list[int], trials: int) -> dict[str, Any] | None:
    """Every seed of one (problem, sampler) pair: curves and per-trial sampler seconds."""
    problem = PROBLEMS[pname]()
    curves, overheads = [], []
    for seed in seeds:
        sampler = make_sampler(sname, seed)
        if sampler is None:
            return None
        curve, overhead = run_one(problem, sampler, trials)
        curves.append(curve.tolist())
        overheads.append(overhead.tolist())
    return {"problem": pname, "sampler": sname, "seeds": seeds, "optimum": problem.optimum,
            "curves": curves, "overhead": overheads}


def table(cells: list[dict[str, Any]], checkpoints: list[int]) -> list[str]:
    """Markdown rows: mean ± std of regret (or best value) at each checkpoint; sampler s/trial near the end."""
    header = "| problem | sampler | seeds | " + " | ".join(f"@{c}" for c in checkpoints) + " | s/trial @100 |"
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for cell in cells:
        best = np.array(cell["curves"])
        shown = best - cell["optimum"] if cell["optimum"] is not None else best
        row = []
        for c in checkpoints:
            row.append(f"{shown[:, c - 1].mean():.4g} ± {shown[:, c - 1].std():.2g}" if c <= best.shape[1] else "-")
        over = np.array(cell["overhead"])
        late = over[:, -10:].mean()  # the last 10 trials (91-100 in a 100-trial run)
        lines.append(f"| {cell['problem']} | {cell['sampler']} | {len(best)} | " + " | ".join(row) + f" | {late:.3f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="how many seeds: FIRST .. FIRST+N-1")
    parser.add_argument("--first-seed", type=int, default=0, help="the first seed (default 0)")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--samplers", default=",".join(DEFAULT_SAMPLERS))
    parser.add_argument("--out", help="folder of per-(problem, sampler) JSON results; existing ones are reused")
    parser.add_argument("--report", action="store_true", help="only print the table of what --out holds")
    parser.add_argument("--qubo-options", default="{}", help='JSON keyword arguments of QuboSampler, e.g. {"n_startup_trials": 5}')
    args = parser.parse_args(argv)
    QUBO_OPTIONS.update(json.loads(args.qubo_options))
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    checkpoints = sorted({c for c in (*CHECKPOINTS, 60) if c <= args.trials} or {args.trials})
    problems = args.problems.split(",")
    samplers = args.samplers.split(",")
    for name in problems:
        if name not in PROBLEMS:
            raise SystemExit(f"unknown problem {name!r} (known: {', '.join(PROBLEMS)})")
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    cells = []
    for pname in problems:
        for sname in samplers:
            path = out / f"{pname}__{sname}.json" if out is not None else None
            if path is not None and path.exists():
                cell = json.loads(path.read_text())
            elif args.report:
                continue
            else:
                cell = run_cell(pname, sname, list(range(args.first_seed, args.first_seed + args.seeds)), args.trials)
                if cell is None:
                    print(f"{pname} / {sname}: not installed (GPSampler needs PyTorch)", file=sys.stderr)
                    continue
                if path is not None:
                    path.write_text(json.dumps(cell))
            cells.append(cell)
            print(table([cell], checkpoints)[-1], file=sys.stderr, flush=True)
    print("\n".join(table(cells, checkpoints)))
    print("\nregret to the known optimum (contamination: best value); mean ± std over seeds;"
          " s/trial: sampler + Optuna seconds per trial over the last 10 trials")
    return 0


if __name__ == "__main__":
    sys.exit(main())
