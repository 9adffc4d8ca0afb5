"""Large-neighbourhood search on CQMs (the ``lns`` backend's parts; see docs/hybrid.md).

* :mod:`~hqopt.lns.arrays`         the CQM as arrays: objective, activities, violations;
* :mod:`~hqopt.lns.subproblem`     the exact sub-CQM over freed variables (the rest folded in);
* :mod:`~hqopt.lns.neighbourhoods` one-hot groups, positions and the destroy operators;
* :mod:`~hqopt.lns.greedy`         a feasible start for one-hot models;
* :mod:`~hqopt.lns.ledger`         per sub-solver accounts and the bandit that picks the next one;
* :mod:`~hqopt.lns.search`         the loop: destroy, repair through ``hqopt.solve``, accept, report.
"""
