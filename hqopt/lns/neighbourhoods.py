"""Destroy operators: which variables an LNS move frees.

The model's structure decides what a sensible neighbourhood is:

* **groups** are the one-hot rows (``sum x = 1`` over binaries: a service's
  site, a customer's warehouse, a facility's location); a variable in no
  one-hot row is a group of its own;
* a group member's **position** is its largest other constraint (a site's
  capacity, a warehouse's capacity, a QAP column): members of different groups
  with the same position "go to the same place";
* a **defined** binary is one a row sets to the sum of part of one group
  (``y == sum(x over S)``: a placement's "service i is in zone z"); it belongs
  to that group and is freed with it.

A move picks a few positions ``K`` and a few groups ``S`` and frees, for each
group in ``S``, its members at the positions in ``K`` plus its current one --
"re-place these services among these sites" -- and the lone variables tied to
those positions (a site's ``open`` flag), and the binaries those groups define. Without one-hot rows a move frees
single variables. About ``k`` variables are freed; the operators differ in how
they choose:

``random``      random positions, the groups found there;
``related``     a random group and the groups most strongly coupled to it in the
                objective (services that talk to each other), with their positions;
``worst``       groups whose current choice costs most in the objective;
``constraint``  the tightest (or a violated) constraint's groups.

Example:
    >>> import dimod, numpy as np
    >>> from hqopt.lns.arrays import ArrayCQM
    >>> cqm = dimod.CQM()
    >>> x = {(s, j): dimod.Binary((s, j)) for s in range(3) for j in range(3)}
    >>> cqm.set_objective(sum((s + j) * x[s, j] for s, j in x))
    >>> for s in range(3):
    ...     _ = cqm.add_constraint(sum(x[s, j] for j in range(3)) == 1, label=f"assign{s}")
    >>> for j in range(3):
    ...     _ = cqm.add_constraint(sum(x[s, j] for s in range(3)) <= 1, label=f"cap{j}")
    >>> structure = Structure.from_arrays(ArrayCQM.from_cqm(cqm))
    >>> len(structure.groups), sorted(set(structure.position.tolist()))
    (3, [3, 4, 5])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hqopt.lns.arrays import EQ, ArrayCQM

#: the operators, in the order their statistics are reported
OPERATORS = ("random", "related", "worst", "constraint")


@dataclass
class Structure:
    """One-hot groups, positions and the lone variables attached to each position."""

    model: ArrayCQM
    group_of: np.ndarray  # group index per variable
    groups: list[np.ndarray]  # variable indices of each group
    one_hot: np.ndarray  # bool per group: a one-hot row (else a lone variable)
    position: np.ndarray  # position constraint per variable (-1: none)
    attached: dict[int, np.ndarray]  # position -> lone variables tied to it
    at_position: dict[int, np.ndarray]  # position -> group members there
    owner: np.ndarray  # per variable: the group that decides it (its own, or the one defining it)
    defines: dict[int, np.ndarray]  # one-hot group -> the binaries it defines

    @classmethod
    def from_arrays(cls, model: ArrayCQM) -> Structure:
        n, A = model.num_variables, model.A
        nnz = np.diff(A.indptr)
        has_quad = np.zeros(model.num_rows, dtype=bool)
        has_quad[model.cq_row] = True
        binary = (model.lower == 0) & (model.upper == 1) & np.array([v.name != "REAL" for v in model.vartypes])
        group_of = np.full(n, -1)
        groups: list[np.ndarray] = []
        one_hot: list[bool] = []
        group_row = []
        for r in range(model.num_rows):
            cols, vals = A.indices[A.indptr[r] : A.indptr[r + 1]], A.data[A.indptr[r] : A.indptr[r + 1]]
            if model.sense[r] != EQ or has_quad[r] or not len(cols) or not binary[cols].all():
                continue
            if not np.allclose(vals, 1.0) or model.rhs[r] - model.row_offset[r] != 1.0:
                continue
            members = cols[group_of[cols] < 0]
            if len(members) != len(cols):
                continue  # overlaps an earlier group (QAP columns): a position, not a group
            group_of[members] = len(groups)
            groups.append(np.sort(members))
            one_hot.append(True)
            group_row.append(r)
        for v in np.flatnonzero(group_of < 0):
            group_of[v] = len(groups)
            groups.append(np.array([v]))
            one_hot.append(False)
        owner = group_of.copy()
        defines: dict[int, list[int]] = {}
        for y, g in _definitions(model, group_of, np.array(one_hot, dtype=bool), binary, has_quad):
            owner[y] = g
            defines.setdefault(g, []).append(y)
        # position: the largest constraint of a grouped variable other than its own row
        own = np.full(n, -1)
        for g, r in enumerate(group_row):
            own[groups[g]] = r
        position = np.full(n, -1)
        csc = model.A_csc
        for v in range(n):
            if own[v] < 0:
                continue
            rows = csc.indices[csc.indptr[v] : csc.indptr[v + 1]]
            rows = rows[rows != own[v]]
            if len(rows):
                position[v] = int(rows[np.lexsort((rows, -nnz[rows]))[0]])
        attached: dict[int, set[int]] = {}
        lone = np.array([not one_hot[g] for g in group_of]) & (owner == group_of)
        for r in range(model.num_rows):
            cols = A.indices[A.indptr[r] : A.indptr[r + 1]]
            singles = cols[lone[cols]]
            if len(singles):
                for p in set(position[cols[~lone[cols]]].tolist()) - {-1}:
                    attached.setdefault(p, set()).update(singles.tolist())
        at_position: dict[int, list[int]] = {}
        for v in np.flatnonzero(position >= 0):
            at_position.setdefault(int(position[v]), []).append(int(v))
        return cls(
            model, group_of, groups, np.array(one_hot, dtype=bool), position,
            {p: np.array(sorted(s)) for p, s in attached.items()},
            {p: np.array(vs) for p, vs in at_position.items()},
            owner,
            {g: np.array(sorted(ys)) for g, ys in defines.items()},
        )

    @property
    def positions(self) -> np.ndarray:
        return np.array(sorted(self.at_position), dtype=np.int64)

    def current(self, x: np.ndarray) -> np.ndarray:
        """The chosen member of each group (-1 when none is 1; the variable itself for lone ones)."""
        out = np.full(len(self.groups), -1)
        for g, members in enumerate(self.groups):
            if not self.one_hot[g]:
                out[g] = members[0]
                continue
            on = members[x[members] > 0.5]
            if len(on):
                out[g] = on[0]
        return out


def _definitions(model: ArrayCQM, group_of: np.ndarray, one_hot: np.ndarray, binary: np.ndarray, has_quad: np.ndarray) -> list[tuple[int, int]]:
    """``(y, g)`` for each row ``c * (sum(S) - y) == 0`` over binaries with ``S`` inside one-hot group ``g``
    and ``y`` in none (each ``y`` once)."""
    A = model.A
    found: dict[int, int] = {}
    for r in np.flatnonzero((model.sense == EQ) & ~has_quad & (np.diff(A.indptr) >= 2) & (model.rhs == model.row_offset)):
        cols, vals = A.indices[A.indptr[r] : A.indptr[r + 1]], A.data[A.indptr[r] : A.indptr[r + 1]]
        outside = ~one_hot[group_of[cols]]
        if outside.sum() != 1 or not binary[cols].all():
            continue
        y, c = int(cols[outside][0]), vals[~outside]
        if len(set(group_of[cols[~outside]].tolist())) == 1 and np.all(c == c[0]) and vals[outside][0] == -c[0]:
            found.setdefault(y, int(group_of[cols[~outside][0]]))
    return list(found.items())


class Destroyer:
    """Chooses the freed variables with one of :data:`OPERATORS` (see the module docstring)."""

    def __init__(self, structure: Structure, rng: np.random.Generator) -> None:
        self.s = structure
        self.rng = rng
        self.operators: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
            "random": self.random,
            "related": self.related,
            "worst": self.worst,
            "constraint": self.constraint,
        }
        self._x: np.ndarray | None = None  # the assignment of the current call

    def __call__(self, operator: str, x: np.ndarray, k: int) -> np.ndarray:
        self._x = x
        free = self.operators[operator](x, max(2, int(k)))
        return np.unique(free)

    # ----------------------------------------------------------- operators
    def random(self, x: np.ndarray, k: int) -> np.ndarray:
        return self._free_around(x, k, seed_groups=[], seed_positions=[])

    def related(self, x: np.ndarray, k: int) -> np.ndarray:
        current = self.s.current(x)
        g = int(self.rng.integers(len(self.s.groups)))
        return self._free_around(x, k, seed_groups=self._coupled_groups(g, current, k), seed_positions=[])

    def worst(self, x: np.ndarray, k: int) -> np.ndarray:
        current = self.s.current(x)
        cost = self._group_costs(x, current)
        top = np.argsort(-cost, kind="stable")[: max(1, len(cost) // 10)]
        g = int(self.rng.choice(top))
        return self._free_around(x, k, seed_groups=self._coupled_groups(g, current, k), seed_positions=[])

    def constraint(self, x: np.ndarray, k: int) -> np.ndarray:
        model = self.s.model
        if not model.num_rows:
            return self.random(x, k)
        slack = model.slack(x)
        violated = np.flatnonzero(slack < -1e-9)
        if len(violated):
            r = int(self.rng.choice(violated))
        else:  # among the tightest inequalities (equalities always have slack 0)
            inequalities = np.flatnonzero(model.sense != EQ)
            if not len(inequalities):
                return self.random(x, k)
            order = inequalities[np.argsort(slack[inequalities], kind="stable")]
            r = int(self.rng.choice(order[: max(1, len(order) // 10)]))
        cols = model.A.indices[model.A.indptr[r] : model.A.indptr[r + 1]]
        on = cols[x[cols] > 0.5] if len(cols) else cols
        groups = list(dict.fromkeys(self.s.owner[on if len(on) else cols].tolist()))
        self.rng.shuffle(groups)
        positions = [r] if r in self.s.at_position else []
        return self._free_around(x, k, seed_groups=groups, seed_positions=positions)

    # ------------------------------------------------------------- helpers
    def _coupled_groups(self, g: int, current: np.ndarray, k: int) -> list[int]:
        """``g`` and the groups whose current choice is most strongly coupled to g's."""
        v = current[g]
        if v < 0:
            return [g]
        s = self.s
        adj = s.model.adjacency
        defined = s.defines.get(g, np.zeros(0, dtype=np.int64))
        mine = np.concatenate([[v], defined[self._x[defined] > 0.5] if self._x is not None else []]).astype(np.int64)
        nbrs = np.concatenate([adj.indices[adj.indptr[u] : adj.indptr[u + 1]] for u in mine])
        weights = np.concatenate([adj.data[adj.indptr[u] : adj.indptr[u + 1]] for u in mine])
        own = s.owner[nbrs] == s.group_of[nbrs]
        chosen = np.where(own, current[s.group_of[nbrs]] == nbrs, self._x[nbrs] > 0.5 if self._x is not None else False)
        nbrs, weights = nbrs[chosen], np.abs(weights[chosen])
        order = nbrs[np.argsort(-weights, kind="stable")]
        return list(dict.fromkeys([g] + s.owner[order].tolist()))[: max(2, k)]

    def _group_costs(self, x: np.ndarray, current: np.ndarray) -> np.ndarray:
        """Each group's current objective contribution (its chosen member's linear term + couplings)."""
        model = self.s.model
        local = model.lin * x + (model.adjacency @ x) * x
        return np.where(current >= 0, local[np.maximum(current, 0)], np.inf)

    def _free_around(self, x: np.ndarray, k: int, seed_groups: list[int], seed_positions: list[int]) -> np.ndarray:
        s = self.s
        if not s.at_position:  # no positions: free whole groups (lone variables or one-hot rows)
            groups = list(seed_groups) + [int(g) for g in self.rng.permutation(len(s.groups))]
            free: list[int] = []
            for g in dict.fromkeys(g for g in groups if s.owner[s.groups[g][0]] == g):  # defined binaries follow their group
                if free and len(free) + len(s.groups[g]) > k:
                    break
                free.extend(s.groups[g].tolist())
                free.extend(s.defines.get(g, ()))
            return np.array(free, dtype=np.int64)
        current = s.current(x)
        m = int(np.clip(round(np.sqrt(k)), 2, len(s.at_position)))
        positions = list(dict.fromkeys(seed_positions + [int(s.position[current[g]]) for g in seed_groups if current[g] >= 0]))
        positions = [p for p in positions if p >= 0][:m]
        spare = [int(p) for p in self.rng.permutation(s.positions) if int(p) not in positions]
        extra = max(1, m - len(positions)) if len(positions) < m or not seed_groups else 0
        positions += spare[:extra]
        K = np.array(positions, dtype=np.int64)
        # groups: the seeds, then those currently at the chosen positions, in random order
        at_K = [int(g) for p in K for g in s.group_of[s.at_position[p]] if current[g] >= 0 and s.position[current[g]] == p]
        candidates = list(dict.fromkeys(seed_groups + [at_K[i] for i in self.rng.permutation(len(at_K))]))
        in_K = np.isin(s.position, K)
        free: list[int] = [int(v) for p in K for v in s.attached.get(int(p), ())]
        defined: list[int] = []  # the taken groups' defined binaries: they follow, not counted in k
        for g in candidates:
            members = s.groups[g]
            take = members[in_K[members] | (s.position[members] < 0) | (members == current[g])]
            if not s.one_hot[g]:
                take = members
            if free and len(free) + len(take) > k:
                break
            free.extend(take.tolist())
            defined.extend(s.defines.get(g, ()))
        return np.array(free + defined, dtype=np.int64)
