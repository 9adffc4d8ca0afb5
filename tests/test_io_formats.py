"""Readers and writers of hqopt.io: sign conventions against best-known values, detection, round trips."""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dimod
import numpy as np
import pytest

import hqopt
from hqopt import io
from hqopt.errors import FormatError, ModelError, SpecError

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ROOT / "problems"
SHARED = ROOT.parent / "shared" / "benchmarks"


def best_known(folder: str, name: str) -> float:
    """The best-known value from the shared benchmarks, or from the copy in tests/data."""
    path = SHARED / folder / "best_known.csv"
    if not path.exists():
        path = ROOT / "tests" / "data" / f"{folder}_best_known.csv"
    with open(path) as fh:
        return float({row["instance"]: row["best_known"] for row in csv.DictReader(fh)}[name])


def raw_objective(path: Path, instance: int, x: dict[int, int]) -> float:
    """x'Qx with Q symmetric, read independently of hqopt (OR-Library/Biq Mac layout)."""
    tokens = path.read_text().split()
    pos = 1 if path.suffix == ".txt" else 0
    for _ in range(instance):
        n, m = int(tokens[pos]), int(tokens[pos + 1])
        entries = np.array(tokens[pos + 2 : pos + 2 + 3 * m], dtype=float).reshape(m, 3)
        pos += 2 + 3 * m
    q = np.zeros((n, n))
    for i, j, v in entries:
        q[int(i) - 1, int(j) - 1] = q[int(j) - 1, int(i) - 1] = v
    vec = np.array([x[i] for i in range(1, n + 1)], dtype=float)
    return float(vec @ q @ vec)


# ------------------------------------------------------------ sign conventions
@pytest.mark.parametrize("spec, instance", [("qubo/bqp50.txt", 1), ("qubo/bqp50.txt", 7), ("qubo/gka1a.sparse", 1)])
def test_objective_is_symmetric_x_Q_x(spec, instance):
    path = PROBLEMS / spec
    model = io.load(f"{path}#{instance}") if path.suffix == ".txt" else io.load(path)
    rng = np.random.default_rng(instance)
    for _ in range(5):
        x = {v: int(b) for v, b in zip(model.variables, rng.integers(0, 2, model.num_variables))}
        assert model.objective_value(x) == pytest.approx(raw_objective(path, instance, x))


@pytest.mark.parametrize("target, name", [("qubo/bqp50-1.txt", "bqp50.1"), ("qubo/bqp50.txt#3", "bqp50.3")])
def test_orlib_bqp_tabu_reaches_best_known(target, name):
    model = io.load(PROBLEMS / target)
    assert model.sense.value == "max" and model.num_variables == 50
    result = hqopt.solve(model, backend="tabu", seed=1)
    assert result.objective == best_known("bqp_orlib", name)
    assert model.evaluate(result.solution).objective == result.objective


@pytest.mark.parametrize("name", ["gka1a", "gka1b"])
def test_biqmac_tabu_reaches_best_known(name):
    model = io.load(PROBLEMS / "qubo" / f"{name}.sparse")
    assert model.sense.value == "min"
    result = hqopt.solve(model, backend="tabu", seed=2)
    assert result.objective == best_known("bqp_gka", name)


def test_bqp_instances_differ_and_out_of_range_is_an_error():
    first, tenth = io.load(PROBLEMS / "qubo/bqp50.txt#1"), io.load(PROBLEMS / "qubo/bqp50.txt", instance=10)
    assert first.name == "bqp50.1" and tenth.name == "bqp50.10"
    assert not same_qm(first.cqm.objective, tenth.cqm.objective)
    with pytest.raises(FormatError, match="instance 11 asked for, but the file holds 10"):
        io.load(PROBLEMS / "qubo/bqp50.txt#11")


# ----------------------------------------------------------------- LP and spec
def brute_force_best(model: hqopt.Model) -> float:
    best = None
    labels = model.variables
    domains = [range(int(model.cqm.lower_bound(v)), int(model.cqm.upper_bound(v)) + 1) for v in labels]
    for values in itertools.product(*domains):
        ev = model.evaluate(dict(zip(labels, values)))
        if ev.feasible and (best is None or model.sense.sign * ev.objective < model.sense.sign * best):
            best = ev.objective
    return best


@pytest.mark.parametrize(
    "name, sense, optimum",
    [("lp/knapsack.lp", "max", 57), ("lp/assignment.lp", "min", 6), ("spec/production.yaml", "max", 42),
     ("spec/tiny-qubo.yaml", "min", -5), ("spec/knapsack.yaml", "max", 26)],
)
def test_small_files_optimum_matches_brute_force(name, sense, optimum):
    model = io.load(PROBLEMS / name)
    assert model.sense.value == sense
    assert brute_force_best(model) == optimum
    result = hqopt.solve(model, backend="exact")
    assert result.objective == optimum and result.status.value == "optimal"


