"""Issue 13 (part A): readers refuse what would blow up, and say so in one short line naming the file.

Each test here failed before the fix it guards (see the issue's bullets).
"""

from __future__ import annotations

import gzip
import json
import re
import resource

import dimod
import numpy as np
import pytest

import hqopt
from hqopt import io
from hqopt.errors import FormatError, HqoptError, ModelError, SpecError
from hqopt.io.limits import LIMITS, Limits, overridden

from conftest import REPO


def _load_error(path) -> str:
    with pytest.raises(FormatError) as info:
        io.load(path)
    text = str(info.value)
    assert "\n" not in text and len(text) <= 500 and path.name in text
    return text


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ---------------------------------------------------------------- size caps
@pytest.mark.parametrize("name, header", [("tiny.rud", "1000000000 0\n"), ("tiny.txt", "2000000 1\n1 2 1\n")])
def test_gset_header_declaring_millions_of_vertices_is_refused_before_allocating(tmp_path, name, header):
    path = tmp_path / name
    path.write_text(header)
    before = _peak_rss()
    assert "more than the limit of" in _load_error(path)
    assert _peak_rss() - before < 200 * 2**20


def test_qap_spec_is_capped_like_the_dat_reader(tmp_path):
    n = 80
    row = "[" + ", ".join(["1"] * n) + "]"
    path = tmp_path / "big-qap.yaml"
    path.write_text(f"kind: qap\na: &row\n  [{', '.join([row] * n)}]\nb: *row\n")
    assert len(path.read_bytes()) < 20_000
    assert "n = 80 is more than the limit of 60" in _load_error(path)


def test_dimod_gzip_bomb_stops_at_the_decompression_cap(tmp_path):
    path = tmp_path / "bomb.bqm.gz"
    path.write_bytes(gzip.compress(b"DIMODBQM" + bytes(300 * 2**20), compresslevel=9))
    before = _peak_rss()
    with overridden(max_file_bytes=8 * 2**20):
        assert "bytes is more than the limit of 8388608" in _load_error(path)
    assert _peak_rss() - before < 100 * 2**20


