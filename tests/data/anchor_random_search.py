"""A tiny external solver for `hqopt bench --anchor` tests: random search on an LP file.

Usage: python anchor_random_search.py FILE.lp SECONDS SEED
Prints progress lines, then `best <objective>` in the file's own sense
(`best inf` when no random sample was feasible). Uses dimod only, as a
user's own script might.
"""

import random
import sys
import time

import dimod

path, seconds, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
with open(path) as fh:
    maximise = any(line.strip().lower().startswith("max") for line in fh)
cqm = dimod.lp.load(path)  # dimod negates a Maximize objective
sign = -1 if maximise else 1
rng = random.Random(seed)
labels = list(cqm.variables)
best = None
deadline = time.perf_counter() + min(seconds, 0.3)
while time.perf_counter() < deadline:
    sample = {v: rng.randint(0, 1) for v in labels}
    if cqm.check_feasible(sample):
        objective = sign * cqm.objective.energy(sample)
        if best is None or sign * objective < sign * best:
            best = objective
            print(f"improved {best}")
print(f"best {'inf' if best is None else best}")
