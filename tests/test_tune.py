"""`hqopt tune`: spec checking (errors name the field), datasets, the CLI on a shipped spec, resuming."""

from __future__ import annotations

import importlib
import importlib.util
import io
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
import pytest
import yaml

from hqopt.automl.tune import (
    FAILURES_BEFORE_GIVING_UP,
    build_estimator,
    export_trials,
    load_dataset,
    load_spec,
    parse_spec,
    read_trials,
    redact,
    run_tune,
)
from hqopt.cli.app import main
from hqopt.errors import SpecError

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "problems" / "hpo"
GOOD = {
    "estimator": "sklearn.tree.DecisionTreeClassifier",
    "estimator_params": {"random_state": 0},
    "dataset": {"loader": "load_breast_cancer"},
    "cv": 3,
    "search_space": {
        "max_depth": {"type": "int", "low": 1, "high": 8},
        "criterion": {"type": "categorical", "choices": ["gini", "entropy"]},
    },
    "trials": 6,
    "sampler": {"name": "qubo", "startup_trials": 3},
}


def spec_with(**changes: object) -> dict:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return data


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"trials": 0}, "trials"),
        ({"trials": None}, "trials"),
        ({"cv": 1}, "cv"),
        ({"colour": "red"}, "colour"),
        ({"estimator": "not a path"}, "estimator"),
        ({"dataset": {"loader": "fetch_openml"}}, "dataset.loader"),
        ({"dataset": {"loader": "load_nothing"}}, "dataset.loader"),
        ({"dataset": {"csv": "x.csv"}}, "dataset"),
        ({"dataset": {"csv": "x.csv", "target": 5}}, "dataset.target"),
        ({"dataset": {"csv": ["x.csv"], "target": "y"}}, "dataset.csv"),
        ({"search_space": {"k": {"type": "categorical", "choices": ["gini", ["entropy"]]}}}, "search_space.k.choices"),
        ({"search_space": {"C": {"type": "float", "low": 0, "high": 1, "log": True}}}, "search_space.C"),
        ({"search_space": {"C": {"type": "float", "low": "a", "high": 1}}}, "search_space.C.low"),
        ({"search_space": {"C": {"type": "float", "low": 0, "high": float("inf")}}}, "search_space.C.high"),
        ({"search_space": {"C": {"type": "float", "low": float("nan"), "high": 1}}}, "search_space.C.low"),
        ({"search_space": {"C": {"type": "float", "low": 0, "high": 1, "step": "abc"}}}, "search_space.C.step"),
        ({"search_space": {"C": {"type": "float", "low": 0, "high": 1, "step": -0.5}}}, "search_space.C.step"),
        ({"search_space": {"n": {"type": "int", "low": 1, "high": 9, "step": None}}}, "search_space.n.step"),
        ({"search_space": {"n": {"type": "int", "low": 1, "high": 9, "step": 2.5}}}, "search_space.n.step"),
        ({"search_space": {"n": {"type": "int", "low": 1, "high": 9, "step": 0}}}, "search_space.n.step"),
        ({"search_space": {"k": {"type": "categorical", "choices": []}}}, "search_space.k"),
        ({"search_space": {"k": {"type": "complex"}}}, "search_space.k.type"),
        ({"sampler": {"name": "cmaes"}}, "sampler.name"),
        ({"sampler": {"name": "qubo", "surrogate": "gp"}}, "sampler.surrogate"),
        ({"scoring": "accurasy"}, "scoring"),
        ({"scoring": ["accuracy", "f1"]}, "scoring"),
        ({"storage": "results.db"}, "storage"),
        ({"backend": "nosuch"}, "backend"),
        ({"dataset": {"loader": "load_files"}}, "dataset.loader"),
        ({"dataset": {"loader": "load_sample_images"}}, "dataset.loader"),
    ],
)
def test_bad_spec_fields_are_named(changes: dict, field: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(spec_with(**changes), source="t.yaml")
    assert info.value.field == field
    assert f"field '{field}'" in str(info.value) and str(info.value).startswith("t.yaml: ")


def test_a_scorer_typo_or_a_list_of_scorers_says_what_to_give() -> None:
    with pytest.raises(SpecError, match=re.escape("unknown scikit-learn scorer 'accurasy'; did you mean 'accuracy'?")):
        parse_spec(spec_with(scoring="accurasy"))
    with pytest.raises(SpecError, match=re.escape("give one scikit-learn scorer name (the study maximises one score)")):
        parse_spec(spec_with(scoring=["accuracy", "f1"]))


def test_pipeline_steps_needing_arguments_are_named_and_repeated_classes_get_numbered() -> None:
    spec = parse_spec(spec_with(pipeline=["sklearn.feature_selection.SelectFromModel"]), source="t.yaml")
    with pytest.raises(SpecError, match=r"field 'pipeline': sklearn.feature_selection.SelectFromModel cannot be made "
                                        r"without arguments: .*estimator"):  # fmt: skip
        build_estimator(spec)
    twice = parse_spec(spec_with(pipeline=["sklearn.preprocessing.StandardScaler"] * 2), source="t.yaml")
    assert [name for name, _ in build_estimator(twice).steps] == ["standardscaler", "standardscaler_2", "model"]


def test_the_default_name_is_the_file_stem_made_valid(tmp_path) -> None:
    path = tmp_path / "my spec (v2).yaml"
    path.write_text(yaml.safe_dump(spec_with()))
    assert load_spec(path).name == "my-spec-v2"
    with pytest.raises(SpecError, match="field 'name': use letters"):
        parse_spec(spec_with(name="my spec"), source="t.yaml")


def test_numbers_in_the_space_are_checked_with_hints() -> None:
    with pytest.raises(SpecError, match=r"search_space.C.low': must be a number, got '1e-3' \(YAML reads 1e-3 as text: write 1.0e-3\)"):
        parse_spec(spec_with(search_space={"C": {"type": "float", "low": "1e-3", "high": 1}}), source="t.yaml")
    space = parse_spec(spec_with(search_space={"C": {"type": "float", "low": 0, "high": 1, "step": None},
                                               "n": {"type": "int", "low": 1, "high": 9, "step": 2}}), source="t.yaml").search_space  # fmt: skip
    assert space["C"].step is None and space["n"].step == 2
    assert parse_spec(spec_with(backend="CPSAT"), source="t.yaml").backend == "cpsat"


def test_estimator_allow_list_and_parameter_names(monkeypatch) -> None:
    spec = parse_spec(spec_with(estimator="subprocess.Popen"), source="t.yaml")
    with pytest.raises(SpecError, match="allow-list"):
        build_estimator(spec)
    spec = parse_spec(spec_with(estimator="sklearn.externals.array_api_compat.numpy.ndarray"), source="t.yaml")
    imported = []
    real_import = importlib.import_module
    monkeypatch.setattr(importlib, "import_module", lambda name, *a: imported.append(name) or real_import(name, *a))
    with pytest.raises(SpecError, match="not an estimator class in the allow-list"):
        build_estimator(spec)
    assert not any(name.startswith("sklearn.externals") for name in imported)  # refused before importing the path
    build_estimator(parse_spec(spec_with(estimator="sklearn.tree.DecisionTreeClassifier"), source="t.yaml"))
    assert "sklearn.tree" in imported  # (the recorder works)
    monkeypatch.undo()
    spec = parse_spec(spec_with(estimator="collections.OrderedDict"), source="t.yaml")
    with pytest.raises(SpecError, match="not an estimator"):
        build_estimator(spec, allow_import=True)  # allowed to import, but it has no fit()
    spec = parse_spec(spec_with(search_space={"depth": {"type": "int", "low": 1, "high": 3}}), source="t.yaml")
    with pytest.raises(SpecError) as info:
        build_estimator(spec)
    assert info.value.field == "search_space.depth"
    for typo, meant in (("sklearn.tree.DecisionTreeClassifer", "sklearn.tree.DecisionTreeClassifier"),
                        ("xgboost.XGBClasifier", "xgboost.XGBClassifier")):  # fmt: skip
        with pytest.raises(SpecError, match=re.escape(f"'{typo}' is not an estimator class; did you mean '{meant}'?")):
            build_estimator(parse_spec(spec_with(estimator=typo), source="t.yaml"))


@pytest.mark.parametrize(
    ("content", "encoding", "message"),
    [
        ("a;b;label\n" + "1;2;yes\n" * 12, "utf-8", "the CSV has no column 'label' (its header is one column, 'a;b;label': "
                                                     "the file seems separated by ';', but hqopt reads comma-separated files)"),
        ("a,b,label\n" + "1,café,yes\n2,thé,no\n" * 6, "latin-1", "the file is not UTF-8 text; save it as UTF-8"),
    ],
)  # fmt: skip
def test_a_csv_in_another_dialect_gets_a_hint(tmp_path, content: str, encoding: str, message: str) -> None:
    (tmp_path / "d.csv").write_bytes(content.encode(encoding))
    spec = parse_spec(spec_with(dataset={"csv": "d.csv", "target": "label"}), source="t.yaml", base_dir=tmp_path)
    with pytest.raises(SpecError, match=re.escape(message)):
        load_dataset(spec)


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_specs_are_valid(path: Path) -> None:
    spec = load_spec(path)
    build_estimator(spec)
    X, y = load_dataset(spec)
    assert len(X) == len(y) > 100


def test_csv_dataset_runs_and_resumes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    labels = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "yes", "no")
    lines = ["a,b,c,label"] + [f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{lab}" for r, lab in zip(X, labels)]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    data = spec_with(dataset={"csv": "data.csv", "target": "label"}, storage=f"sqlite:///{tmp_path / 's.db'}")
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(data))
    spec = load_spec(tmp_path / "spec.yaml")
    first = run_tune(spec, trials=4)
    assert first.n_new == 4 and first.n_complete == 4
    again = run_tune(spec, trials=6)  # the same SQLite study resumes
    assert again.n_new == 2 and again.n_complete == 6
    assert again.best_score >= first.best_score and again.best_score > 0.8
    trials = optuna.load_study(study_name="spec", storage=spec.storage).trials
    assert len({(t.params["max_depth"], t.params["criterion"]) for t in trials}) == 6



