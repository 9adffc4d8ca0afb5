"""Max-Cut: split a weighted graph's vertices in two sides, maximising the weight of cut edges.

``cut(x) = sum over edges (u, v) of w_uv * [x_u != x_v]`` (sense max), written
as ``w_uv (x_u + x_v - 2 x_u x_v)`` over binary side variables. Variables are
the vertex labels themselves (Gset: 1-based integers), no constraints.

Example:
    >>> import networkx as nx
    >>> mc = MaxCut.from_graph(nx.cycle_graph(4))
    >>> mc.cut({0: 0, 1: 1, 2: 0, 3: 1})
    4.0
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import dimod
import numpy as np

from hqopt.errors import ModelError, SpecError
from hqopt.formulations import fields as F
from hqopt.model import Model


class MaxCut:
    """A weighted graph: ``edges`` as ``(u, v, weight)``; ``nodes`` adds isolated vertices."""

    def __init__(self, edges: Iterable[tuple[Hashable, Hashable, float]], nodes: Iterable[Hashable] = (), name: str = "maxcut") -> None:
        self.edges = [(u, v, float(w)) for u, v, w in edges]
        if any(u == v for u, v, _ in self.edges):
            raise ModelError("Max-Cut graphs cannot have self-loops")
        seen: dict[Hashable, None] = dict.fromkeys(nodes)
        for u, v, _ in self.edges:
            seen.setdefault(u)
            seen.setdefault(v)
        self.nodes = list(seen)
        self.name = name

    @classmethod
    def from_graph(cls, graph: Any, weight: str = "weight", name: str = "maxcut") -> MaxCut:
        """From a networkx graph; edges without ``weight`` count 1."""
        return cls(((u, v, d.get(weight, 1.0)) for u, v, d in graph.edges(data=True)), graph.nodes, name=name)

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], source: str = "<spec>") -> MaxCut:
        """``{edges: [[u, v], [u, v, weight], ...], nodes: [...] (optional)}``."""
        try:
            F.no_unknown_keys(spec, ("name", "edges", "nodes"), "")
            edges = []
            for k, e in enumerate(F.sequence(spec.get("edges"), "edges")):
                e = F.sequence(e, f"edges[{k}]")
                if len(e) not in (2, 3):
                    raise SpecError(f"edges[{k}]", "must be [u, v] or [u, v, weight] with u != v")
                u, v = F.name(e[0], f"edges[{k}]"), F.name(e[1], f"edges[{k}]")
                if u == v:  # (as names: 1 and "1" are one vertex)
                    raise SpecError(f"edges[{k}]", f"must be [u, v] or [u, v, weight] with u != v; both ends are {u!r}")
                edges.append((u, v, F.to_number(e[2], f"edges[{k}]") if len(e) == 3 else 1.0))
            nodes = [F.name(v, f"nodes[{k}]") for k, v in enumerate(F.sequence(spec.get("nodes", []), "nodes"))]
        except SpecError as exc:
            raise SpecError(exc.field, exc.reason, source=source) from None
        return cls(edges, nodes, name=F.text(spec, "name", "", default="maxcut") or "maxcut")

    def to_model(self) -> Model:
        index = {v: k for k, v in enumerate(self.nodes)}
        u = np.array([index[a] for a, _, _ in self.edges], dtype=int)
        v = np.array([index[b] for _, b, _ in self.edges], dtype=int)
        w = np.array([c for _, _, c in self.edges], dtype=float)
        linear = np.zeros(len(self.nodes))
        np.add.at(linear, u, w)
        np.add.at(linear, v, w)
        bqm = dimod.BQM.from_numpy_vectors(linear, (u, v, -2 * w), 0.0, dimod.BINARY, variable_order=self.nodes)
        cqm = dimod.ConstrainedQuadraticModel()
        cqm.set_objective(bqm)
        return Model(cqm, sense="max", name=self.name, decoder=self.decode, metadata={"kind": "maxcut"})

    def cut(self, sides: Mapping[Hashable, int]) -> float:
        """Cut weight of a side assignment (vertex -> 0/1), the independent checker."""
        missing = [v for v in self.nodes if v not in sides]
        if missing:
            raise ModelError(f"vertex {missing[0]!r} has no side")
        return float(sum(w for a, b, w in self.edges if int(sides[a]) != int(sides[b])))

    def decode(self, solution: Mapping[Hashable, float]) -> dict[str, Any]:
        """``{"cut": value, "side": {vertex: 0/1}}``."""
        sides = {v: int(round(solution[v])) for v in self.nodes}
        return {"cut": self.cut(sides), "side": sides}


def sides_from_hex(text: str, n: int) -> dict[int, int]:
    """Gset certificate (hex bit string, most significant bit = vertex 1) -> ``{vertex: side}``."""
    bits = bin(int(text.strip(), 16))[2:].zfill(n)
    if len(bits) != n:
        raise ModelError(f"certificate has {len(bits)} bits for {n} vertices")
    return {k + 1: int(b) for k, b in enumerate(bits)}