def test_lp_infeasible_file_is_proven_infeasible():
    model = io.load(PROBLEMS / "lp/infeasible.lp")
    assert brute_force_best(model) is None
    assert hqopt.solve(model, backend="cpsat", time_limit=5, seed=0).status.value == "infeasible"


def test_lp_refuses_continuous_variables_and_non_lp_text(tmp_path):
    path = tmp_path / "real.lp"
    path.write_text("Minimize\n obj: x + y\nSubject To\n c: x + y >= 1\nBinary\n x\nEnd\n")
    with pytest.raises(FormatError, match="'y' is continuous"):
        io.load(path)
    path.write_text("hello world\n")
    with pytest.raises(FormatError, match="not an LP file"):
        io.load(path)


def test_spec_numbers_yaml_reads_as_text_and_infinite_ones_say_why(tmp_path):
    path = tmp_path / "n.yaml"
    path.write_text("kind: qubo\nterms:\n  - [a, a, 1e308]\n")  # YAML 1.1: no dot, no exponent sign: a string
    with pytest.raises(SpecError, match=re.escape("field 'terms[0]': must be a number, got '1e308' (YAML reads 1e308 as text: write 1.0e+308)")):
        io.load(path)
    path.write_text("kind: qubo\nterms:\n  - [a, a, 1.0e+308]\n")
    assert io.load(path).evaluate({"a": 1}).objective == 1e308
    path = tmp_path / "n.json"
    path.write_text('{"kind": "qubo", "terms": [["a", "a", 1e999]]}')
    with pytest.raises(SpecError, match=re.escape("field 'terms[0]': must be a finite number, got inf")):
        io.load(path)
    path.write_text('{"kind": "qubo", "terms": [["a", "a", "lots"]]}')
    with pytest.raises(SpecError, match=re.escape("must be a number, got 'lots'") + "$"):
        io.load(path)


def test_spec_unknown_fields_and_kinds_are_errors(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("kind: qubo\nterms: [[a, a, 1]]\ncolour: blue\n")
    with pytest.raises(SpecError, match="field 'colour': unknown field"):
        io.load(path)
    path.write_text("kind: cqm\nvariables: {a: binary}\nobjective: {linear: {b: 1}}\n")
    with pytest.raises(SpecError, match=r"objective.linear.b.*not declared"):
        io.load(path)
    path.write_text("kind: teleport\n")
    with pytest.raises(SpecError, match="unknown kind 'teleport'"):
        io.load(path)
    path.write_text("kind: knapsack\ncapacity: {kg: 1}\nitems: [{name: a, value: 1, weight: {kg: 1}, colour: red}]\n")
    with pytest.raises(SpecError, match=r"items\[0\].colour"):
        io.load(path)
    path.write_text("kind: qubo\nterms: [[a, a, 1]\n")
    with pytest.raises(FormatError, match=r"bad.yaml:\d+: invalid YAML"):
        io.load(path)


def test_qubo_spec_matrix_means_x_Q_x(tmp_path):
    path = tmp_path / "m.json"
    path.write_text('{"kind": "qubo", "matrix": [[-1, 2], [0, -1]]}')
    model = io.load(path)
    assert model.evaluate({0: 1, 1: 1}).objective == 0.0 and model.evaluate({0: 1, 1: 0}).objective == -1.0



@pytest.mark.parametrize("vartype, values", [("binary", (0, 1)), ("spin", (-1, 1))])
def test_qubo_spec_matrix_is_x_Q_x_for_every_assignment(tmp_path, vartype, values):
    Q = np.array([[5.0, 1.0, -2.0], [1.0, 0.0, 3.0], [0.5, -4.0, 2.0]])
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"kind": "qubo", "vartype": vartype, "matrix": Q.tolist()}))
    model = io.load(path)
    for x in itertools.product(values, repeat=3):
        assert model.evaluate(dict(enumerate(x))).objective == pytest.approx(np.array(x) @ Q @ np.array(x))


# ------------------------------------------------------------------- detection
@pytest.mark.parametrize(
    "name, fmt",
    [("qubo/bqp50.txt", "orlib-bqp"), ("qubo/gka1a.sparse", "biqmac"), ("lp/knapsack.lp", "lp"),
     ("spec/production.yaml", "spec"), ("qap/chr12a.dat", "qaplib"), ("facility/cap71.txt", "orlib-cap"),
     ("maxcut/G1.txt", "gset"), ("placement/small.yaml", "spec")],
)
def test_detect_format_of_shipped_files(name, fmt, tmp_path):
    path = PROBLEMS / name
    assert io.detect_format(path, path.read_text()).name == fmt
    # without a telling extension, the content decides
    blind = tmp_path / "problem.data"
    shutil.copy(path, blind)
    assert io.detect_format(blind, blind.read_text()).name == fmt


