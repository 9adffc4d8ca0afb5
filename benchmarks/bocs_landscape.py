"""The landscape of a small BOCS instance, enumerated: why some targets need luck.

Evaluates every configuration of a binary problem from ``bench_automl.py``
(at most 2^16; the 3x3 Ising instances have 2^12) and prints, for each local
minimum under one-bit moves (no neighbour is better):

* its configuration, bits set and regret (value minus the known optimum);
* its basin: how many configurations steepest descent takes there;
* its barrier: the lowest possible "highest regret on the way" of a path of
  one-bit moves from it to the global optimum (how far uphill a local search
  must climb to cross over).

It also counts the configurations better than the best non-global local
minimum -- the only ones a search can stand on to reach the optimum without
crossing a barrier -- and prints the mean regret a sampler would have if it
found the optimum on a fraction ``p`` of seeds and stopped at that minimum
otherwise.

Usage:
    python benchmarks/bocs_landscape.py ising9_l0 ising9_l0.01
"""

from __future__ import annotations

import argparse
import heapq
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_automl  # noqa: E402

#: largest number of bits enumerated
MAX_BITS = 16


def enumerate_values(name: str) -> tuple[np.ndarray, np.ndarray, float]:
    """All configurations (rows of bits, parameters in sorted name order), their values, the known optimum."""
    problem = bench_automl.PROBLEMS[name]()
    names = sorted(problem.space)
    n = len(names)
    if n > MAX_BITS or any((d.low, d.high) != (0, 1) for d in problem.space.values()):
        raise SystemExit(f"{name}: only binary problems of at most {MAX_BITS} bits are enumerated")
    configs = (np.arange(2**n)[:, None] >> np.arange(n)[::-1]) & 1
    values = np.array([problem.f(dict(zip(names, map(int, row)))) for row in configs])
    return configs, values, float(problem.optimum)


def neighbours(n: int) -> np.ndarray:
    """Index of each configuration's one-bit neighbours (row k: k with each bit flipped)."""
    return np.arange(2**n)[:, None] ^ (1 << np.arange(n))[None, :]


def basins(values: np.ndarray, nbr: np.ndarray) -> np.ndarray:
    """The local minimum steepest descent reaches from each configuration."""
    best = nbr[np.arange(len(values)), np.argmin(values[nbr], axis=1)]
    step = np.where(values[best] < values, best, np.arange(len(values)))
    while True:  # pointer jumping until every configuration points at a minimum
        nxt = step[step]
        if np.array_equal(nxt, step):
            return step
        step = nxt


def barriers(values: np.ndarray, nbr: np.ndarray, target: int) -> np.ndarray:
    """For each configuration, the lowest achievable maximum value along a one-bit path to ``target``."""
    best = np.full(len(values), np.inf)
    best[target] = values[target]
    heap = [(values[target], target)]
    while heap:
        level, k = heapq.heappop(heap)
        if level > best[k]:
            continue
        for j in nbr[k]:
            through = max(level, values[j])
            if through < best[j]:
                best[j] = through
                heapq.heappush(heap, (through, int(j)))
    return best


def report(name: str) -> None:
    configs, values, optimum = enumerate_values(name)
    regret = values - optimum
    regret[np.abs(regret) < 1e-9] = 0.0  # the stored optimum is rounded
    n = configs.shape[1]
    nbr = neighbours(n)
    dest = basins(regret, nbr)
    opt = int(np.argmin(regret))
    climb = barriers(regret, nbr, opt)
    minima = sorted(set(dest.tolist()), key=lambda k: regret[k])
    print(f"\n## {name}: {2**n} configurations, {len(minima)} local minima under one-bit moves\n")
    print("| configuration | bits set | regret | basin | barrier to the optimum |")
    print("|---|---|---|---|---|")
    for k in minima:
        bits = "".join(map(str, configs[k]))
        print(f"| {bits} | {configs[k].sum()} | {regret[k]:.4f} | {np.sum(dest == k)} | {climb[k]:.3f} |")
    if len(minima) > 1:
        runner_up = regret[minima[1]]
        better = int(np.sum(regret < runner_up))
        print(f"\nConfigurations better than the runner-up minimum ({runner_up:.4f}): {better} of {2**n}.")
        print("Mean regret if the optimum is found on a fraction p of seeds, the runner-up otherwise:")
        print(" ".join(f"p={p:.1f}: {(1 - p) * runner_up:.3f}" for p in (0.3, 0.5, 0.7, 0.9)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("problems", nargs="+", help="binary problems of bench_automl.py, e.g. ising9_l0")
    for name in parser.parse_args(argv).problems:
        if name not in bench_automl.PROBLEMS:
            raise SystemExit(f"unknown problem {name!r}; choose from {', '.join(bench_automl.PROBLEMS)}")
        report(name)


if __name__ == "__main__":
    main()
