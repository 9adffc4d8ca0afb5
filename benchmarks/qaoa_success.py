"""How often the ``qaoa`` backend finds the best cut of small random Max-Cut graphs.

For each size ``n``, ``--graphs`` G(n, 1/2) graphs (seeds 0, 1, ...) are solved
with seeds 0, 1, ... ``--runs``; a run succeeds when its best sample is a
maximum cut (brute force). With ``shots`` far below ``2**n`` a success needs
the tuned circuit to concentrate on good cuts: the line also prints the chance
that uniform random bitstrings would do as well.

    python benchmarks/qaoa_success.py --sizes 10 12 14 16 --shots 128 --graphs 3 --runs 3
"""

from __future__ import annotations

import argparse
import time

import dimod
import networkx as nx
import numpy as np

import hqopt
from hqopt.formulations.maxcut import MaxCut


def best_cut_count(model: hqopt.Model) -> tuple[float, int]:
    """(maximum cut, number of maximising bitstrings), by enumeration."""
    objective = model.cqm.objective
    bqm = dimod.BQM(objective.linear, objective.quadratic, objective.offset, "BINARY")
    n = bqm.num_variables
    states = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.int8)
    cuts = bqm.energies((states, list(bqm.variables)))
    best = cuts.max()
    return float(best), int(np.sum(np.isclose(cuts, best)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 12, 14, 16])
    parser.add_argument("--shots", type=int, default=128)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--graphs", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for n in args.sizes:
        wins = total = 0
        seconds = []
        uniform = []
        for g in range(args.graphs):
            model = MaxCut.from_graph(nx.gnp_random_graph(n, 0.5, seed=g)).to_model()
            best, count = best_cut_count(model)
            uniform.append(1 - (1 - count / 2**n) ** args.shots)
            for seed in range(args.runs):
                t0 = time.perf_counter()
                result = hqopt.solve(model, backend="qaoa", seed=seed, shots=args.shots, reps=args.reps)
                seconds.append(time.perf_counter() - t0)
                wins += bool(np.isclose(result.objective, best))
                total += 1
        print(
            f"n={n:2d} p={args.reps} shots={args.shots}: optimum in {wins}/{total} runs "
            f"(uniform sampling: {100 * np.mean(uniform):.0f}%), {np.mean(seconds):.2f} s per solve"
        )


if __name__ == "__main__":
    main()