def test_gzip_is_transparent(tmp_path):
    path = tmp_path / "bqp50.txt.gz"
    path.write_bytes(gzip.compress((PROBLEMS / "qubo/bqp50.txt").read_bytes()))
    zipped, plain = io.load(f"{path}#4"), io.load(PROBLEMS / "qubo/bqp50.txt#4")
    assert same_qm(zipped.cqm.objective, plain.cqm.objective)


def test_format_override_and_unknown_format(tmp_path):
    path = tmp_path / "weird.name"
    shutil.copy(PROBLEMS / "qubo/gka1a.sparse", path)
    assert io.load(path, format="biqmac").num_variables == 50
    with pytest.raises(FormatError, match="unknown format 'nope'"):
        io.load(path, format="nope")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(FormatError, match="empty"):
        io.load(tmp_path / "empty.txt")


# ------------------------------------------------------------------ round trips
def same_qm(a, b) -> bool:
    """Same non-zero terms (order-free, within 1e-9) and offset."""
    def terms(qm):
        quad = {frozenset((u, v)): bias for (u, v), bias in qm.quadratic.items() if bias}
        return {v: bias for v, bias in qm.linear.items() if bias}, quad, qm.offset

    (la, qa, oa), (lb, qb, ob) = terms(a), terms(b)
    return la == pytest.approx(lb, abs=1e-9) and qa == pytest.approx(qb, abs=1e-9) and oa == pytest.approx(ob)


def same_model(a: hqopt.Model, b: hqopt.Model, relabel: dict | None = None, constraint_name=lambda c: c) -> None:
    cqm = a.cqm.relabel_variables(relabel, inplace=False) if relabel else a.cqm
    assert a.sense == b.sense
    assert same_qm(cqm.objective, b.cqm.objective)
    assert set(cqm.variables) == set(b.cqm.variables)
    assert {v: cqm.vartype(v) for v in cqm.variables} == {v: b.cqm.vartype(v) for v in b.cqm.variables}
    assert len(cqm.constraints) == len(b.cqm.constraints)
    for la, ca in cqm.constraints.items():
        cb = b.cqm.constraints[constraint_name(la)]
        assert ca.sense == cb.sense and ca.rhs - ca.lhs.offset == pytest.approx(cb.rhs - cb.lhs.offset)
        assert ca.lhs.linear == pytest.approx(dict(cb.lhs.linear)) and ca.lhs.quadratic == pytest.approx(dict(cb.lhs.quadratic))


@pytest.mark.parametrize("out", ["x.qubo", "x.lp", "x.yaml", "x.json", "x.sparse", "x.bqp", "x.cqm"])
@pytest.mark.parametrize("source", ["qubo/bqp50.txt#2", "qubo/gka1a.sparse"])
def test_qubo_round_trips(source, out, tmp_path):
    model = io.load(PROBLEMS / source)
    io.save(model, tmp_path / out)
    back = io.load(tmp_path / out)
    if out.endswith(".lp"):
        same_model(model, back, {v: f"x{v}" for v in model.variables})
    elif out.endswith((".cqm", ".sparse")) and model.sense.value == "max":
        assert back.sense.value == "min"  # these formats store the minimisation form
        assert same_qm(back.cqm.objective, model.minimization_objective())
    elif out.endswith(".bqp") and model.sense.value == "min":
        assert back.sense.value == "max" and same_qm(back.cqm.objective, -model.minimization_objective())
    else:
        same_model(model, back)


@pytest.mark.parametrize("out", ["x.lp", "x.yaml", "x.cqm"])
@pytest.mark.parametrize("source", ["lp/knapsack.lp", "lp/assignment.lp", "spec/production.yaml"])
def test_constrained_round_trips(source, out, tmp_path):
    model = io.load(PROBLEMS / source)
    io.save(model, tmp_path / out)
    back = io.load(tmp_path / out)
    if out.endswith(".cqm") and model.sense.value == "max":
        assert same_qm(back.cqm.objective, model.minimization_objective())
        return
    same_model(model, back)


def test_qaplib_to_lp_round_trips(tmp_path):
    model = io.load(PROBLEMS / "qap/chr12a.dat")
    io.save(model, tmp_path / "chr12a.lp")
    back = io.load(tmp_path / "chr12a.lp")
    from hqopt.io.lp import lp_name

    same_model(model, back, {v: lp_name(v) for v in model.variables}, lambda c: lp_name(c, "c"))


