"""`hqopt tune`: spec checking (errors name the field), datasets, the CLI on a shipped spec, resuming."""

from __future__ import annotations

import importlib
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
import yaml

from hqopt.automl.tune import (
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
        ({"search_space": {"C": {"type": "float", "low": 0, "high": 1, "log": True}}}, "search_space.C"),
        ({"search_space": {"C": {"type": "float", "low": "a", "high": 1}}}, "search_space.C.low"),
        ({"search_space": {"k": {"type": "categorical", "choices": []}}}, "search_space.k"),
        ({"search_space": {"k": {"type": "complex"}}}, "search_space.k.type"),
        ({"sampler": {"name": "cmaes"}}, "sampler.name"),
        ({"sampler": {"name": "qubo", "surrogate": "gp"}}, "sampler.surrogate"),
        ({"scoring": "accurasy"}, "scoring"),
        ({"storage": "results.db"}, "storage"),
    ],
)
def test_bad_spec_fields_are_named(changes: dict, field: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(spec_with(**changes), source="t.yaml")
    assert info.value.field == field
    assert f"field '{field}'" in str(info.value) and str(info.value).startswith("t.yaml: ")


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


def test_cli_bad_spec_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec_with(estimator="os.system")))
    assert main(["tune", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "field 'estimator'" in err and "--allow-import" in err
    assert "\n" not in err
    path.write_text("name: x\nestimator: [unclosed\n")
    assert main(["tune", str(path)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {path}:3: invalid YAML: expected ',' or ']', but got '<stream end>'"
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
    study = optuna.create_study(direction="maximize")
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + (t.suggest_categorical("k", ["a", "b", None]) == "b")
                   + t.suggest_int("n", 1, 9), n_trials=6)  # fmt: skip
    path = export_trials(study, tmp_path / f"trials{suffix}")
    records = read_trials(path)
    assert [r["number"] for r in records] == [t.number for t in study.trials]
    for r, t in zip(records, study.trials):
        assert r["state"] == "COMPLETE" and r["value"] == pytest.approx(t.value, rel=1e-12)
        assert r["params_x"] == pytest.approx(t.params["x"], rel=1e-12) and r["params_n"] == t.params["n"]
        assert r["params_k"] == t.params["k"]  # None comes back as None from both formats
        assert r["duration_s"] >= 0


def _tiny_spec(tmp_path: Path, **changes) -> object:
    data = spec_with(storage=f"sqlite:///{tmp_path / 'resume.db'}", trials=3, **changes)
    (tmp_path / "resume.yaml").write_text(yaml.safe_dump(data))
    return load_spec(tmp_path / "resume.yaml")


def test_resume_with_a_changed_space_warns_and_offers_a_choice(tmp_path, capsys) -> None:
    first = run_tune(_tiny_spec(tmp_path))
    assert first.n_complete == 3
    changed_space = {"max_depth": {"type": "int", "low": 1, "high": 4}, "criterion": GOOD["search_space"]["criterion"]}
    changed = _tiny_spec(tmp_path, search_space=changed_space)
    with pytest.raises(SpecError, match=r"another search space \(changed: max_depth\)"):
        run_tune(changed, trials=4)
    with pytest.warns(UserWarning, match="changed: max_depth"):
        kept = run_tune(changed, trials=4, space_changed="continue")
    assert kept.study_name == "resume" and kept.n_complete == 4
    fresh = run_tune(changed, trials=2, space_changed="new")
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
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
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

