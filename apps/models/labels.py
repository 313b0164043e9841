"""What the registry's codes are called on screen: objectives and algorithms.

The codes (``binary``, ``logistic_regression``) are data and API values; these are the
words the pages, forms and admin show for them, in the reader's language.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import VersionStatus

OBJECTIVE_LABELS = {
    "binary": pgettext_lazy("objective", "binary"),
    "multiclass": pgettext_lazy("objective", "multiclass"),
    "regression": pgettext_lazy("objective", "regression"),
}
ALGORITHM_LABELS = {
    "lightgbm": "LightGBM",
    "logistic_regression": _("Logistic regression"),
    "random_forest": _("Random forest"),
}


def objective_label(value: str | None) -> str:
    """``binary`` in the reader's language; an unknown objective as it is, None as blank."""
    if not value:
        return ""
    return str(OBJECTIVE_LABELS.get(value, value))


def algorithm_label(value: str | None) -> str:
    if not value:
        return ""
    return str(ALGORITHM_LABELS.get(value, value))


def version_status_label(code: str | None) -> str:
    """A version status code (``active``) as its label in lower case, as the pages show
    statuses; a blank one (a registration's "from") as "-", an unknown one as it is."""
    if code in VersionStatus.values:
        return str(VersionStatus(code).label).lower()
    return code or "-"


# What each figure is called on screen (reports, comparisons, exports, the admin). KS, AUC,
# PSI, Gini, F1 and the error measures keep their names in every language.
METRIC_LABELS: dict[str, str] = {
    "auc": "AUC",
    "gini": "Gini",
    "ks": "KS",
    "ks_threshold": _("KS threshold"),
    "psi": "PSI",
    "csi": "CSI",
    "accuracy": _("accuracy"),
    "precision": _("precision"),
    "recall": _("recall"),
    "f1": "F1",
    "f1_score": "F1",
    "average_precision": _("average precision"),
    "log_loss": _("log loss"),
    "threshold": _("threshold"),
    "deciles": _("lift table (buckets)"),
    "lift": _("lift"),
    "rmse": "RMSE",
    "mae": "MAE",
    "mse": "MSE",
    "r2": "R²",
    "macro_f1": _("macro F1"),
    "weighted_f1": _("weighted F1"),
    "macro_precision": _("macro precision"),
    "macro_recall": _("macro recall"),
}


def metric_label(name: str) -> str:
    """The on-screen name of figure ``name``; an unknown one by its key, spaced out."""
    return str(METRIC_LABELS.get(name, name.replace("_", " ")))
