"""What the registry's codes are called on screen: objectives and algorithms.

The codes (``binary``, ``logistic_regression``) are data and API values; these are the
words the pages, forms and admin show for them, in the reader's language.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

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
    "scorecard": _("Scorecard"),
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


# Why a scorecard candidate was left out, as the card stores it (in English, the engine's
# words): the fixed reasons and the patterns of the worded ones, read in the page's language.
_CANDIDATE_PATTERNS = (
    (
        re.compile(r"^correlated with (?P<other>.+) \(r=(?P<r>-?[\d.]+)\)$"),
        "correlated with %(other)s (r=%(r)s)",
    ),
    (re.compile(r"^beyond max_features \((?P<n>\d+)\)$"), "beyond max_features (%(n)s)"),
)
_CANDIDATE_REASONS = {
    "excluded by an edit": _("excluded by an edit"),
    "iv below min_iv": _("iv below min_iv"),
    "one bin holds every row": _("one bin holds every row"),
    "single value": _("single value"),
    "no values": _("no values"),
}


def candidate_reason(text: str | None) -> str:
    """A scorecard candidate's reason (``iv below min_iv``) in the reader's language."""
    if not text:
        return ""
    if text in _CANDIDATE_REASONS:
        return str(_CANDIDATE_REASONS[text])
    for pattern, template in _CANDIDATE_PATTERNS:
        match = pattern.match(text)
        if match:
            return gettext(template) % match.groupdict()
    return text


TREND_LABELS = {
    "ascending": pgettext_lazy("event-rate trend", "ascending"),
    "descending": pgettext_lazy("event-rate trend", "descending"),
    "peak": pgettext_lazy("event-rate trend", "peak"),
    "valley": pgettext_lazy("event-rate trend", "valley"),
    "none": pgettext_lazy("event-rate trend", "none"),
    "auto": pgettext_lazy("event-rate trend", "auto"),
    "auto_asc_desc": pgettext_lazy("event-rate trend", "auto (ascending or descending)"),
}


def trend_label(code: str | None) -> str:
    """A binning trend code (``ascending``) in the reader's language."""
    return str(TREND_LABELS.get(code or "", code or ""))


BIN_KIND_LABELS = {
    "interval": pgettext_lazy("scorecard bin", "interval"),
    "categories": pgettext_lazy("scorecard bin", "categories"),
    "special": pgettext_lazy("scorecard bin", "special values"),
    "missing": pgettext_lazy("scorecard bin", "missing"),
    "other": pgettext_lazy("scorecard bin", "other"),
}


def bin_kind_label(code: str | None) -> str:
    """A scorecard bin's kind (``interval``) in the reader's language."""
    return str(BIN_KIND_LABELS.get(code or "", code or ""))


def bin_label(item: dict) -> str:
    """A scorecard bin as the reader reads it: intervals and level groups as they are (data),
    the missing, other and special-value bins in the reader's language."""
    kind = item.get("kind")
    if kind in ("missing", "other"):
        return bin_kind_label(kind)
    if kind == "special":
        values = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in item.get("values") or [])
        return gettext("special: %(values)s") % {"values": values}
    return str(item.get("label", ""))
