"""Evaluations' shared constants: request defaults and the headline figures.

Here so that the services (which check requests and compute the figures) and the selectors
(which list them in report order) both import them without importing each other.
"""

from __future__ import annotations

from apps.models.labels import METRIC_LABELS, metric_label  # noqa: F401  (one list, shown everywhere)

from .models import Objective

DEFAULT_THRESHOLD = 0.5
DEFAULT_BINS = 10
MAX_BINS = 100

# The headline figures of an evaluation, in the order reports list them.
HEADLINE: dict[str, tuple[str, ...]] = {
    Objective.BINARY: (
        "auc",
        "gini",
        "ks",
        "psi",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "ks_threshold",
        "average_precision",
        "log_loss",
    ),
    Objective.REGRESSION: ("rmse", "mae", "mse", "r2", "psi"),
    Objective.MULTICLASS: (
        "accuracy",
        "macro_f1",
        "weighted_f1",
        "macro_precision",
        "macro_recall",
        "log_loss",
    ),
}
