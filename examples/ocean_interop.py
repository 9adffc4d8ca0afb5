"""Every hqopt backend is a dimod Sampler, and any dimod Sampler is an hqopt backend.

Run: python examples/ocean_interop.py
"""

import dimod

import hqopt
from hqopt.backends import get_backend

bqm = dimod.generators.gnp_random_bqm(12, 0.5, "SPIN", random_state=7)

# hqopt backends in Ocean code: the usual sample / sample_ising / sample_qubo calls.
tabu = get_backend("tabu")
print("tabu ground energy:", tabu.sample(bqm, time_limit=0.5, seed=1).first.energy)
print("cpsat ground energy:", get_backend("cpsat").sample(bqm, seed=1).first.energy)
print("exact (dimod):      ", dimod.ExactSolver().sample(bqm).first.energy)

# A plain dimod sampler through hqopt.solve: you get verification, penalties and a Result.
model = hqopt.Model.from_bqm(bqm, name="random-ising")
result = hqopt.solve(model, backend=dimod.SimulatedAnnealingSampler(), seed=3)
print(result.backend, result.objective, result.status.value)