def test_coo_reads_qbsolv_files_and_keeps_exact_values(tmp_path):
    path = tmp_path / "q.qubo"
    path.write_text("c a qbsolv file\np qubo 0 3 2 1\n0 0 -1.5\n2 2 0.125\n0 2 3.0000001\n")
    model = io.load(path)
    assert model.objective_value({0: 1, 1: 0, 2: 1}) == pytest.approx(-1.5 + 0.125 + 3.0000001, abs=1e-12)
    io.save(model, tmp_path / "again.coo")
    same_model(model, io.load(tmp_path / "again.coo"))
    path.write_text("0 0 1\n0 1 x\n")
    with pytest.raises(FormatError, match=r"q.qubo:2: the bias must be a plain decimal number like -1.5 .*, got 'x'"):
        io.load(path)


def test_writers_refuse_what_they_cannot_hold(tmp_path):
    constrained = io.load(PROBLEMS / "lp/knapsack.lp")
    with pytest.raises(ModelError, match="unconstrained models only"):
        io.save(constrained, tmp_path / "k.qubo")
    with pytest.raises(ModelError, match="non-negative integers"):
        io.save(hqopt.Model.from_qubo({("a", "b"): 1}), tmp_path / "k.coo")
    with pytest.raises(FormatError, match="read-only"):
        io.save(io.load(PROBLEMS / "maxcut/G1.txt"), tmp_path / "g.txt", format="gset")
    with pytest.raises(ModelError, match="OR-Library bqp files hold unconstrained models only"):
        io.save(constrained, tmp_path / "k.txt")  # .txt: the only writable claimant is orlib-bqp
    with pytest.raises(FormatError, match="cannot tell the output format"):
        io.save(constrained, tmp_path / "k.foo")


def test_dimod_files_of_any_model_kind(tmp_path):
    bqm = dimod.BQM({"a": 1.0, "b": -2.0}, {("a", "b"): 0.5}, 1.0, "BINARY")
    (tmp_path / "m.bqm").write_bytes(bqm.to_file().read())
    model = io.load(tmp_path / "m.bqm")
    assert model.objective_value({"a": 1, "b": 1}) == bqm.energy({"a": 1, "b": 1})
    (tmp_path / "corrupt.cqm").write_bytes(b"DIMODCQM\x02\x00garbage")
    with pytest.raises(FormatError, match="not a readable dimod file"):
        io.load(tmp_path / "corrupt.cqm")


