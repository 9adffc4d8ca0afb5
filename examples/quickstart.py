"""The smallest useful hqopt program: model, solve, read a verified answer.

Run: python examples/quickstart.py
"""

import hqopt

# A knapsack: pick items to maximise value within a weight budget.
values, weights = [15, 10, 9, 5, 8], [1, 5, 3, 4, 6]
m = hqopt.Model(sense="max", name="knapsack")
x = [m.binary(f"item{i}") for i in range(len(values))]
m.set_objective(sum(v * xi for v, xi in zip(values, x)))
m.add_constraint(sum(w * xi for w, xi in zip(weights, x)) <= 10, label="weight")

# `auto` picks a backend and says why (32 assignments: it enumerates them and proves the optimum).
exact = hqopt.solve(m, time_limit=5, seed=1)
print(exact.summary())

# The same model on an annealer: the constraint becomes a tuned penalty.
annealed = hqopt.solve(m, backend="sa", time_limit=1, seed=1)
print(f"sa: objective {annealed.objective}, feasible {annealed.feasible}, weights {annealed.penalty_weights}")
assert annealed.objective == exact.objective

# Results serialise and replay: the seed is recorded.
again = hqopt.Result.from_json(annealed.to_json())
print("selected:", sorted(k for k, v in again.solution.items() if v), "seed", again.seed)
