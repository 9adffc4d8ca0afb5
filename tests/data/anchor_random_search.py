"""A tiny external solver for `hqopt bench --anchor` tests: random search on a problem file.

Usage: python anchor_random_search.py FILE SECONDS SEED
Prints progress lines, then `best <objective>` (the objective in the file's own sense;
`best inf` when no random sample was feasible).
"""

import random
import sys
import time

import hqopt.io

path, seconds, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
model = hqopt.io.load(path)
rng = random.Random(seed)
labels = list(model.cqm.variables)
best = None
deadline = time.perf_counter() + min(seconds, 0.3)
while time.perf_counter() < deadline:
    sample = {v: rng.randint(0, 1) for v in labels}
    evaluation = model.evaluate(sample)
    if evaluation.feasible and (best is None or model.sense.sign * evaluation.objective < model.sense.sign * best):
        best = evaluation.objective
        print(f"improved {best}")
print(f"best {'inf' if best is None else best}")
