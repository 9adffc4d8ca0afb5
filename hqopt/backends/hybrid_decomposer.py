"""An energy-impact decomposer for dwave-hybrid workflows, computed on arrays.

dwave-hybrid's ``EnergyImpactDecomposer`` recomputes, on every iteration and in
pure Python, the flip-energy gain of every variable, a networkx graph of the
whole BQM and an equality test against the previous BQM. On a 200-service
placement (5 282 variables, 732 224 interactions) that is about 5.8 s per
iteration (gains 1.7 s, graph 1.1 s, equality and copy 3.1 s), so a 5 s solve
never finished one iteration. :class:`ArrayImpactDecomposer` makes the same
choice -- variables in decreasing flip-energy gain, grown breadth-first into a
connected sub-problem, rolling over variables not yet visited -- from a sparse
matrix built once per run: one sparse product per iteration.

Example:
    >>> import dimod, hybrid
    >>> bqm = dimod.BQM({0: 1.0, 1: -1.0, 2: 0.5}, {(0, 1): 2.0, (1, 2): -1.0}, 0.0, "BINARY")
    >>> state = hybrid.State.from_sample({0: 1, 1: 0, 2: 1}, bqm)
    >>> sub = ArrayImpactDecomposer(bqm, size=2).run(state).result().subproblem
    >>> sorted(sub.variables)
    [0, 1]
"""

from __future__ import annotations

from collections import deque
from typing import Any

import dimod
import hybrid
import numpy as np
import scipy.sparse


class ArrayImpactDecomposer(hybrid.traits.ProblemDecomposer, hybrid.traits.SISO, hybrid.Runnable):  # type: ignore[misc]
    """``EnergyImpactDecomposer(size, traversal="bfs", rolling_history=1.0)`` for one fixed binary BQM."""

    def __init__(self, bqm: dimod.BinaryQuadraticModel, size: int, **runopts: Any) -> None:
        super().__init__(**runopts)
        if bqm.vartype is not dimod.BINARY:
            raise ValueError("ArrayImpactDecomposer takes a binary BQM")
        self.labels = list(bqm.variables)
        vectors = bqm.to_numpy_vectors(variable_order=self.labels)
        linear, (row, col, bias) = vectors[0], vectors[1]
        n = len(self.labels)
        self.linear = np.asarray(linear, dtype=float)
        self.coupling = scipy.sparse.csr_matrix((np.concatenate([bias, bias]), (np.concatenate([row, col]), np.concatenate([col, row]))), shape=(n, n))
        self.size = min(size, n)
        self.visited = np.zeros(n, dtype=bool)  # the rolling history: reset once every variable was offered

    def next(self, state: Any, **runopts: Any) -> Any:
        best = state.samples.change_vartype(dimod.BINARY).first.sample
        x = np.fromiter((best[v] for v in self.labels), dtype=float, count=len(self.labels))
        field = self.linear + self.coupling @ x
        gain = (1.0 - 2.0 * x) * field  # energy change of flipping each variable
        if self.visited.all():
            self.visited[:] = False
        chosen = self._grow(np.argsort(-gain, kind="stable"))
        self.visited[chosen] = True
        return state.updated(subproblem=self._induced(chosen, x, field))

    def _grow(self, order: np.ndarray) -> np.ndarray:
        """Breadth-first from the highest-gain free variable, restarting until ``size`` are chosen."""
        taken = self.visited.copy()
        chosen: list[int] = []
        indptr, indices = self.coupling.indptr, self.coupling.indices
        for source in order:
            if len(chosen) == self.size:
                break
            if taken[source]:
                continue
            taken[source] = True
            queue = deque([int(source)])
            while queue and len(chosen) < self.size:
                u = queue.popleft()
                chosen.append(u)
                for w in indices[indptr[u] : indptr[u + 1]]:
                    if not taken[w]:
                        taken[w] = True
                        queue.append(int(w))
        return np.array(chosen, dtype=int)

    def _induced(self, chosen: np.ndarray, x: np.ndarray, field: np.ndarray) -> dimod.BinaryQuadraticModel:
        """The BQM over ``chosen`` with every other variable fixed at ``x`` (offset dropped)."""
        inner = self.coupling[chosen][:, chosen].toarray()
        linear = field[chosen] - inner @ x[chosen]
        sub = dimod.BQM(linear, np.triu(inner, 1), 0.0, dimod.BINARY)
        sub.relabel_variables({k: self.labels[i] for k, i in enumerate(chosen)}, inplace=True)
        return sub
