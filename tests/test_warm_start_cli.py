"""``hqopt solve --initial FILE`` and ``--backend a,b``: warm starts from files, races from the CLI."""

from __future__ import annotations

import json

import pytest

import hqopt
from hqopt.errors import FormatError, OtherProblemStartWarning
from hqopt.io.solution import read_solution

from conftest import REPO, run_cli

CHR12A = str(REPO / "problems" / "qap" / "chr12a.dat")


def test_a_previous_result_warm_starts_a_race(tmp_path):
    first = tmp_path / "first.json"
    code, _, _ = run_cli("solve", CHR12A, "-b", "sa", "-t", "1", "--seed", "1", "--output", str(first), "-q")
    assert code == 0
    before = json.loads(first.read_text())["objective"]
    code, out, err = run_cli("solve", CHR12A, "-b", "steepest,sa", "-t", "1", "--seed", "2", "--initial", str(first), "--json")
    result = json.loads(out)
    assert code == 0 and result["backend"] == "steepest+sa" and result["objective"] <= before
    assert "note:" not in err  # the same problem's result: nothing to say


def test_another_problems_result_as_the_start_is_used_with_a_note(tmp_path):
    bqp = str(REPO / "problems" / "qubo" / "bqp50.txt")
    first = tmp_path / "first.json"
    assert run_cli("solve", f"{bqp}#1", "-b", "steepest", "--seed", "1", "-t", "0.5", "--output", str(first), "-q")[0] == 0
    with pytest.warns(OtherProblemStartWarning, match="a result of problem 'bqp50.1', not 'bqp50.2'"):
        start = read_solution(first, hqopt.io.load(f"{bqp}#2"))
    assert start == hqopt.Result.from_json(first.read_text()).solution  # same labels: used as they are
    code, _, err = run_cli("solve", f"{bqp}#2", "-b", "steepest", "--seed", "1", "-t", "0.5", "--initial", str(first), "-q")
    assert code == 0
    assert err == f"note: {first}: a result of problem 'bqp50.1', not 'bqp50.2'; its values start the search where the labels match\n"


def test_solution_files_in_three_forms(tmp_path):
    model = hqopt.io.load(CHR12A)
    result = hqopt.solve(model, backend="sa", time_limit=0.5, seed=3)
    forms = {
        "result.json": result.to_json(),
        "plain.json": json.dumps({str(k): v for k, v in result.solution.items()}),
        "pairs.txt": "\n".join(f"{k} {v}  # a comment" for k, v in result.solution.items()),
    }
    for name, text in forms.items():
        (tmp_path / name).write_text(text)
        assert read_solution(tmp_path / name, model) == result.solution, name


def test_unknown_variables_in_a_solution_file_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("# start\nghost 1\n")
    code, _, err = run_cli("solve", CHR12A, "-t", "1", "--initial", str(bad))
    assert code == 2 and f"{bad}:2" in err and "ghost" in err
    with pytest.raises(FormatError):
        read_solution(bad, hqopt.io.load(CHR12A))


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("twice.txt", "a 1\nb 0\na 0\n", "twice.txt:3: variable 'a' is given twice (first on line 1)"),
        ("twice.json", '{"a": 1,\n "a": 0}', "twice.json:2: variable 'a' is given twice"),
        ("domain.json", '{"a": 2}', "domain.json: value 2 of 'a' is outside its domain (0 or 1)"),
        ("domain.txt", "a 1\nb 0.5\n", "domain.txt:2: value 0.5 of 'b' is outside its domain (0 or 1)"),
        ("cut.json", "[1, 2", "cut.json:1: not valid JSON"),
        ("list.json", "[1, 2]", "list.json:1: expected a JSON object"),
        ("empty.json", "", "empty.json: it gives no variable a value (an empty file?)"),
        ("empty.txt", "# comments only\n\n", "empty.txt: it gives no variable a value"),
        ("none.json", "{}", "none.json: it gives no variable a value"),
    ],
)
def test_a_solution_file_that_says_two_things_or_the_impossible_is_refused_with_its_line(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(FormatError) as info:
        read_solution(path, hqopt.io.load(REPO / "problems" / "spec" / "tiny-qubo.yaml"))
    assert message in str(info.value)


def test_a_results_labels_the_model_lacks_are_left_out_with_a_note(tmp_path):
    """A re-plan's model lacks the down site's variables: the earlier result still starts it where
    the labels match; a result with no label of the model is an error naming the file."""
    model = hqopt.io.load(CHR12A)
    result = hqopt.solve(model, backend="sa", time_limit=0.5, seed=3)
    data = json.loads(result.to_json())
    data["solution"] = [*data["solution"], ["gone", 1]]  # a result JSON lists [label, value] pairs
    (tmp_path / "more.json").write_text(json.dumps(data))
    with pytest.warns(OtherProblemStartWarning, match="1 of the result's 145 variables are not in this model"):
        assert read_solution(tmp_path / "more.json", model) == result.solution
    data["solution"] = [["gone", 1], ["also gone", 0]]
    (tmp_path / "none.json").write_text(json.dumps(data))
    with pytest.raises(FormatError, match="none of this result's variables is in the model"):
        read_solution(tmp_path / "none.json", model)
