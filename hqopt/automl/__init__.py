"""AutoML: hyperparameter search whose surrogate model is a QUBO.

* :class:`QuboSampler` -- an Optuna sampler (also usable from Ray Tune via
  ``OptunaSearch(sampler=QuboSampler())``);
* :class:`QuboSearchCV` -- a scikit-learn search (``fit``, ``best_params_``, ``cv_results_``);
* :mod:`hqopt.automl.tune` -- the ``hqopt tune SPEC.yaml`` runner (CSV datasets
  through a scikit-learn ColumnTransformer, resumable studies, trial export).

Inside the sampler: :mod:`~hqopt.automl.encoding` (search space -> bits),
:mod:`~hqopt.automl.design` (space-filling startup points),
:mod:`~hqopt.automl.surrogate` (BOCS, FM ensemble, held-out likelihood),
:mod:`~hqopt.automl.acquisition` (exact enumeration or ``hqopt.solve``).

Needs the ``automl`` extra (optuna, scikit-learn, scipy, pandas).
"""

from hqopt.automl.optuna_sampler import QuboSampler
from hqopt.automl.sklearn_search import QuboSearchCV

__all__ = ["QuboSampler", "QuboSearchCV"]
