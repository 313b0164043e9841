"""What the figures mean and the constants they depend on: ``METRICS_VERSION``, the PSI and
log-loss epsilons, input limits and ``DEFINITIONS`` (the text a report shows).
"""

from __future__ import annotations

import numpy as np


def _(text: str) -> str:
    """Marks ``text`` for translation (this module imports no Django): the pages show
    ``gettext(text)``, and a note's template is translated before its params go in."""
    return text


METRICS_VERSION = "1.0"

# An empty PSI bin would make ln(a / e) infinite. A share of exactly 0 (and only 0) is
# replaced by PSI_EPSILON, i.e. the bin counts as 0.01 % of its population; shares are
# not renormalised afterwards. Non-empty bins are untouched, so when no bin is empty the
# value equals the plain formula (and toad's PSI on the same bins).
PSI_EPSILON = 1e-4
# Conventional reading of a PSI (or CSI) value; alert thresholds proper live in SystemConfig.
PSI_MODERATE = 0.1
PSI_SIGNIFICANT = 0.25

# Probabilities are clipped to [LOGLOSS_EPSILON, 1 - LOGLOSS_EPSILON] before the logarithm;
# the float64 machine epsilon is what scikit-learn's log_loss clips to (>= 1.5).
LOGLOSS_EPSILON = float(np.finfo(np.float64).eps)

# Multiclass probability rows must sum to 1 within this tolerance for a log loss.
PROBA_SUM_TOLERANCE = 1e-6

MAX_BINS = 1000
MAX_CURVE_POINTS = 100_000
MAX_CATEGORIES = 50  # CSI: rarer baseline categories are pooled into OTHER_CATEGORY
OTHER_CATEGORY = "__other__"
MISSING_CATEGORY = "__missing__"

DEFINITIONS: dict[str, str] = {
    "threshold": _("A row is predicted positive (bad) when score >= threshold."),
    "accuracy": _("(TP + TN) / n at the threshold."),
    "precision": _("TP / (TP + FP) at the threshold; undefined when nothing is predicted positive."),
    "recall": _("TP / (TP + FN) at the threshold (true positive rate)."),
    "f1": _("2·TP / (2·TP + FP + FN) at the threshold."),
    "auc": _(
        "Area under the ROC curve, trapezoids between distinct scores: tied (bad, good) "
        "pairs count one half (equals the Mann-Whitney U / (P·N))."
    ),
    "gini": _("2·AUC - 1."),
    "ks": _(
        "max over thresholds t of |TPR(t) - FPR(t)| with TPR(t) = P(score >= t | bad), "
        "FPR(t) = P(score >= t | good); equals the two-sample Kolmogorov-Smirnov statistic "
        "of the two classes' scores. ks_threshold is the t where it is reached (the highest "
        "such t)."
    ),
    "average_precision": _("Σ (R_k - R_{k-1})·P_k over distinct thresholds, highest first."),
    "log_loss": _(
        "-mean(y·ln p + (1 - y)·ln(1 - p)), p clipped to [ε, 1 - ε], ε = float64 eps; "
        "undefined when a score lies outside [0, 1]."
    ),
    "deciles": _(
        "Cut points are the distinct values of numpy.quantile(score, [0, 1/b, ..., "
        "(b-1)/b]) (linear interpolation) without the first; bucket k holds cut[k-1] <= score < "
        "cut[k] (toad KS_bucket, method 'quantile'); empty buckets are omitted; rows are listed "
        "from the highest scores down, cumulative shares accumulate from the top."
    ),
    "psi": _(
        "Σ (a_i - e_i)·ln(a_i / e_i) over bins frozen from the baseline (its decile cut "
        "points, as for deciles), e = baseline share, a = current share; a share of 0 counts "
        "as PSI_EPSILON."
    ),
    "csi": _(
        "PSI of one feature: numeric features binned on baseline deciles, categorical "
        "features by category; missing values form their own bin."
    ),
    "r2": _("1 - Σ(y - ŷ)² / Σ(y - ȳ)²; undefined when y is constant."),
    "mse": _("mean (y - ŷ)²."),
    "rmse": _("√MSE, in the target's unit."),
    "mae": _("mean |y - ŷ|."),
}
