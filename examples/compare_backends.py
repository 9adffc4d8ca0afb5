"""Solve one public QUBO instance on several backends with the same time limit and seed.

Run: python examples/compare_backends.py [path/to/bqp50.txt#K]
"""

import sys
from pathlib import Path

import hqopt
import hqopt.io

default = Path(__file__).resolve().parents[1] / "problems" / "qubo" / "bqp50.txt"
model = hqopt.io.load(sys.argv[1] if len(sys.argv) > 1 else f"{default}#1")  # bqp50.1: optimum 2098
print(model)

for backend in ["tabu", "sa", "steepest", "sqa", "cpsat"]:
    r = hqopt.solve(model, backend=backend, time_limit=1.0, seed=0)
    bound = "" if r.bound is None else f"  bound {r.bound:g} (gap {r.gap:.1%})"
    print(f"{backend:9} objective {r.objective:8g}  {r.status.value:9} {r.timing.total:5.2f} s{bound}")
