"""``hqopt.analyze`` on a Gset graph and the placement examples, with timings.

    python benchmarks/quantum_analyze.py problems/maxcut/G1.txt --embed-timeout 30
    python benchmarks/quantum_analyze.py problems/placement/small.yaml

Embedding a large dense graph can take much longer than ``--embed-timeout``:
minorminer checks its timeout only between stages; the report says how long
the search really ran.
"""

from __future__ import annotations

import argparse
import time

import hqopt
from hqopt.io import load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--embed-timeout", type=float, default=30.0)
    args = parser.parse_args()
    for path in args.files:
        t0 = time.perf_counter()
        report = hqopt.analyze(load(path), embed_timeout=args.embed_timeout)
        print(f"== {path} ({time.perf_counter() - t0:.1f} s)")
        print(report.to_text())


if __name__ == "__main__":
    main()