def load_spec_from(folder: Path, data: dict):
    (folder / "other.yaml").write_text(yaml.safe_dump(data))
    return load_spec(folder / "other.yaml")


def test_cli_runs_a_shipped_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    db, png = tmp_path / "tree.db", tmp_path / "history.png"
    code = main(["tune", str(SPECS / "dtree_breast_cancer.yaml"), "--trials", "12",
                 "--storage", f"sqlite:///{db}", "--plot", str(png)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("score") >= 12 and "best configuration:" in out and "max_depth:" in out
    default = float(out.split("default configuration score: ")[1].split()[0])
    best = float(out.split("best score: ")[1].split()[0])
    assert best > default  # the tuned tree beats scikit-learn's defaults
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"


def test_a_problem_spec_given_to_tune_is_named_as_such(capsys: pytest.CaptureFixture[str]) -> None:
    spec = ROOT / "problems" / "placement" / "small.yaml"
    assert main(["tune", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: {spec}: field 'kind': this is a problem spec (kind: placement) for 'hqopt solve'; 'hqopt tune' takes "
        "a tuning spec: estimator, dataset, search_space, trials (docs/automl.md)\n"
    )


def test_cli_bad_spec_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec_with(estimator="os.system")))
    assert main(["tune", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "field 'estimator'" in err and "--allow-import" in err
    assert "\n" not in err
    path.write_text("name: x\nestimator: [unclosed\n")
    assert main(["tune", str(path)]) == 2
    err = capsys.readouterr().err.strip()  # libyaml's wording ("did not find expected ..."), or PyYAML's own
    assert err.startswith(f"error: {path}:3: invalid YAML: ") and "expected ',' or ']'" in err and "\n" not in err
    path.write_text("name: x\nname: y\n")  # the last one won before, silently
    assert main(["tune", str(path)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {path}:2: key 'name' is given twice (first on line 1)"


# ------------------------------------------------------------- real CSVs, export, resume, secrets, Ctrl-C
def docs_walkthrough_command() -> list[str]:
    """The `hqopt tune` command of docs/automl.md's CSV walkthrough, as arguments."""
    text = (ROOT / "docs" / "automl.md").read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("$ hqopt tune problems/hpo/churn.yaml"))
    return line.removeprefix("$ hqopt ").split()


def test_docs_walkthrough_runs_on_a_csv_with_text_and_missing_values(tmp_path, monkeypatch, capsys) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(SPECS / "churn.csv")
    assert frame.drop(columns="churned").isna().any().all()  # holes in every feature column
    assert not pd.api.types.is_numeric_dtype(frame["plan"]) and not pd.api.types.is_numeric_dtype(frame["region"])
    args = docs_walkthrough_command()
    monkeypatch.chdir(tmp_path)  # the export and the default SQLite storage land here
    args = [str(ROOT / a) if a.startswith("problems/") else a for a in args]
    assert main(args) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.startswith("trial ")]
    assert len(lines) == 12 and all("ETA" in ln and "max_depth=" in ln and "best" in ln for ln in lines)
    default = float(out.split("default configuration score: ")[1].split()[0])
    best = float(out.split("best score: ")[1].split()[0])
    assert best > default + 0.05  # the tuned tree beats the default one on held-out ROC AUC
    records = read_trials(tmp_path / "churn-trials.csv")
    assert len(records) == 12 and max(r["value"] for r in records) == pytest.approx(best, abs=1e-6)
    assert (tmp_path / "churn.optuna.db").exists()


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_export_round_trips(tmp_path, suffix: str) -> None:
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=3))
    choices = ["a", "b", None, 2, 0.5, True]  # mixed choices: a CSV column pandas reads as text
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + (t.suggest_categorical("k", choices) == "b")
                   + t.suggest_int("n", 1, 9), n_trials=12)  # fmt: skip
    assert len({repr(t.params["k"]) for t in study.trials}) >= 4
    path = export_trials(study, tmp_path / f"trials{suffix}")
    records = read_trials(path)
    assert [r["number"] for r in records] == [t.number for t in study.trials]
    for r, t in zip(records, study.trials):
        assert r["state"] == "COMPLETE" and r["value"] == pytest.approx(t.value, rel=1e-12)
        assert r["params_x"] == pytest.approx(t.params["x"], rel=1e-12) and r["params_n"] == t.params["n"]
        assert r["params_k"] == t.params["k"] and type(r["params_k"]) is type(t.params["k"])  # 2 as 2, None as None
        assert r["duration_s"] >= 0


