"""Greedy construction for one-hot models: choose each group's member, cheapest feasible first.

Groups are placed one by one (fewest choices first, ties in random order). For
each member the objective change against what is already placed is computed
from the arrays, and the choice must not increase any constraint's violation;
when it would (a site's ``open`` flag is 0), the lone variables attached to the
member's position are switched on with it. The cheapest such choice wins; a
group with none is left unplaced (the LNS then repairs it with the
``constraint`` operator). Linear constraints only are checked incrementally; a
quadratic constraint is re-evaluated in full.

Example:
    >>> import dimod, numpy as np
    >>> from hqopt.lns.arrays import ArrayCQM
    >>> from hqopt.lns.neighbourhoods import Structure
    >>> cqm = dimod.CQM()
    >>> x = {(s, j): dimod.Binary((s, j)) for s in range(2) for j in range(2)}
    >>> cqm.set_objective(x[0, 0] + 2 * x[0, 1] + x[1, 0] + 3 * x[1, 1])
    >>> for s in range(2):
    ...     _ = cqm.add_constraint(x[s, 0] + x[s, 1] == 1, label=f"one{s}")
    >>> _ = cqm.add_constraint(x[0, 0] + x[1, 0] <= 1, label="cap0")
    >>> model = ArrayCQM.from_cqm(cqm)
    >>> construct(model, Structure.from_arrays(model), np.random.default_rng(0)).tolist()
    [0.0, 1.0, 1.0, 0.0]
"""

from __future__ import annotations

import numpy as np

from hqopt.lns.arrays import ArrayCQM
from hqopt.lns.neighbourhoods import Structure


def construct(model: ArrayCQM, structure: Structure, rng: np.random.Generator) -> np.ndarray:
    """A full assignment: every one-hot group placed greedily where possible, the rest 0 (within bounds)."""
    x = np.clip(np.zeros(model.num_variables), model.lower, model.upper)
    csc, adj = model.A_csc, model.adjacency
    quadratic_rows = len(model.cq_row) > 0
    activity = model.activities(x)
    groups = np.flatnonzero(structure.one_hot)
    sizes = np.array([len(structure.groups[g]) for g in groups])
    order = groups[np.lexsort((rng.random(len(groups)), sizes))]

    def violation_of(rows: np.ndarray, act: np.ndarray) -> float:
        gap = act - model.rhs[rows]
        sense = model.sense[rows]
        return float(np.sum(np.where(sense == 0, np.maximum(gap, 0), np.where(sense == 1, np.maximum(-gap, 0), np.abs(gap)))))

    def move(cols: list[int]) -> tuple[np.ndarray, np.ndarray]:
        rows = np.unique(np.concatenate([csc.indices[csc.indptr[c] : csc.indptr[c + 1]] for c in cols]))
        delta = np.zeros(len(rows))
        for c in cols:
            r, a = csc.indices[csc.indptr[c] : csc.indptr[c + 1]], csc.data[csc.indptr[c] : csc.indptr[c + 1]]
            delta += np.bincount(np.searchsorted(rows, r), a, minlength=len(rows))
        return rows, delta

    for g in order:
        best: tuple[float, list[int]] | None = None
        for v in structure.groups[g]:
            attached = structure.attached.get(int(structure.position[v]), np.zeros(0, dtype=np.int64))
            options = [[int(v)]]
            off = [int(u) for u in attached if x[u] < model.upper[u]]
            if off:
                options.append([int(v)] + off)
            for cols in options:
                rows, delta = move(cols)
                if quadratic_rows:
                    y = x.copy()
                    y[cols] = 1.0
                    ok = model.violation(y) <= model.violation(x) - 1 + 1e-9
                else:  # the group's own row goes from 1 short to met: violation must drop by exactly that
                    before = violation_of(rows, activity[rows])
                    ok = violation_of(rows, activity[rows] + delta) <= before - 1 + 1e-9
                if not ok:
                    continue
                cost = sum(model.lin[c] + float(adj.data[adj.indptr[c] : adj.indptr[c + 1]] @ x[adj.indices[adj.indptr[c] : adj.indptr[c + 1]]]) for c in cols)
                cost += sum(float(adj[a, b]) for i, a in enumerate(cols) for b in cols[i + 1 :])
                if best is None or cost < best[0] - 1e-12:
                    best = (cost, cols)
                break  # switching lone variables on only when needed
        if best is not None:
            rows, delta = move(best[1])
            x[best[1]] = 1.0
            activity[rows] += delta
            if quadratic_rows:
                activity = model.activities(x)
    return x