def test_truncated_gzip_is_a_format_error_not_an_interrupt(tmp_path, capsys):
    from hqopt.cli.app import main

    cqm = dimod.CQM.from_bqm(dimod.BQM({"a": -1.0}, {}, 0.0, "BINARY"))
    packed = gzip.compress(cqm.to_file().read())
    path = tmp_path / "cut.cqm.gz"
    path.write_bytes(packed[: len(packed) // 2])
    assert "truncated" in _load_error(path)
    assert main(["info", str(path)]) == 2  # was 130 "interrupted" (click turned EOFError into Abort)
    assert "truncated" in capsys.readouterr().err


def test_limits_are_configurable_from_the_environment_and_in_code(tmp_path):
    assert Limits.from_env({"HQOPT_MAX_VARIABLES": "12"}).max_variables == 12
    with pytest.warns(UserWarning, match="HQOPT_MAX_QAP_N"):
        assert Limits.from_env({"HQOPT_MAX_QAP_N": "lots"}).max_qap_n == Limits().max_qap_n
    path = tmp_path / "g.txt"
    path.write_text("4 1\n1 2 1\n")
    assert io.load(path).num_variables == 4
    with overridden(max_variables=3):
        assert "HQOPT_MAX_VARIABLES" in _load_error(path)
    assert LIMITS.max_variables == Limits().max_variables


# ---------------------------------------------------------- bounded errors
def test_a_10mb_token_is_not_echoed_whole(tmp_path, capsys):
    from hqopt.cli.app import main

    path = tmp_path / "huge-token.txt"
    path.write_text("1\n3 1\n1 2 " + "7x" * 5_000_000 + "\n")
    text = _load_error(path)
    assert "10000000 characters" in text
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err) <= 510 and err.count("\n") == 1


def test_spec_errors_are_bounded_too(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text("kind: qubo\nterms: [[a, a, '" + "y" * 100_000 + "']]\n")
    with pytest.raises(SpecError) as info:
        io.load(path)
    assert len(str(info.value)) <= 500 and "long.yaml" in str(info.value)


# ------------------------------------------------------------ NaN, inf, bounds
def test_nan_bias_in_a_dimod_file_is_a_format_error(tmp_path):
    path = tmp_path / "nan.bqm"
    cqm = dimod.CQM.from_bqm(dimod.BQM({"a": float("nan"), "b": 1.0}, {}, 0.0, "BINARY"))
    path.write_bytes(cqm.to_file().read())
    assert "non-finite" in _load_error(path)


@pytest.mark.parametrize("backend", ["sa", "cpsat"])
def test_nan_and_inf_in_api_models_are_model_errors(backend):
    for bad in (float("nan"), float("inf")):
        bqm = dimod.BQM({"a": 1.0, "b": -1.0}, {("a", "b"): bad}, 0.0, "BINARY")
        with pytest.raises(ModelError, match="non-finite"):
            hqopt.solve(bqm, backend=backend, seed=0)
    cqm = dimod.CQM.from_bqm(dimod.BQM({"a": 1.0}, {}, 0.0, "BINARY"))
    cqm.add_constraint_from_iterable([("a", 1.0)], "<=", float("inf"), label="c")
    with pytest.raises(ModelError, match="right-hand side"):
        hqopt.solve(cqm, backend=backend, seed=0)


def test_inverted_integer_bounds_are_refused_in_lp_files_and_models(tmp_path):
    path = tmp_path / "inv.lp"
    path.write_text("Minimize\n obj: n\nSubject To\n c: n >= 0\nBounds\n 5 <= n <= 1\nGeneral\n n\nEnd\n")
    assert "inverted bounds" in _load_error(path)
    cqm = dimod.lp.loads(path.read_text())
    with pytest.raises(ModelError, match="inverted bounds"):
        hqopt.solve(cqm, backend="auto", seed=0)
    spec = tmp_path / "inv.yaml"
    spec.write_text("kind: cqm\nvariables: {n: {type: integer, lower: 5, upper: 1}}\nobjective: {linear: {n: 1}}\n")
    with pytest.raises(SpecError, match="must be >= lower"):
        io.load(spec)


def test_validate_is_fast_on_a_dense_model():
    model = hqopt.Model.from_bqm(dimod.BQM(np.random.default_rng(0).random((1500, 1500)), "BINARY"))
    assert model.validate() is model


# ------------------------------------------------------------ capa/capb/capc
CAPA = "2 3\ncapacity 5.\ncapacity 4.\n4\n1. 3.\n5\n2. 1.\n3\n4. 2.\n"


def test_capa_files_take_their_capacity_as_a_path_parameter(tmp_path, capsys):
    from hqopt.cli.app import main

    path = tmp_path / "capa.txt"
    path.write_text(CAPA)
    assert "FILE#capacity=" in _load_error(path)
    model = io.load(f"{path}#capacity=9")
    assert model.num_variables == 2 + 2 * 3 and model.metadata["format"] == "orlib-cap"
    tight = hqopt.solve(model, backend="cpsat", seed=0, num_workers=1)
    loose = hqopt.solve(io.load(f"{path}#capacity=100"), backend="cpsat", seed=0, num_workers=1)
    assert tight.feasible and loose.feasible and loose.objective < tight.objective  # capacity binds at 9
    assert main(["solve", f"{path}#capacity=9", "--backend", "cpsat", "--json", "-t", "5", "--seed", "0"]) == 0
    assert json.loads(capsys.readouterr().out)["objective"] == tight.objective
    with pytest.raises(FormatError, match="number >= 0"):
        io.load(f"{path}#capacity=-3")
    with pytest.raises(FormatError, match="not one the orlib-cap format takes"):
        io.load(f"{path}#capcity=9")


def test_unknown_path_parameters_are_refused_by_formats_without_them(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("3 1\n1 2 1\n")
    with pytest.raises(FormatError, match="it takes none"):
        io.load(f"{path}#capacity=9")


# ------------------------------------------------------------ YAML / JSON strictness
@pytest.mark.parametrize(
    "text, reason",
    [
        ("kind: cqm\nvariables: {1: binary, true: binary}\nobjective: {linear: {1: 1}}\n", "key must be text or an integer, got True"),
        ("kind: cqm\nvariables: {a: binary, a: spin}\nobjective: {linear: {a: 1}}\n", "key 'a' is given twice"),
        ("kind: qubo\nterms: [[a, a, 1]]\nterms: [[b, b, 1]]\n", "keys.yaml:3: key 'terms' is given twice (first on line 2)"),
        ("kind: cqm\nvariables: {null: binary}\n", "key must be text or an integer"),
        ("kind: cqm\nvariables: {1.5: binary}\n", "key must be text or an integer"),
    ],
)
def test_yaml_keys_are_text_or_integers_and_never_repeat(tmp_path, text, reason):
    path = tmp_path / "keys.yaml"
    path.write_text(text)
    assert reason in _load_error(path)


def test_duplicate_json_keys_are_refused_with_their_line(tmp_path):
    path = tmp_path / "dup.json"
    path.write_text('{"kind": "qubo",\n "terms": [[0, 0, 1]],\n "terms": [[1, 1, 1]]}\n')
    assert "dup.json:3: key 'terms' is given twice" in _load_error(path)


@pytest.mark.parametrize("second", ["binary", "integer"])
def test_a_cqm_variable_declared_twice_is_refused(tmp_path, second):
    """The list form of ``variables`` let a repeat through (the second silently ignored, or a dimod message)."""
    path = tmp_path / "dup.json"
    path.write_text(json.dumps({"kind": "cqm", "variables": [["x", "binary"], ["x", second]], "objective": {"linear": {"x": 1}}}))
    with pytest.raises(SpecError, match="dup.json: field 'variables.x': duplicate variable 'x'"):
        io.load(path)


def test_a_5000_digit_json_integer_is_a_clean_error(tmp_path):
    path = tmp_path / "big.json"
    path.write_text('{"kind": "qubo", "terms": [[0, 0, ' + "9" * 5000 + "]]}")
    assert _load_error(path).endswith("big.json:1: a whole number of 5000 digits: at most 4300 can be read")
    path = tmp_path / "big.yaml"
    path.write_text("kind: qubo\nterms: [[0, 0, " + "9" * 5000 + "]]\n")
    with pytest.raises(HqoptError, match="big.yaml:2: a whole number of 5000 digits"):
        io.load(path)


def test_yaml_aliases_count_as_what_they_expand_to(tmp_path):
    path = tmp_path / "laughs.yaml"
    lines = ["kind: qubo", "a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 10)}]" for k in range(1, 8)]
    path.write_text("\n".join(lines) + "\nterms: [[a, a, 1]]\n")
    assert "values in the spec is more than the limit" in _load_error(path)


@pytest.mark.parametrize(
    "text, line",
    [
        ("kind: qubo\nterms: &a [*a]\n", 2),  # hung: the loaded list contained itself and was counted forever
        ("kind: qubo\nterms: [[a, a, 1]]\nx: &m\n  y: [1, {z: *m}]\n", 3),  # the anchor's line
    ],
)
def test_a_yaml_alias_inside_what_it_names_is_refused_with_its_line(tmp_path, text, line):
    path = tmp_path / "self.yaml"
    path.write_text(text)
    with pytest.raises(FormatError) as caught:
        io.load(path)
    assert str(caught.value) == f"{path}:{line}: an alias refers to the list or mapping that contains it (a spec cannot contain itself)"


def test_an_alias_used_twice_is_not_a_cycle(tmp_path):
    path = tmp_path / "shared.yaml"
    path.write_text("kind: qubo\nterms: [&t [a, a, 1], *t]\n")
    assert io.load(path).evaluate({"a": 1}).objective == 2


def test_facility_spec_refuses_unknown_warehouse_and_customer_fields(tmp_path):
    path = tmp_path / "fac.yaml"
    path.write_text("kind: facility\nwarehouses: [{capacity: 10, fixed_cost: 5, colour: red}]\ncustomers: [{demand: 4, cost: [1]}]\n")
    with pytest.raises(SpecError, match=r"warehouses\[0\]\.colour': unknown field"):
        io.load(path)
    path.write_text("kind: facility\nwarehouses: [{capacity: 10}]\ncustomers: [{demand: 4, cost: [1], priority: 2}]\n")
    with pytest.raises(SpecError, match=r"customers\[0\]\.priority': unknown field"):
        io.load(path)


@pytest.mark.parametrize(
    "spec",
    [
        "kind: qubo\nterms: [[a, a, 1]]\nbogus: 1\n",
        "kind: cqm\nvariables: {a: binary}\nbogus: 1\n",
        "kind: knapsack\ncapacity: {kg: 1}\nitems: [{value: 1, weight: {kg: 1}, bogus: 1}]\n",
        "kind: maxcut\nedges: [[a, b]]\nbogus: 1\n",
        "kind: qap\na: [[0]]\nb: [[0]]\nbogus: 1\n",
        "kind: facility\nwarehouses: [{capacity: 1}]\ncustomers: [{demand: 1, cost: [1]}]\nbogus: 1\n",
    ],
)
def test_every_spec_kind_refuses_unknown_fields(tmp_path, spec):
    path = tmp_path / "s.yaml"
    path.write_text(spec)
    with pytest.raises(SpecError, match="bogus': unknown field"):
        io.load(path)


def test_tabu_refuses_a_model_its_dense_matrix_cannot_hold_and_auto_avoids_it():
    from hqopt.backends.anneal import MAX_TABU_VARIABLES
    from hqopt.errors import BackendError

    n = MAX_TABU_VARIABLES + 1
    bqm = dimod.BQM({i: -1.0 for i in range(n)}, {(0, 1): 1.0}, 0.0, "BINARY")
    before = _peak_rss()
    with pytest.raises(BackendError, match="dense n x n"):
        hqopt.solve(bqm, backend="tabu", time_limit=1, seed=0)
    assert _peak_rss() - before < 500 * 2**20
    result = hqopt.solve(bqm, time_limit=2, seed=0)
    assert "tabu" not in result.backend and result.feasible


@pytest.mark.parametrize("hierarchy", [False, True])
def test_a_placements_size_is_known_before_its_model_is_built(monkeypatch, hierarchy):
    from hqopt.formulations import placement
    from hqopt.formulations.placement_generator import generate_placement

    if hierarchy:  # zone/region variables instead of a term per pair of sites
        monkeypatch.setattr(placement, "DENSE_MAX_TERMS", 10)
    spec = generate_placement(30, 6, seed=2)
    spec.pop("kind")
    p = placement.Placement.from_spec(spec)
    variables, couplings = p.model_size()
    model = p.to_model()
    assert model.metadata["communication_encoding"] == ("hierarchy" if hierarchy else "site pairs")
    assert variables == model.num_variables
    actual = model.cqm.objective.num_interactions  # fewer: zero latencies and merged pairs drop out
    assert actual <= couplings <= 1.5 * actual


def test_generate_refuses_a_placement_solve_would_refuse(tmp_path, capsys, monkeypatch):
    from hqopt.cli.app import main
    from hqopt.formulations import placement

    monkeypatch.setattr(placement, "DENSE_MAX_TERMS", 10)  # zone and region variables, as large placements get
    with overridden(max_variables=485):  # 480 assignment variables pass the first check; the model's do not
        assert main(["generate", "placement", "--services", "40", "--sites", "12", "-o", str(tmp_path / "g.yaml")]) == 2
    err = capsys.readouterr().err
    assert "more than the limit of 485" in err and "fewer --services or --sites" in err and not (tmp_path / "g.yaml").exists()


def test_a_maxcut_edge_whose_ends_are_one_vertex_by_name_is_named_by_its_field(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text('kind: maxcut\nedges: [[1, "1", 5], [1, 2]]\n')  # 1 and "1" name one vertex
    with pytest.raises(SpecError, match=r"m.yaml: field 'edges\[0\]': .*u != v; both ends are '1'"):
        io.load(path)


@pytest.mark.parametrize(
    "body, message",
    [
        ("kind: qubo\nname: off\nterms: [[a, b, 1]]\n", "got False (YAML reads off/no/on/yes as false: quote the name)"),
        ("kind: qubo\nterms: [[a, b, 1e400]]\n", "got '1e400' (1e400 is beyond the largest number, about 1.8e+308)"),
    ],
)
def test_yaml_quirks_get_a_hint_that_works(tmp_path, body, message):
    path = tmp_path / "q.yaml"
    path.write_text(body)
    with pytest.raises(SpecError, match=re.escape(message)):
        io.load(path)


def test_a_huge_instance_number_is_named_as_beyond_the_files_count():
    with pytest.raises(FormatError, match=r"instance #999999999999\.\.\. is beyond any file's count of problems"):
        io.load(str(REPO / "problems/qubo/bqp50.txt") + "#99999999999999999999999")


@pytest.mark.parametrize("tail, message", [("#" + "9" * 5000, "is beyond any file's count of problems"), ("#0000000001", None), ("#000", "instance numbers start at 1")])
def test_instance_numbers_of_any_length_are_read_or_refused_in_one_line(tail, message):
    path = str(REPO / "problems/qubo/bqp50.txt") + tail
    if message is None:
        assert io.load(path).metadata["instance"] == 1
        return
    with pytest.raises(FormatError, match=message):
        io.load(path)