def _tiny_spec(tmp_path: Path, **changes) -> object:
    data = spec_with(storage=f"sqlite:///{tmp_path / 'resume.db'}", trials=3, **changes)
    (tmp_path / "resume.yaml").write_text(yaml.safe_dump(data))
    return load_spec(tmp_path / "resume.yaml")


def test_resume_with_a_changed_space_warns_and_offers_a_choice(tmp_path, capsys, monkeypatch) -> None:
    first = run_tune(_tiny_spec(tmp_path))
    assert first.n_complete == 3
    changed_space = {"max_depth": {"type": "int", "low": 1, "high": 4}, "criterion": GOOD["search_space"]["criterion"]}
    changed = _tiny_spec(tmp_path, search_space=changed_space)
    with pytest.raises(SpecError, match=r"another search space \(changed: max_depth\)"):
        run_tune(changed, trials=4)
    with pytest.warns(UserWarning, match="changed: max_depth"):
        kept = run_tune(changed, trials=4, space_changed="continue")
    assert kept.study_name == "resume" and kept.n_complete == 4
    with warnings.catch_warnings():  # `continue` is remembered: the same spec goes on without asking
        warnings.simplefilter("error")
        again = run_tune(changed, trials=5)
    assert again.study_name == "resume" and again.n_complete == 5
    fresh = run_tune(_tiny_spec(tmp_path), trials=2, space_changed="new")  # the first space: now another one
    assert fresh.study_name == "resume-2" and fresh.n_complete == 2
    # the CLI, not on a terminal: one line naming the change and the flag, exit 2
    assert main(["tune", str(tmp_path / "resume.yaml"), "--trials", "5", "--no-plot"]) in (0, 2)
    changed_cli = spec_with(storage=f"sqlite:///{tmp_path / 'resume.db'}", trials=3,
                            search_space={"max_depth": {"type": "int", "low": 2, "high": 5}})  # fmt: skip
    (tmp_path / "resume.yaml").write_text(yaml.safe_dump(changed_cli))
    capsys.readouterr()
    assert main(["tune", str(tmp_path / "resume.yaml"), "--no-plot"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "changed: criterion, max_depth" in err and "--space-changed" in err
    assert err.startswith(f"error: {tmp_path / 'resume.yaml'}: field 'search_space': study 'resume' ")  # as the docs show
    # `new` names the study it runs (resume-3: resume-2 holds yet another space), at the start, in the
    # summary and in the default plot's name
    monkeypatch.chdir(tmp_path)
    assert main(["tune", str(tmp_path / "resume.yaml"), "--space-changed", "new"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("study 'resume-3' (new: study 'resume' has another search space or set-up): ")
    if importlib.util.find_spec("matplotlib") is not None:  # the plot extra
        assert "history plot: resume-3-history.png" in out and (tmp_path / "resume-3-history.png").stat().st_size > 0
    assert not (tmp_path / "resume-history.png").exists()
    assert f"storage: sqlite:///{tmp_path / 'resume.db'}, study 'resume-3' (3 complete trials, 3 run now)" in out
    assert "study 'resume'" not in out.replace("(new: study 'resume' has", "")
    # `continue` warns on one line naming the spec, and keeps the stored study
    assert main(["tune", str(tmp_path / "resume.yaml"), "--no-plot", "--space-changed", "continue", "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0] == (f"warning: {tmp_path / 'resume.yaml'}: study 'resume' was created with another "
                                            "search space (changed: criterion, max_depth); continuing it")  # fmt: skip
    assert "study 'resume' (5 complete trials, 0 run now)" in captured.out


class _Terminal(io.StringIO):
    """Standard input that is a terminal, with the user's answers typed in."""

    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_changed_space_is_asked_about(tmp_path, capsys, monkeypatch) -> None:
    run_tune(_tiny_spec(tmp_path))
    _tiny_spec(tmp_path, search_space={"max_depth": {"type": "int", "low": 1, "high": 4}})
    monkeypatch.setattr(sys, "stdin", _Terminal("keep\ncontinue\n"))  # a wrong answer asks again
    assert main(["tune", str(tmp_path / "resume.yaml"), "--trials", "4", "--no-plot", "-q"]) == 0
    captured = capsys.readouterr()
    assert "changed: criterion, max_depth" in captured.err and "Traceback" not in captured.err
    assert "study 'resume' (4 complete trials, 1 run now)" in captured.out
    monkeypatch.setattr(sys, "stdin", _Terminal("stop\n"))
    _tiny_spec(tmp_path, search_space={"max_depth": {"type": "int", "low": 2, "high": 4}})
    assert main(["tune", str(tmp_path / "resume.yaml"), "--trials", "5", "--no-plot", "-q"]) == 2


@pytest.mark.parametrize(
    ("space", "why"),
    [
        ({"max_depth": GOOD["search_space"]["max_depth"], "criterion": {"type": "categorical", "choices": ["gini", "log_loss"]}},
         "parameter 'criterion' changed its choices (['gini', 'entropy'] -> ['gini', 'log_loss'])"),
        ({"max_depth": {"type": "float", "low": 1, "high": 8}, "criterion": GOOD["search_space"]["criterion"]},
         "parameter 'max_depth' changed its kind (IntDistribution -> FloatDistribution)"),
        ({"max_depth": {"type": "int", "low": 1, "high": 8, "log": True}, "criterion": GOOD["search_space"]["criterion"]},
         "parameter 'max_depth' changed its scale (log=False -> log=True)"),
    ],
)  # fmt: skip
def test_a_study_cannot_continue_when_a_parameter_changed_kind_or_choices(tmp_path, capsys, space, why) -> None:
    run_tune(_tiny_spec(tmp_path))
    _tiny_spec(tmp_path, search_space=space)
    capsys.readouterr()
    assert main(["tune", str(tmp_path / "resume.yaml"), "--no-plot", "--space-changed", "continue", "--trials", "4"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and why in err and "--space-changed new" in err


def test_resuming_with_another_seed_or_scoring_is_refused_like_a_changed_space(tmp_path, capsys) -> None:
    run_tune(_tiny_spec(tmp_path))
    # another seed shuffles the folds otherwise: the same configuration would score differently
    with pytest.raises(SpecError, match=r"field 'seed': study 'resume' in the storage was created with another set-up, "
                                        r"so its scores are not comparable \(changed: seed\)"):  # fmt: skip
        run_tune(_tiny_spec(tmp_path), trials=4, seed=3)
    changed = _tiny_spec(tmp_path, scoring="f1")
    assert main(["tune", str(tmp_path / "resume.yaml"), "--no-plot", "--trials", "4"]) == 2
    assert "field 'scoring': " in capsys.readouterr().err
    with pytest.warns(UserWarning, match=r"another set-up, so its scores are not comparable \(changed: scoring\); continuing"):
        assert run_tune(changed, trials=4, space_changed="continue").n_complete == 4
    assert run_tune(changed, trials=5).n_complete == 5  # `continue` stored the new set-up: no question again
    with pytest.raises(SpecError, match="changed: scoring"):  # and the first one is now the change
        run_tune(_tiny_spec(tmp_path), trials=6)


def test_a_parameter_added_to_a_continued_study_is_named_as_drawn_at_random(tmp_path, capsys) -> None:
    depth_only = {"max_depth": GOOD["search_space"]["max_depth"]}
    run_tune(_tiny_spec(tmp_path, search_space=depth_only))
    _tiny_spec(tmp_path)  # criterion added
    assert main(["tune", str(tmp_path / "resume.yaml"), "--no-plot", "-q", "--trials", "3", "--space-changed", "continue"]) == 0
    captured = capsys.readouterr()
    assert "the trials so far lack 'criterion': the qubo and gp samplers model only the parameters every trial has, so they draw it at random in this study" in captured.err
    assert "  criterion: (not set in that trial: the spec's estimator_params, or the estimator's default)" in captured.out  # the best trial predates it


def test_a_kind_change_is_refused_even_when_an_intermediate_space_dropped_the_parameter(tmp_path) -> None:
    run_tune(_tiny_spec(tmp_path))  # max_depth an int
    criterion_only = {"criterion": GOOD["search_space"]["criterion"]}
    with pytest.warns(UserWarning):
        run_tune(_tiny_spec(tmp_path, search_space=criterion_only), trials=4, space_changed="continue")
    as_float = {"max_depth": {"type": "float", "low": 1, "high": 8}, **criterion_only}
    with pytest.raises(SpecError, match=r"cannot be continued: parameter 'max_depth' changed its kind"):
        run_tune(_tiny_spec(tmp_path, search_space=as_float), trials=5, space_changed="continue")


def test_a_set_up_field_an_older_study_did_not_record_is_adopted_not_a_change(tmp_path) -> None:
    from hqopt.automl.tune import SETUP_ATTR

    first = run_tune(_tiny_spec(tmp_path))
    study = optuna.load_study(study_name="resume", storage=f"sqlite:///{tmp_path / 'resume.db'}")
    setup = json.loads(study.user_attrs[SETUP_ATTR])
    setup.pop("cv")  # as if an older hqopt had not recorded it
    study.set_user_attr(SETUP_ATTR, json.dumps(setup))
    again = run_tune(_tiny_spec(tmp_path), trials=4)
    assert again.n_complete == 4 and again.default_score == first.default_score
    assert "cv" in json.loads(study.user_attrs[SETUP_ATTR])  # recorded now


def test_a_run_with_nothing_to_do_or_cut_by_its_timeout_says_so(tmp_path, capsys) -> None:
    run_tune(_tiny_spec(tmp_path))
    assert main(["tune", str(tmp_path / "resume.yaml"), "--no-plot", "-q", "--trials", "2"]) == 0
    assert "note: the study already holds 3 complete trials, so none ran; give --trials more than 3" in capsys.readouterr().err
    assert main(["tune", str(tmp_path / "resume.yaml"), "--no-plot", "-q", "--trials", "10000", "--timeout", "0.5"]) == 0
    assert "note: --timeout 0.5 s ended the run with " in capsys.readouterr().err


def test_an_edited_csv_is_a_changed_set_up_and_continuing_scores_the_defaults_again(tmp_path, capsys) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(SPECS / "churn.csv")
    frame.to_csv(tmp_path / "data.csv", index=False)
    spec = spec_with(dataset={"csv": "data.csv", "target": "churned"}, storage=f"sqlite:///{tmp_path / 'csv.db'}", trials=3,
                     estimator_params={"random_state": 0}, search_space={"max_depth": {"type": "int", "low": 1, "high": 4}})  # fmt: skip
    (tmp_path / "csv.yaml").write_text(yaml.safe_dump(spec))
    first = run_tune(load_spec(tmp_path / "csv.yaml"))
    frame["churned"] = frame["churned"].sample(frac=1.0, random_state=1).to_numpy()  # labels shuffled: another dataset
    frame.to_csv(tmp_path / "data.csv", index=False)
    with pytest.raises(SpecError, match=r"field 'dataset.csv contents': .*another set-up"):
        run_tune(load_spec(tmp_path / "csv.yaml"), trials=4)
    with pytest.warns(UserWarning, match=r"changed: dataset.csv contents\); continuing it"):
        edited = run_tune(load_spec(tmp_path / "csv.yaml"), trials=4, space_changed="continue")
    assert edited.default_score != first.default_score  # scored again, on the edited file
    # --export may not name the dataset (nor the spec, nor the SQLite storage): refused before any trial
    before = (tmp_path / "data.csv").read_bytes()
    assert main(["tune", str(tmp_path / "csv.yaml"), "--no-plot", "--export", str(tmp_path / "data.csv")]) == 2
    assert capsys.readouterr().err.strip().endswith("data.csv is the dataset: writing there would destroy it; name another file")
    assert (tmp_path / "data.csv").read_bytes() == before


@pytest.mark.parametrize(
    "url",
    ["postgresql://ana:hunter2secret@127.0.0.1:9/hpo", "mysql+pymysql://ana:hunter2secret@127.0.0.1:9/hpo",
     "redis://ana:hunter2secret@127.0.0.1:9/0"],
)  # fmt: skip
def test_storage_passwords_are_never_printed(tmp_path, capsys, url: str) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(spec_with(storage=url)))
    assert main(["tune", str(spec), "--no-plot"]) == 2
    out = capsys.readouterr()
    assert "hunter2secret" not in out.out + out.err and "***" in out.err
    assert "\n" not in out.err.strip() and "Traceback" not in out.err
    assert redact(f"see {url} and {url}").count("***") == 2


def test_a_bad_storage_flag_is_named_as_the_flag(tmp_path, capsys) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(spec_with()))
    assert main(["tune", str(spec), "--no-plot", "--storage", "mongodb://x"]) == 2
    assert capsys.readouterr().err == "error: --storage: unsupported storage URL 'mongodb://x' (use sqlite:///FILE or a database URL)\n"


def test_the_best_configuration_prints_floats_as_a_spec_would() -> None:
    from hqopt.cli.tune import _shown

    assert repr(0.1 * 3) == "0.30000000000000004" and _shown(0.1 * 3) == "0.3"  # a stepped float's noise is not shown
    values = (1e-05, 3, "gini", None, 2.5, 1.0, math.inf)
    assert [_shown(v) for v in values] == ["1e-05", "3", "'gini'", "null", "2.5", "1.0", ".inf"]
    assert [yaml.safe_load(_shown(v)) for v in values[1:]] == list(values[1:])  # YAML reads each back as it was


def test_a_storage_that_is_not_a_database_is_a_clean_error(tmp_path, capsys) -> None:
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(spec_with(storage=f"sqlite:///{secret}")))
    assert main(["tune", str(spec), "--no-plot"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "field 'storage'" in err and "\n" not in err
    assert "root:x" not in err and "Traceback" not in err


def test_dataset_paths_and_contents_are_not_echoed(tmp_path, capsys) -> None:
    secret_dir = tmp_path / "private-folder"
    secret_dir.mkdir()
    (secret_dir / "data.csv").write_text("user,password_hash,label\nana,$6$SECRETHASH,yes\nbob,$6$OTHERHASH,no\n")
    cases = [
        ({"csv": str(secret_dir / "data.csv"), "target": "nope"}, "dataset.target"),  # a missing target column
        ({"csv": str(secret_dir / "missing.csv"), "target": "label"}, "dataset.csv"),
        ({"csv": str(secret_dir), "target": "label"}, "dataset.csv"),  # a folder
        ({"csv": str(secret_dir / "data.csv"), "target": "label", "columns": ["x"]}, "dataset.columns"),
    ]
    for dataset, field in cases:
        spec = tmp_path / "s.yaml"
        spec.write_text(yaml.safe_dump(spec_with(dataset=dataset)))
        assert main(["tune", str(spec), "--no-plot"]) == 2
        err = capsys.readouterr().err
        assert f"field '{field}'" in err
        for secret in ("private-folder", "password_hash", "SECRETHASH", "ana", "user"):
            assert secret not in err, (dataset, err)


def _tune_process(tmp_path: Path) -> subprocess.Popen:
    data = spec_with(trials=200, storage=f"sqlite:///{tmp_path / 'ctrlc.db'}", cv=5,
                     dataset={"loader": "load_digits"})  # fmt: skip
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(data))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "hqopt", "tune", str(tmp_path / "c.yaml"), "--no-plot"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_prints_the_best_so_far(tmp_path, sig) -> None:
    proc = _tune_process(tmp_path)
    seen = []
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    while time.monotonic() < deadline:  # wait for two finished trials
        line = proc.stdout.readline()
        seen.append(line)
        if sum(ln.startswith("trial ") for ln in seen) >= 2:
            break
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    out = "".join(seen) + out
    assert proc.returncode == (143 if sig == signal.SIGTERM else 130), err  # 128 + the signal, as shells report it
    assert "Traceback" not in err and ("terminated (SIGTERM)" if sig == signal.SIGTERM else "interrupted") in err
    assert "best score so far: " in out and "best configuration:" in out
    best = float(out.split("best score so far: ")[1].split()[0])
    assert math.isfinite(best) and best > 0.5


def test_pipeline_steps_and_their_parameters(tmp_path) -> None:
    data = spec_with(
        estimator="sklearn.linear_model.LogisticRegression", estimator_params={"max_iter": 300},
        dataset={"loader": "load_digits"}, scale=True, pipeline=["sklearn.decomposition.PCA"], trials=4,
        search_space={"pca__n_components": {"type": "int", "low": 2, "high": 30}, "C": {"type": "float", "low": 0.01,
                      "high": 10.0, "log": True}},
        storage=f"sqlite:///{tmp_path / 'p.db'}",
    )  # fmt: skip
    spec = parse_spec(data, source="p.yaml")
    pipe = build_estimator(spec)
    assert [name for name, _ in pipe.steps] == ["scale", "pca", "model"]
    report = run_tune(spec)
    assert report.n_complete == 4 and 2 <= report.best_params["pca__n_components"] <= 30 and report.best_score > 0.5
    bad = parse_spec(spec_with(pipeline=["os.system"]), source="p.yaml")
    with pytest.raises(SpecError, match="field 'pipeline'"):
        build_estimator(bad)


@pytest.mark.parametrize("flag", ["--export", "--plot"])
def test_unusable_export_or_plot_is_refused_before_any_trial(tmp_path, capsys, monkeypatch, flag) -> None:
    import hqopt.automl.tune as tune_module

    def refuse(*args, **kwargs):
        raise AssertionError("trials ran although the file could not be written")

    monkeypatch.setattr(tune_module, "run_tune", refuse)
    if flag == "--plot":
        pytest.importorskip("matplotlib")
    target = tmp_path / "missing" / ("trials.csv" if flag == "--export" else "history.png")
    assert main(["tune", str(SPECS / "dtree_breast_cancer.yaml"), flag, str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {flag}: cannot write {target}: folder {target.parent} does not exist"



# ------------------------------------------------------------- malformed CSVs, failing fits, flags, progress
def _churn_lines() -> list[str]:
    """The shipped churn.csv's lines, without their (CRLF) line endings."""
    return (SPECS / "churn.csv").read_bytes().decode().splitlines()


def _write_churn(folder: Path, name: str, lines: list[str], ending: str = "\n") -> Path:
    """churn.yaml pointing to ``name`` (written from ``lines``) in ``folder``, with its own SQLite storage."""
    (folder / name).write_bytes((ending.join(lines) + ending).encode())
    spec = yaml.safe_load((SPECS / "churn.yaml").read_text())
    spec.update(dataset={"csv": name, "target": "churned"}, storage=f"sqlite:///{folder / 'churn.db'}")
    path = folder / f"{Path(name).stem}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _with_line(lines: list[str], number: int, text: str) -> list[str]:
    return [text if i == number else line for i, line in enumerate(lines, start=1)]


@pytest.mark.parametrize(
    ("edit", "ending", "expected"),
    [
        (lambda ls: _with_line(ls, 7, ls[6] + ",extra"), "\n", "ragged.csv:7: expected 6 fields, saw 7"),
        (lambda ls: _with_line(ls, 7, ls[6] + ",extra"), "\r\n", "ragged.csv:7: expected 6 fields, saw 7"),
        # an unquoted comma shifts the values one column to the right (pandas cut the row back to 6 silently)
        (lambda ls: _with_line(ls, 3, "13,83.47,standard,north,west,2,no"), "\r\n", "ragged.csv:3: expected 6 fields, saw 7"),
        (lambda ls: _with_line(ls, 5, "46,93.17,basic,north"), "\n", "ragged.csv:5: expected 6 fields, saw 4"),
        # `awk 'NR==7{$0=$0",extra"}'` on the CRLF file: the CR ends a row and ",extra" is a short row of its own
        (lambda ls: _with_line(ls, 7, ls[6] + "\r,extra"), "\r\n",
         "ragged.csv:7: expected 6 fields, saw 2 (the row starts after a carriage return inside the line)"),
        # an unclosed quote runs to the end of the file: the row it starts has too few fields
        (lambda ls: [*ls[:1], "", *ls[1:9], 'x,"unclosed', *ls[9:]], "\n", "ragged.csv:11: expected 6 fields, saw 2"),
        # a quoted empty field is a row of one field, not a blank line (pandas read it as a row of NaN)
        (lambda ls: _with_line(ls, 5, '""'), "\r\n", "ragged.csv:5: expected 6 fields, saw 1"),
    ],
)  # fmt: skip
def test_a_row_with_the_wrong_number_of_fields_is_one_line_naming_file_and_line(
    tmp_path, capsys, monkeypatch, edit, ending: str, expected: str
) -> None:
    import hqopt.automl.tune as tune_module

    calls = []
    monkeypatch.setattr(tune_module, "open_study", lambda *a, **k: calls.append(a) or pytest.fail("a trial ran"))
    spec = _write_churn(tmp_path, "ragged.csv", edit(_churn_lines()), ending)
    assert main(["tune", str(spec), "--trials", "2", "--no-plot"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {spec}: field 'dataset.csv': {expected}\n" and not calls


def test_a_ragged_row_names_the_file_but_not_its_folder_or_the_row(tmp_path, capsys) -> None:
    secret_dir = tmp_path / "private-folder"
    secret_dir.mkdir()
    (secret_dir / "data.csv").write_text("user,password_hash,label\nana,$6$SECRETHASH,yes\nbob,$6$OTHER,HASH,no\n")
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(spec_with(dataset={"csv": str(secret_dir / "data.csv"), "target": "label"})))
    assert main(["tune", str(spec), "--no-plot"]) == 2
    err = capsys.readouterr().err
    assert err.endswith(": field 'dataset.csv': data.csv:3: expected 3 fields, saw 4\n")
    assert "private-folder" not in err and "HASH" not in err and "bob" not in err


@pytest.mark.parametrize(
    ("line", "pandas_reads_a_row", "expected"),
    [
        ("", False, None),
        (" \t ", False, None),  # spaces and tabs only: pandas skips the line
        ('""', True, "blank.csv:6: expected 6 fields, saw 1"),
        ("\f", True, "blank.csv:6: expected 6 fields, saw 1"),  # other whitespace is a value to pandas
        (",", True, "blank.csv:6: expected 6 fields, saw 2"),
        (",,,,,", True, None),  # a full row of empty cells: read, then dropped for its missing target
    ],
)  # fmt: skip
def test_blank_lines_are_the_lines_pandas_skips(tmp_path, line: str, pandas_reads_a_row: bool, expected: str | None) -> None:
    import pandas as pd

    lines = _churn_lines()
    spec = load_spec(_write_churn(tmp_path, "blank.csv", [*lines[:5], line, *lines[5:]]))
    assert len(pd.read_csv(tmp_path / "blank.csv")) == len(lines) - 1 + pandas_reads_a_row  # the premise, in this pandas
    if expected is None:
        X, y = load_dataset(spec)
        assert len(X) == len(y) == len(lines) - 1
    else:
        with pytest.raises(SpecError) as info:
            load_dataset(spec)
        assert info.value.field == "dataset.csv" and info.value.reason == expected


def test_a_long_cell_is_read_and_the_csv_field_limit_is_never_lowered(tmp_path) -> None:
    import csv

    lines = _churn_lines()
    before = csv.field_size_limit()
    cells = lines[3].split(",")
    cells[2] = "x" * 300_000  # over the csv module's default cap of 128 KiB per field; pandas has none
    spec = load_spec(_write_churn(tmp_path, "long.csv", _with_line(lines, 4, ",".join(cells))))
    X, _ = load_dataset(spec)
    assert len(X.iloc[2, 2]) == 300_000 and csv.field_size_limit() >= before
    lines.append("1,2,3")
    spec = load_spec(_write_churn(tmp_path, "long.csv", _with_line(lines, 4, ",".join(cells))))
    with pytest.raises(SpecError, match=r"long.csv:402: expected 6 fields, saw 3$"):
        load_dataset(spec)
    assert csv.field_size_limit() >= before


def test_well_formed_csv_quirks_are_still_read(tmp_path) -> None:
    lines = _churn_lines()
    lines = [lines[0], "", *lines[1:5], "   ", '7,20.5,"premium, yearly","north\nwest",1,yes', *lines[5:]]
    spec = load_spec(_write_churn(tmp_path, "quirks.csv", ["\ufeff" + lines[0], *lines[1:]], "\r\n"))
    X, y = load_dataset(spec)
    assert len(X) == len(y) == 401  # blank lines skipped; a quoted comma and a quoted line break stay in their cells
    assert X.iloc[4].tolist()[2:4] == ["premium, yearly", "north\nwest"] and list(X.columns)[0] == "tenure_months"


def test_when_every_fit_fails_the_first_fit_error_is_shown(tmp_path, capsys) -> None:
    lines = _churn_lines()
    lines = [ln.replace(",no", ",maybe") if i % 7 == 0 else ln for i, ln in enumerate(lines)]  # 3 classes: roc_auc fails
    spec = _write_churn(tmp_path, "three.csv", lines)
    assert main(["tune", str(spec), "--trials", "2", "--no-plot"]) == 2
    captured = capsys.readouterr()
    # each failed trial is replaced once; each line says why it failed
    assert captured.out.count("score     failed") == 4
    assert captured.out.count("(ValueError: multi_class must be in ('ovo', 'ovr'))") == 4
    assert captured.err == (f"error: {spec}: field 'estimator': no trial finished with a score: 4 failed; the default "
                            "configuration failed too, so the set-up (dataset, target, scoring, estimator) is at fault; "
                            "the first error (trial 0): ValueError: multi_class must be in ('ovo', 'ovr')\n")  # fmt: skip
    study = optuna.load_study(study_name="churn", storage=f"sqlite:///{tmp_path / 'churn.db'}")
    assert [t.state.name for t in study.trials] == ["FAIL"] * 4
    assert all(t.user_attrs["hqopt:fit_error"].startswith("ValueError: multi_class") for t in study.trials)


def test_failed_trials_are_replaced_until_the_complete_ones_are_there(tmp_path) -> None:
    space = {"criterion": {"type": "categorical", "choices": ["gini", "bogus"]}, "max_depth": GOOD["search_space"]["max_depth"]}
    report = run_tune(_tiny_spec(tmp_path, search_space=space), trials=6)
    study = optuna.load_study(study_name="resume", storage=f"sqlite:///{tmp_path / 'resume.db'}")
    failed = [t for t in study.trials if t.state.name == "FAIL"]
    assert failed and all("bogus" in str(t.params["criterion"]) for t in failed)
    assert report.n_complete == 6 and len(study.trials) == 6 + len(failed)


def test_a_run_gives_up_early_only_when_the_defaults_fail_too(tmp_path) -> None:
    lines = _churn_lines()
    lines = [ln.replace(",no", ",maybe") if i % 7 == 0 else ln for i, ln in enumerate(lines)]  # 3 classes: roc_auc fails
    with pytest.raises(SpecError, match=r"field 'estimator': no trial finished with a score: 5 failed; the default"):
        run_tune(load_spec(_write_churn(tmp_path, "three.csv", lines)), trials=30)
    study = optuna.load_study(study_name="churn", storage=f"sqlite:///{tmp_path / 'churn.db'}")
    assert len(study.trials) == FAILURES_BEFORE_GIVING_UP
    # the defaults score: the failures are the configurations', so each trial wanted is replaced once
    space = {"criterion": {"type": "categorical", "choices": ["bogus", "wrong"]}, "max_depth": GOOD["search_space"]["max_depth"]}
    with pytest.raises(SpecError, match=r"field 'search_space': no trial finished with a score: 8 failed; "
                                        r"the first error \(trial 0\): InvalidParameterError"):  # fmt: skip
        run_tune(_tiny_spec(tmp_path, search_space=space), trials=4)


def test_a_run_short_of_its_complete_trials_says_so(tmp_path, capsys) -> None:
    run_tune(_tiny_spec(tmp_path))  # 3 complete trials
    space = {"criterion": GOOD["search_space"]["criterion"], "max_depth": {"type": "int", "low": -5, "high": -1}}
    _tiny_spec(tmp_path, search_space=space)  # every max_depth now fails
    capsys.readouterr()
    args = ["tune", str(tmp_path / "resume.yaml"), "--no-plot", "-q", "--trials", "5", "--space-changed", "continue"]
    assert main(args) == 0  # the study has scores: its best is still the answer
    err = capsys.readouterr().err
    assert "note: the study holds 3 of the 5 complete trials wanted: 4 trials of this run failed" in err


def test_a_single_class_target_is_refused_before_any_trial(tmp_path, capsys) -> None:
    lines = _churn_lines()
    lines = [lines[0], *(ln.rsplit(",", 1)[0] + ",no" for ln in lines[1:])]
    spec = _write_churn(tmp_path, "one.csv", lines)
    assert main(["tune", str(spec), "--trials", "2", "--no-plot"]) == 2
    captured = capsys.readouterr()
    assert captured.err == (f"error: {spec}: field 'dataset.target': the target holds a single class; "
                            "a classifier needs at least two\n")  # fmt: skip
    assert "trial " not in captured.out and not (tmp_path / "churn.db").exists()


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_a_timeout_that_is_not_positive_is_a_bad_flag(tmp_path, capsys, monkeypatch, value: str) -> None:
    import hqopt.automl.tune as tune_module

    monkeypatch.setattr(tune_module, "run_tune", lambda *a, **k: pytest.fail("trials ran"))
    assert main(["tune", str(SPECS / "churn.yaml"), "--timeout", value, "--no-plot"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: --timeout must be a positive number of seconds, got {float(value):g}\n"
    monkeypatch.undo()
    with pytest.raises(SpecError) as info:
        run_tune(_tiny_spec(tmp_path), timeout=float(value))
    assert info.value.field == "timeout" and not (tmp_path / "resume.db").exists()


def test_no_trial_before_the_timeout_says_so(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(optuna.Study, "optimize", lambda self, *a, **k: None)  # the timeout passed before trial 0
    with pytest.raises(SpecError) as info:
        run_tune(_tiny_spec(tmp_path), timeout=0.5)
    assert str(info.value).endswith("field 'timeout': no trial started before the timeout (0.5 s)")


def test_progress_counts_complete_trials_once_each_with_threads(tmp_path, capsys) -> None:
    spec = _tiny_spec(tmp_path, dataset={"loader": "load_iris"}, sampler={"name": "random"})
    path = tmp_path / "resume.yaml"

    def counters(*args: str) -> list[int]:
        assert main(["tune", str(path), "--no-plot", "--n-jobs", "3", *args]) == 0
        out = capsys.readouterr().out
        return [int(ln.split("[")[1].split("/")[0]) for ln in out.splitlines() if ln.startswith("trial ")]

    assert spec.name == "resume"
    assert counters("--trials", "9") == list(range(1, 10))
    assert counters("--trials", "12") == [10, 11, 12]  # a resumed study counts on from what it holds


def test_the_trial_ctrl_c_stopped_is_marked_interrupted_not_failed(tmp_path, monkeypatch) -> None:
    """Stopped inside its fit, the trial is stored as failed with ``hqopt:interrupted`` (QuboSampler
    then treats it as never run), the report says interrupted and counts no failure."""
    import hqopt.automl.tune as tune
    from hqopt.automl.optuna_sampler import INTERRUPTED_KEY

    calls = []
    real = tune.cv_score

    def stopped_at_the_third_trial(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:  # the defaults' score, then three trials
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(tune, "cv_score", stopped_at_the_third_trial)
    data = spec_with(storage=f"sqlite:///{tmp_path / 's.db'}")
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(data))
    spec = load_spec(tmp_path / "spec.yaml")
    report = run_tune(spec, trials=6)
    assert report.interrupted and report.n_complete == 2 and report.n_failed == 0
    stopped = optuna.load_study(study_name="spec", storage=spec.storage).trials[-1]
    assert stopped.state == optuna.trial.TrialState.FAIL and stopped.user_attrs[INTERRUPTED_KEY] is True


def test_a_text_column_of_many_values_is_one_hot_encoded_into_at_most_max_categories_columns():
    """An identifier column once made a dense rows x rows array (12 000 rows: 1.5 GB); now at most 100 columns, and a note."""
    import pandas as pd

    from hqopt.automl.tune import MAX_CATEGORIES, DatasetWarning, preprocessor

    frame = pd.DataFrame({"id": [f"C{i:05d}" for i in range(500)], "plan": ["a", "b"] * 250, "age": np.arange(500.0)})
    with pytest.warns(DatasetWarning, match="column 'id' has 500 distinct values"):
        prep = preprocessor(frame)
    encoded = prep.fit_transform(frame)
    assert encoded.shape == (500, 1 + MAX_CATEGORIES + 2)  # age, id cut down to 100 columns, plan's 2
    assert (encoded[:, 1 : 1 + MAX_CATEGORIES].sum(axis=1) == 1).all()  # every row still in exactly one id column


def test_a_bad_estimator_param_is_named_before_any_fit() -> None:
    spec = parse_spec(spec_with(estimator_params={"criterion": "bogus"}), source="t.yaml")
    with pytest.raises(SpecError, match="'criterion' parameter of DecisionTreeClassifier") as info:
        build_estimator(spec)
    assert info.value.field == "estimator_params"


def test_a_timeout_no_trial_fits_in_is_named_as_the_timeout(tmp_path) -> None:
    with pytest.raises(SpecError, match="no trial started before the timeout") as info:
        run_tune(_tiny_spec(tmp_path), timeout=1e-9)
    assert info.value.field == "timeout"


class PlainEstimator:
    """A scikit-learn-style estimator of another library: BaseEstimator's API without its parameter table."""

    def __init__(self, depth: int = 1) -> None:
        self.depth = depth

    def get_params(self, deep: bool = True) -> dict:
        return {"depth": self.depth}

    def set_params(self, **params):
        self.depth = params.get("depth", self.depth)
        return self

    def fit(self, X, y):
        return self

    def _validate_params(self):  # as BaseEstimator's, which needs the table this class lacks
        raise AttributeError("'PlainEstimator' object has no attribute '_parameter_constraints'")


def test_estimator_params_of_a_class_without_scikit_learns_parameter_table_are_taken() -> None:
    spec = parse_spec(
        spec_with(estimator="test_tune.PlainEstimator", estimator_params={"depth": 3}, search_space={"depth": {"type": "int", "low": 1, "high": 4}}),
        source="t.yaml",
    )
    assert build_estimator(spec, allow_import=True).depth == 3
