"""Max-Cut: Gset reader, certificate check, networkx graphs, proven optima."""

from __future__ import annotations

import itertools
from pathlib import Path

import networkx as nx
import pytest

import hqopt
from hqopt.errors import FormatError
from hqopt.formulations.maxcut import MaxCut, sides_from_hex
from hqopt.io.base import ReadOptions
from hqopt.io.gset import FORMAT, parse_gset, read_gset

MAXCUT = Path(__file__).resolve().parents[1] / "problems" / "maxcut"
#: Gset G1 best-known cut, backed by the G1.hex certificate
G1_BEST = 11624


def test_g1_certificate_reaches_best_known():
    mc = read_gset(MAXCUT / "G1.txt")
    sides = sides_from_hex((MAXCUT / "G1.hex").read_text(), len(mc.nodes))
    assert mc.cut(sides) == G1_BEST
    model = mc.to_model()
    assert model.sense.value == "max" and model.objective_value(sides) == G1_BEST


def test_model_matches_checker_on_networkx_graph():
    g = nx.gnm_random_graph(9, 20, seed=2)
    for k, (u, v) in enumerate(g.edges):
        g.edges[u, v]["weight"] = (-1) ** k * (k % 3 + 1)
    mc = MaxCut.from_graph(g)
    model = mc.to_model()
    best = max(mc.cut(dict(zip(g.nodes, bits))) for bits in itertools.product([0, 1], repeat=9))
    for bits in itertools.islice(itertools.product([0, 1], repeat=9), 0, 512, 37):
        sides = dict(zip(g.nodes, bits))
        assert model.objective_value(sides) == pytest.approx(mc.cut(sides))
    result = hqopt.solve(mc, backend="cpsat", time_limit=20, seed=0, num_workers=1)
    assert result.status is hqopt.Status.OPTIMAL and result.objective == best == result.decoded["cut"]


def test_sa_reaches_small_optimum():
    mc = MaxCut.from_graph(nx.petersen_graph())
    result = hqopt.solve(mc, backend="sa", seed=1)
    assert result.objective == 12  # Petersen graph max cut


def test_reader_errors_and_sniff():
    with pytest.raises(FormatError) as info:
        parse_gset("3 2\n1 2 1\n2 5 1\n", "bad.txt")
    assert info.value.line == 3
    with pytest.raises(FormatError, match="self-loop"):
        parse_gset("3 1\n2 2 1\n", "loop.txt")
    assert FORMAT.sniff("3 2\n1 2 1\n2 3 -1\n")
    # a gka QUBO's head fits the graph sniffer too (mostly i != j lines); detection reads its i-i lines as linear terms
    gka_head = "50 156\n1 1 -100\n1 2 26\n2 5 3\n"
    assert FORMAT.sniff(gka_head) and hqopt.io.detect_format(Path("q.data"), gka_head).name == "biqmac"
    assert FORMAT.read("3 2\n1 2 1\n2 3 1\n", "t.txt", ReadOptions()).num_variables == 3
