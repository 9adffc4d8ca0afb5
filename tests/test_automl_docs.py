"""Every Python block of docs/automl.md runs (the Ray Tune one when Ray is installed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "automl.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_the_doc_has_its_examples() -> None:
    assert len(BLOCKS) == 3  # Optuna, scikit-learn, Ray Tune


CASES = [pytest.param(code, marks=[pytest.mark.slow] if "import ray" in code else [], id=name)
         for code, name in zip(BLOCKS, ["optuna", "sklearn", "ray"])]  # fmt: skip


@pytest.mark.parametrize("code", CASES)
def test_python_block_runs(code: str, capsys) -> None:
    if "import ray" in code:
        pytest.importorskip("ray.tune")
    exec(compile(code, str(DOC), "exec"), {"__name__": "__doc_example__"})  # noqa: S102 - our own docs
    out = capsys.readouterr().out
    assert out.strip()  # each example prints its result
    if "QuboSearchCV" in code:
        from sklearn.datasets import load_breast_cancer
        from sklearn.model_selection import cross_val_score
        from sklearn.tree import DecisionTreeClassifier

        default = cross_val_score(DecisionTreeClassifier(random_state=0), *load_breast_cancer(return_X_y=True), cv=5).mean()
        assert float(out.split()[-2]) > default + 0.005  # the tuned tree beats the default one (0.917)
    elif "study.optimize" in code:
        assert "'kernel': 'rbf'" in out and float(out.split()[-1]) > -0.5  # near the known best (0 at C=10, rbf, 4)
    else:
        assert "'layers'" in out