def test_plain_import_hqopt_reaches_the_readers():
    """README: ``import hqopt`` then ``hqopt.io.load(...)`` (an AttributeError before)."""
    import subprocess
    import sys

    code = "import hqopt; print(hqopt.io.load(sys.argv[1]).num_variables)"
    done = subprocess.run([sys.executable, "-c", "import sys; " + code, str(PROBLEMS / "qubo/bqp50.txt") + "#3"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "50"


@pytest.mark.parametrize(
    "selector, instance, message",
    [
        ("#abc", None, "#abc picks nothing: use #K"),  # was "no such file", about a file that exists
        ("#2", 3, "#2 and instance 3 pick different problems"),  # instance 3 was used without a word
    ],
)
def test_a_selector_that_picks_nothing_or_disagrees_is_named(selector, instance, message):
    with pytest.raises(hqopt.FormatError, match=message):
        io.load(str(PROBLEMS / "qubo/bqp50.txt") + selector, instance=instance)
    assert io.load(str(PROBLEMS / "qubo/bqp50.txt") + "#3", instance=3).name == io.load(PROBLEMS / "qubo/bqp50.txt#3").name



# ------------------------------------------------- LP structure checked before dimod's reader
#: valid LP constructs; each must read exactly as dimod reads it (the check adds no false alarm)
VALID_LP = {
    "multi-line": "Minimize\n obj: 3 x1 + 2 x2\n + 4 x3\n - x4\nSubject To\n c1: x1 + x2\n + x3 <= 2\nBinary\n x1 x2 x3 x4\nEnd\n",
    "operator ends a line": "Minimize\n obj: 3 x1 + 2 x2 +\n 4 x3 -\n x4\nSubject To\n c1: x1 + x2 +\n x3 <= 2\nBinary\n x1 x2 x3 x4\nEnd\n",
    "quadratic": "Minimize\n obj: x + [ 2 x * y - 3 y ^ 2 + x*y ] / 2\nSubject To\n c: x + [ x * y ] <= 1\nBinary\n x y\nEnd\n",
    "no spaces": "Minimize\n obj: x+[2x*y-3y^2]/2\nSubject To\n c:x+y<=1\nBinary\n x y\nEnd\n",
    "bracket first": "Minimize\n obj: + [ 4 x * y ]/2 - 1\nSubject To\n c: [ - x * y ] + x >= -1\nBinary\n x y\nEnd\n",
    "constants": "Maximize\n obj: 3 + 2 x - 5 + 1e-3 y + .5 z - 2.5e2\nSubject To\n c: x + y + z <= 2\nBinary\n x y z\nEnd\n",
    "negative": "Minimize\n obj: -3 x1 - 2 x2 + -4 x3 - -1 x4\nSubject To\n c1: -x1 - x2 >= -1\n c2: - x3 + - x4 = - 1\nBinary\n x1 x2 x3 x4\nEnd\n",
    "unlabelled": "Minimize\n x1 + x2 - x3\nSubject To\n x1 + x2 >= 1\n - x1 + x3 <= 0\nBinary\n x1 x2 x3\nEnd\n",
    "comments": "\\ head\nMinimize \\ c\n obj: x \\ + y\n + y ; + 7\nSubject To\n c1: x + y >= 1 \\ +\nBinary\n x y\nEnd\n",
    "names": "Minimize\n obj: x.1 + y_2 + z#3 + a(1) + b{c} + t!u + x%y\nSubject To\n c.1: x.1 + y_2 >= 1\nBinary\n x.1 y_2 z#3 a(1) b{c} t!u x%y\nEnd\n",
    "bounds": "Maximize\n obj: 2 n + m + k\nSubject To\n c: n + m <= 7\nBounds\n 0 <= n <= 5 -3 <= m <= +4\n k >= -2\n k <= 3\nGeneral\n n m k\nEnd\n",
    "short keywords": "max\n x + y\nst\n x + y <= 1 d: x - y >= -1\nbin\n x y\nend\n",
    "two signs": "Minimize\n obj: x + + y - - z + - w\nSubject To\n c: x + y + z + w >= 1\nBinary\n x y z w\nEnd\n",
    "3x": "Minimize\n obj: 3x + 2y\nSubject To\n c: 3x + 2y >= 1\nBinary\n x y\nEnd\n",
    "crlf": "Minimize\r\n obj: x + y\r\nSubject To\r\n c: x + y >= 1\r\nBinary\r\n x y\r\nEnd\r\n",
    "no objective": "Subject To\n c: x + y >= 1\nBinary\n x y\nEnd\n",
}


@pytest.mark.parametrize("name", sorted(VALID_LP))
def test_valid_lp_constructs_read_as_dimod_reads_them(name):
    text = VALID_LP[name]
    model = io.get_format("lp").read(text, "t.lp", io.ReadOptions())
    cqm = dimod.lp.loads(text)
    expected = cqm.objective.energy if model.sense.value == "min" else (lambda s: -cqm.objective.energy(s))
    rng = np.random.default_rng(0)
    for _ in range(5):
        sample = {v: int(rng.integers(cqm.lower_bound(v), cqm.upper_bound(v) + 1)) for v in cqm.variables}
        assert model.evaluate(sample).objective == pytest.approx(expected(sample))
    assert model.num_constraints == len(cqm.constraints)


def test_lp_sense_comes_from_the_section_keyword_not_the_first_line():
    text = "/* two words */\nMaximize\n obj: x\nSubject To\n c: x <= 1\nBinary\n x\nEnd\n"
    assert io.get_format("lp").read(text, "t.lp", io.ReadOptions()).sense.value == "max"


def test_dimod_written_lp_files_pass_the_check(tmp_path):
    rng = np.random.default_rng(1)
    for trial in range(30):
        cqm = dimod.ConstrainedQuadraticModel()
        names = [f"v{i}" for i in range(int(rng.integers(2, 25)))]
        for v in names:
            cqm.add_variable("INTEGER" if rng.random() < 0.3 else "BINARY", v, lower_bound=-2, upper_bound=5)
        objective = dimod.QuadraticModel()
        for v in names:
            objective.add_variable(cqm.vartype(v), v, lower_bound=cqm.lower_bound(v), upper_bound=cqm.upper_bound(v))
            objective.add_linear(v, float(rng.normal() * 100))
        objective.add_quadratic(names[0], names[1], -2.5)
        objective.offset = float(rng.normal())
        cqm.set_objective(objective)
        cqm.add_constraint_from_iterable([(names[0], -1), (names[1], 3), (names[0], names[1], 2)], "<=", -1.5, label="c")
        path = tmp_path / f"m{trial}.lp"
        path.write_text(dimod.lp.dumps(cqm))
        model = io.load(path)
        assert model.num_constraints == 1 and model.num_variables == len(names)


@pytest.mark.parametrize(
    "body, line, reason",
    [
        ("Maximize\n obj: 3 x1 + 2 x2 +\nSubject To\n c1: x1 + x2 <= 1\nBinary\n x1 x2\nEnd\n", 2, "the objective has a '+' with no term after it (before 'Subject To')"),
        ("Maximize\n obj: 3 x1 + 2 x2 -\nSubject To\n c1: x1 + x2 <= 1\nBinary\n x1 x2\nEnd\n", 2, "the objective has a '-' with no term"),
        ("Maximize\n obj: 3 x1 x2\nSubject To\n c1: x1 + x2 <= 1\nBinary\n x1 x2\nEnd\n", 2, "missing '+' or '-' before 'x2'"),
        ("Maximize\n obj: 3 x1 2 x2\nSubject To\n c1: x1 + x2 <= 1\nBinary\n x1 x2\nEnd\n", 2, "missing '+' or '-' before '2'"),
        ("Maximize\n obj: x1\nSubject To\n c1: x1 + <= 1\nBinary\n x1\nEnd\n", 4, "this constraint has a '+' with no term after it (before '<=')"),
        ("Maximize\n obj: x1\nSubject To\n c1: x1 x2 <= 1\nBinary\n x1 x2\nEnd\n", 4, "missing '+' or '-' before 'x2'"),
        ("Maximize\n obj: x1\nSubject To\n c1: x1 + x2 +\n c2: x1 <= 1\nBinary\n x1 x2\nEnd\n", 4, "has a '+' with no term after it (before the label 'c2:')"),
        ("Maximize\n obj: x1 +\n c1: x1 <= 1\nBinary\n x1\nEnd\n", 2, "(before the label 'c1:')"),
        ("Maximize\n obj: x1\nSubject To\n c1: x1 <= 1 + 1\nBinary\n x1\nEnd\n", 4, "'+' after the right-hand side"),
        ("Minimize\n obj: x\nSubject To\n c: x + y >= 1\nBounds\n x >= -\n y free\nGeneral\n x\nEnd\n", 6, "this bound has a '-' with no number"),
        ("Minimize\n obj: [ x * y y * x ]/2\nSubject To\n c: x >= 0\nBinary\n x y\nEnd\n", 2, "missing '+' or '-' before 'y' inside [ ]"),
        ("Minimize\n obj: [ x * y ]\nSubject To\n c: x >= 0\nBinary\n x y\nEnd\n", 2, "end with ']/2'"),
        ("Minimize\n obj: x - [ x * y ]/2\nSubject To\n c: x >= 0\nBinary\n x y\nEnd\n", 2, "'-' before '['"),
        ("junk\nMaximize\n obj: x\nSubject To\n c: x <= 1\nBinary\n x\nEnd\n", 1, "'junk' before the first section"),
        ("Minimize\n obj: x\nMaximize\n obj2: y\nSubject To\n c: x + y <= 1\nBinary\n x y\nEnd\n", 3, "a second objective section"),
        ("Minimize\n obj: x\nSubject To\n c: x < 1\nBinary\n x\nEnd\n", 4, "'<' is not a constraint sense"),
        ("Maximize\n obj: x /* one */ + y\nSubject To\n c: x + y <= 1\nBinary\n x y\nEnd\n", 2, "does not see the end of this /* comment */"),
    ],
)
def test_lp_mistakes_dimod_reads_silently_or_without_a_line_are_named(tmp_path, body, line, reason):
    path = tmp_path / "t.lp"
    path.write_text(body)
    with pytest.raises(FormatError) as info:
        io.load(path)
    assert info.value.line == line and reason in info.value.reason
    assert str(info.value).startswith(f"{path}:{line}: not a valid LP file: ")


# ------------------------------------------------- Gset vs Biq Mac detection
@pytest.mark.parametrize(
    "text, line, reason",
    [
        ("4 4\n1 2 1\n2 3 1\n3 3 1\n3 4 1\n", 4, "self-loop on vertex 3"),
        ("4 4\n1 2 1\n2 3\n3 4 1\n1 4 1\n", 3, "expected an edge 'i j w' (two vertices and a weight), got 2 values"),
        ("4 3\n1 2 1\n2 3 1 1\n3 4 1\n", 3, "got 4 values"),
    ],
)
def test_a_gset_file_with_a_bad_line_gets_gsets_error_not_another_format(tmp_path, text, line, reason):
    path = tmp_path / "g.txt"
    path.write_text(text)
    assert io.detect_format(path, text).name == "gset"
    with pytest.raises(FormatError) as info:
        io.load(path)
    assert info.value.line == line and reason in info.value.reason


def test_a_mostly_unit_weight_graph_is_gset_and_a_graph_like_qubo_asks_for_format(tmp_path):
    weighted = tmp_path / "g2.txt"
    weighted.write_text("4 3\n1 2 1\n2 3 1.5\n3 4 1\n")
    model = io.load(weighted)
    assert model.metadata["format"] == "gset" and model.sense.value == "max"
    assert model.evaluate({1: 0, 2: 1, 3: 0, 4: 1}).objective == 3.5
    both = tmp_path / "g4.txt"
    both.write_text("4 3\n1 2 2.5\n2 3 1.5\n3 4 3\n")
    with pytest.raises(FormatError, match="pass --format gset or --format biqmac"):
        io.load(both)
    assert io.load(both, format="biqmac").metadata["format"] == "biqmac"
    qubo = tmp_path / "q.txt"
    qubo.write_text("3 3\n1 1 -3\n1 2 2\n2 2 5\n")  # diagonal entries: linear terms, a QUBO
    assert io.load(qubo).metadata["format"] == "biqmac"


@pytest.mark.parametrize(
    "name, text, outcome",
    [
        ("w.rud", "4 4\n1 2 3\n2 3 2\n3 3 1\n3 4 2\n", "w.rud:4: self-loop on vertex 3"),  # weighted, a self-loop
        ("w.txt", "3 2\n1 1 1\n2 3 1\n", "w.txt:2: self-loop on vertex 1"),  # small, +-1, a self-loop
        ("w.txt", "5 4\n1 2 1\n2 2 1\n3 4 -1\n4 4 1\n", "w.txt:3: self-loop on vertex 2"),  # two self-loops
        ("w.rud", "3 2\n1 2 1.5\n2 3 1\n", "gset"),  # .rud is Gset's own extension: no question asked
        ("w.rud", "3 2\n1 2 2.5\n2 3 4\n", "gset"),
    ],
)
def test_a_graph_is_never_read_as_a_minimised_qubo_by_content(tmp_path, name, text, outcome):
    path = tmp_path / name
    path.write_text(text)
    if outcome == "gset":
        model = io.load(path)
        assert model.metadata["format"] == "gset" and model.sense.value == "max"
        return
    with pytest.raises(FormatError, match=re.escape(outcome) + ".*name it .sparse or pass --format biqmac"):
        io.load(path)


def _shipped(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern)) if folder.is_dir() else []


def test_every_shipped_graph_and_qubo_file_is_detected_as_before():
    gset_files = _shipped(SHARED / "gset", "G*.txt") + [PROBLEMS / "maxcut/G1.txt"]
    sparse = _shipped(SHARED / "bqp_gka", "*.sparse") + _shipped(PROBLEMS / "qubo", "*.sparse")
    for path in gset_files:
        assert io.detect_format(path, path.read_text()[:8192]).name == "gset", path
    for path in sparse:
        head = path.read_text()[:8192]
        assert io.detect_format(path, head).name == "biqmac", path
        assert io.detect_format(path.with_suffix(".data"), head).name == "biqmac", path  # by content alone too
        # named .txt, a graph's extension, it is a graph with self-loops: refused with the line and a hint
        assert io.detect_format(path.with_suffix(".txt"), head).name == "gset", path


# ------------------------------------------------- spec kinds
def test_an_unknown_kind_lists_every_kind(tmp_path):
    path = tmp_path / "k.yaml"
    path.write_text("kind: knapsak\n")
    with pytest.raises(SpecError) as info:
        io.load(path)
    assert "known kinds: cqm, facility, knapsack, maxcut, placement, qap, qubo" in str(info.value)


def test_a_tune_spec_given_to_solve_says_so():
    with pytest.raises(SpecError, match="this looks like an `hqopt tune` spec"):
        io.load(PROBLEMS / "hpo/churn.yaml")


def test_long_rows_and_blank_runs_are_checked_in_linear_time(tmp_path):
    """Two inputs that made the LP check take exponential or quadratic time, run in a subprocess so
    that a regression fails the test instead of hanging the suite:

    * a row of 34 or more 'coefficient name' terms (an ambiguous number pattern backtracked over every
      split of every coefficient; cap71 written as LP by ``hqopt convert`` never loaded);
    * a long run of form feeds or lone carriage returns (each token in it scanned the rest of the run,
      where strtod would skip blanks before a number: 16 KB took 14 s).
    """
    terms = " + ".join(f"{1000 + 37 * i} x{i}" for i in range(1, 301))  # 4-digit coefficients: many splits each
    names = " ".join(f"x{i}" for i in range(1, 301))
    (tmp_path / "row.lp").write_text(f"Minimize\n obj: {terms}\nSubject To\n c1: {terms} >= 5000\nBinary\n {names}\nEnd\n")
    (tmp_path / "blanks.lp").write_text("Minimize\n obj: x " + "\r " * 30_000 + "+ y\nSubject To\n c: x + y >= 1\nBinary\n x y\nEnd\n")
    original = io.load(PROBLEMS / "facility/cap71.txt")
    io.save(original, tmp_path / "cap71.lp")
    script = (
        "import sys; from hqopt import io; from hqopt.errors import FormatError\n"
        "row = io.load(sys.argv[1]); cap = io.load(sys.argv[2])\n"
        "print(row.num_variables, row.num_constraints, cap.num_variables, cap.num_constraints)\n"
        "try:\n    io.load(sys.argv[3])\nexcept FormatError as exc:\n    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *(str(tmp_path / f) for f in ("row.lp", "cap71.lp", "blanks.lp"))],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    sizes, refusal = done.stdout.split("\n", 1)
    assert sizes.split() == ["300", "1", str(original.num_variables), str(original.num_constraints)]
    assert refusal.strip() == f"{tmp_path / 'blanks.lp'}:2: not a valid LP file: missing '+' or '-' before '\\r'"


@pytest.mark.parametrize("name", ["qubo/bqp50.txt", "lp/knapsack.lp", "qubo/gka1a.sparse", "qap/chr12a.dat", "maxcut/G1.txt", "spec/production.yaml"])
def test_a_byte_order_mark_is_not_part_of_the_file(tmp_path, name):
    source = PROBLEMS / name
    marked = tmp_path / source.name
    marked.write_bytes(b"\xef\xbb\xbf" + source.read_bytes())  # as some Windows editors save
    a, b = io.load(source), io.load(marked)
    assert a.metadata["format"] == b.metadata["format"] and a.num_variables == b.num_variables
    assert a.cqm.objective.is_equal(b.cqm.objective)


def test_a_bad_file_of_a_shared_extension_gets_each_readers_reason_with_its_line(tmp_path):
    path = tmp_path / "h.txt"
    path.write_text("1\n1000000000000 0\n")  # an OR-Library bqp file with an absurd size
    with pytest.raises(FormatError) as info:
        io.load(path)
    reason = info.value.reason
    assert reason.startswith("no .txt format reads this file: as orlib-bqp, line 2: 1000000000000 variables is more than the limit")
    assert "; as orlib-cap, line 2: " in reason and "; as gset, line 2: " in reason


def test_an_orlib_bqp_file_is_checked_beyond_the_problem_read(tmp_path):
    with pytest.raises(FormatError, match=r"G1.txt:1: expected the number of problems alone on its line, got '19176'"):
        io.load(PROBLEMS / "maxcut/G1.txt", format="orlib-bqp")  # a graph read as OR-Library: not one odd problem
    short = tmp_path / "k2.txt"
    short.write_text("2\n2 1\n1 2 3\n")
    with pytest.raises(FormatError, match="k2.txt:1: the file declares 2 problems but holds 1"):
        io.load(short, format="orlib-bqp")


def test_a_gz_name_is_written_compressed_and_reads_back(tmp_path):
    source = io.load(PROBLEMS / "lp/knapsack.lp")
    target = tmp_path / "k.lp.gz"
    io.save(source, target)
    assert target.read_bytes()[:2] == b"\x1f\x8b"  # gzip's magic
    assert io.load(target).cqm.objective.is_equal(source.cqm.objective)


@pytest.mark.parametrize(
    "body, message",
    [
        ("Maximize\n obj: x + y\nSubject To\n c1: x + y <= 1\n c1: x - y <= 0\nBinary\n x y\nEnd\n",
         "constraint name 'c1' is used twice (lines 4, 5)"),
        ("Maximize\n obj: n\nSubject To\n c1: n <= 5\nBounds\n 0 <= n <= 1000000000000\nGeneral\n n\nEnd\n",
         "integer variable 'n' ranges over more than 2**31 values (0 to 1e+12): give it narrower lower and upper bounds"),
    ],
)  # fmt: skip
def test_lp_mistakes_are_named_in_lp_terms(tmp_path, body, message):
    path = tmp_path / "m.lp"
    path.write_text(body)
    with pytest.raises(FormatError, match=re.escape(message)):
        io.load(path)


def test_a_file_of_another_format_under_an_extension_one_format_claims_gets_a_hint(tmp_path):
    graph = tmp_path / "graph.dat"  # .dat is QAPLIB's
    shutil.copy(PROBLEMS / "maxcut/G1.txt", graph)
    with pytest.raises(FormatError, match=r"\(the content looks like gset: pass --format gset\)$"):
        io.load(graph)
    assert io.load(graph, format="gset").metadata["format"] == "gset"
