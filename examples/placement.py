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

# 3. The answer in domain terms: a compact plan, and the report (sites, cost by term, rules, moves).
answer = result.decoded
print(repr(answer))
print(problem.report(result))

# 4. The independent checker recomputes feasibility and every cost from the assignment alone.
check = problem.check(answer["assignment"])
assert check.feasible and abs(check.objective - result.objective) < 1e-6

# 5. The busiest site fails: re-plan from the answer; only what ran there may move.
busiest = max(answer["sites"], key=lambda row: len(row["services"]))
replan = problem.replan(answer, down=[busiest["site"]], max_moves=len(busiest["services"]), move_cost=1000)
again = hqopt.solve(replan, backend="cpsat", time_limit=30, seed=0)
for move in again.decoded["moves"] if again.feasible else []:
    print(f"{move['service']}: {move['from']} -> {move['to']}")
print("re-plan:", again.status.value)
