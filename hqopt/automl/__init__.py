"""AutoML: hyperparameter search whose surrogate model is a QUBO.

* :class:`QuboSampler` -- an Optuna sampler (also usable from Ray Tune via
  ``OptunaSearch(sampler=QuboSampler())``);
* :class:`QuboSearchCV` -- a scikit-learn search (``fit``, ``best_params_``, ``cv_results_``);
* :mod:`hqopt.automl.tune` -- the ``hqopt tune SPEC.yaml`` runner.

Needs the ``automl`` extra (optuna, scikit-learn, scipy).
"""

from hqopt.automl.optuna_sampler import QuboSampler
from hqopt.automl.sklearn_search import QuboSearchCV

__all__ = ["QuboSampler", "QuboSearchCV"]
