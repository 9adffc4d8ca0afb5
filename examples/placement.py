"""Data-centre placement end to end: generate, solve, read the answer, check it independently.

Run: python examples/placement.py
"""

import hqopt
from hqopt.formulations.placement import Placement
from hqopt.formulations.placement_generator import generate_placement

# 1. A realistic instance: 20 services (microservice apps, replica groups) on 5 sites.
spec = generate_placement(services=20, sites=5, seed=3, migration=True)
spec.pop("kind")  # the spec loader does this when reading YAML files
problem = Placement.from_spec(spec)

# 2. Solve; CP-SAT proves optimality on instances of this size.
result = hqopt.solve(problem, backend="cpsat", time_limit=30, seed=0)
print(result.summary())

# 3. The answer in domain terms: assignment, per-site utilisation, cost by term.
answer = result.decoded
for row in answer["sites"]:
    load = ", ".join(f"{r} {u:.0%}" for r, u in row["utilisation"].items())
    print(f"{row['site']:12} {len(row['services']):2} services  {load}")
print("costs:", answer["costs"], "moves:", answer["moves"])

# 4. The independent checker recomputes feasibility and every cost from the assignment alone.
check = problem.check(answer["assignment"])
assert check.feasible and abs(check.objective - result.objective) < 1e-6
print(f"checked: feasible, objective {check.objective:g} (bound {result.bound})")
