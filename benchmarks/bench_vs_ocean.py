"""hqopt vs plain Ocean on constrained problems, same instances, same wall time.

Ocean baseline: ``dimod.cqm_to_bqm`` with its default Lagrange multiplier,
then dwave-samplers' SimulatedAnnealingSampler in batches of reads until the
time is up; the best *feasible* sample (checked on the CQM) counts.
hqopt: ``hqopt.solve(model, backend="sa", time_limit=T)`` -- per-constraint
penalty weights, tuning rounds, verification. Also shown: CP-SAT's proven
bound or optimum where it has one, as the reference.

Usage::

    python benchmarks/bench_vs_ocean.py --time-limit 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import dimod
from dwave.samplers import SimulatedAnnealingSampler

import hqopt
from hqopt.formulations.placement import Placement
from hqopt.formulations.placement_generator import generate_placement
from hqopt.io.qaplib import read_qap

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
QAPS = ["chr12a", "had12", "nug12", "rou12", "scr12", "tai12a"]


def fractional_assignment(n: int, m: int, seed: int) -> hqopt.Model:
    """Services to sites with fractional CPU demands (the case dimod's default weight misses)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    demand = rng.choice([0.1, 0.2, 0.3, 0.4, 0.5], n)
    cost = rng.integers(1, 11, (n, m)).astype(float)
    cost[:, 0] = 1.0
    capacity = round(demand.sum() / m * 1.2, 1)
    model = hqopt.Model(name=f"frac-{n}x{m}-s{seed}")
    x = {(i, j): model.binary(f"x[{i},{j}]") for i in range(n) for j in range(m)}
    model.set_objective(dimod.quicksum(cost[i, j] * x[i, j] for i in range(n) for j in range(m)))
    for i in range(n):
        model.add_constraint(dimod.quicksum(x[i, j] for j in range(m)) == 1, label=f"one[{i}]")
    for j in range(m):
        model.add_constraint(dimod.quicksum(float(demand[i]) * x[i, j] for i in range(n)) <= capacity, label=f"cpu[{j}]")
    return model


def placement(services: int, sites: int, seed: int) -> hqopt.Model:
    spec = generate_placement(services, sites, seed=seed)
    spec.pop("kind", None)
    return Placement.from_spec(spec).to_model()


def ocean_baseline(model: hqopt.Model, seconds: float, seed: int) -> tuple[float | None, int, int]:
    """(best feasible objective, feasible reads, reads) for dimod's default conversion + SA."""
    bqm, invert = dimod.cqm_to_bqm(model.minimization_cqm())
    sampler = SimulatedAnnealingSampler()
    best, feasible, reads, k = None, 0, 0, 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        batch = sampler.sample(bqm, num_reads=10, seed=seed + k, interrupt_function=lambda: time.perf_counter() > deadline)
        k += 1
        for sample in batch.samples():
            reads += 1
            original = invert(sample)
            if model.cqm.check_feasible(original):
                feasible += 1
                value = model.objective_value(original)
                if best is None or model.sense.sign * value < model.sense.sign * best:
                    best = value
    return best, feasible, reads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-limit", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    cases = [(name, lambda name=name: read_qap(SHARED / "qaplib" / f"{name}.dat").to_model()) for name in QAPS]
    cases += [(f"frac-12x4-s{s}", lambda s=s: fractional_assignment(12, 4, s)) for s in range(3)]
    cases += [(f"frac-30x6-s{s}", lambda s=s: fractional_assignment(30, 6, s)) for s in range(2)]
    cases += [(f"place-20x5-s{s}", lambda s=s: placement(20, 5, s)) for s in (1, 2, 3)]

    import warnings

    warnings.filterwarnings("ignore", message="For constraints with fractional coefficients")
    print(f"{'instance':<16} {'ocean best':>11} {'feasible reads':>15} {'hqopt sa':>10} {'cpsat ref':>10} {'cpsat status':<12}")
    for name, build in cases:
        model = build()
        best, feasible, reads = ocean_baseline(model, args.time_limit, args.seed)
        ours = hqopt.solve(model, backend="sa", time_limit=args.time_limit, seed=args.seed)
        ref = hqopt.solve(model, backend="cpsat", time_limit=max(args.time_limit, 10.0), seed=args.seed)
        shown = lambda v: "-" if v is None else f"{v:.0f}"  # noqa: E731
        print(
            f"{name:<16} {shown(best):>11} {f'{feasible}/{reads}':>15} "
            f"{shown(ours.objective if ours.feasible else None):>10} "
            f"{shown(ref.objective if ref.feasible else None):>10} {ref.status.value:<12}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
