"""The training engine: validate a spec, split, preprocess, train, and score.

Pure module (no Django import). ``train`` takes a ``pyarrow.Table`` and a ``TrainingSpec``
and returns a ``TrainingResult`` whose ``model_bytes`` are LightGBM's text model or a
skops file, plus everything needed to score new data identically (``meta``) and to
trace the run (metrics, library versions, seed, row counts).

Data path: the feature columns are written once into one C-ordered float matrix whose
rows are already in (train, valid) order, so the train and validation sets are views of
it and LightGBM reads them without another copy.

Categorical columns become integer codes over a sorted list of levels saved in
``meta["categorical_levels"]``; at scoring time the same list is used and an unseen
level becomes missing. LightGBM uses those codes as native categoricals; the
scikit-learn models wrap them in a Pipeline (imputer + one-hot encoder for categories,
median imputer + scaler for numbers) that travels inside the skops file.

Layout
------
- ``spec``: ``TrainingSpec``, parameter rules and defaults, ``validate_spec``, the
  result/round/error types;
- ``data``: table -> feature matrix, labels, the train/valid split;
- ``pipelines``: the scikit-learn pipelines and their prototypes;
- ``fit``: the training loop (round callbacks, LightGBM -> scikit-learn fallback), ``train``;
- ``scoring``: ``predict``, ``score_matrix``, ``records_matrix``, ``holdout_metrics``;
- ``reasons``: reason codes (per-feature contributions toward the event, ``top_reasons``).

Assigning a name on this package (``monkeypatch.setattr(training, "_split_order", spy)``)
also rebinds it in every submodule that holds the same object, so the code reading it sees
the change as it did when this was one module.
"""

import lightgbm as lgb

from . import explain, fit, scorecard
from .data import event_class, label_classes_of
from .fit import MAX_ROUNDS_KEPT, MIN_ROWS, library_versions, train
from .pipelines import build_sklearn_pipeline, prototype_pipelines
from .reasons import (
    CompiledReasons,
    compile_reasons,
    reason_contributions,
    reasons_reference,
    top_reasons,
)
from .scoring import (
    contributions,
    feature_matrix,
    holdout_metrics,
    holdout_table,
    predict,
    records_matrix,
    score_matrix,
)
from .spec import (
    ALGORITHMS,
    DEFAULT_PARAMS,
    OBJECTIVES,
    PARAM_RULES,
    SPLITS,
    Cancelled,
    Problem,
    RoundInfo,
    SpecError,
    TrainingResult,
    TrainingSpec,
    _dtype_kind,
    resolved_params,
    validate_spec,
)
from .spec import PARAM_CHECKS as _PARAM_CHECKS

SCORECARD_FORMAT = scorecard.SCORECARD_FORMAT
_PARAM_CHECKS["scorecard"] = scorecard.param_problems
DEFAULT_PARAMS["scorecard"] = dict(scorecard.SCORECARD_PARAM_DEFAULTS)
DEFAULT_TOP_REASONS = explain.DEFAULT_TOP_REASONS
MAX_TOP_REASONS = explain.MAX_TOP_REASONS

# Every name used from outside the package (training_tasks reads _dtype_kind; tests patch
# lgb.train here and a setting where it is read, e.g. ``fit._split_order``).
__all__ = [
    "ALGORITHMS",
    "DEFAULT_PARAMS",
    "DEFAULT_TOP_REASONS",
    "MAX_ROUNDS_KEPT",
    "MAX_TOP_REASONS",
    "MIN_ROWS",
    "OBJECTIVES",
    "PARAM_RULES",
    "SCORECARD_FORMAT",
    "SPLITS",
    "Cancelled",
    "CompiledReasons",
    "Problem",
    "RoundInfo",
    "SpecError",
    "TrainingResult",
    "TrainingSpec",
    "_dtype_kind",
    "build_sklearn_pipeline",
    "compile_reasons",
    "contributions",
    "event_class",
    "explain",
    "feature_matrix",
    "fit",
    "holdout_metrics",
    "holdout_table",
    "label_classes_of",
    "lgb",
    "library_versions",
    "predict",
    "prototype_pipelines",
    "reason_contributions",
    "reasons_reference",
    "records_matrix",
    "resolved_params",
    "score_matrix",
    "scorecard",
    "top_reasons",
    "train",
    "validate_spec",
]
