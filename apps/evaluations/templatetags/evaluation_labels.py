"""Template filters that show an evaluation's codes (statuses, figure names, PSI levels) in
the page's language; the codes stay in the data, the CSS classes and the API."""

from __future__ import annotations

from django import template
from django.utils.translation import pgettext_lazy

from .. import texts
from ..constants import metric_label as _metric_label
from ..export import COLUMN_LABELS
from ..models import EvaluationStatus

register = template.Library()

LEVELS = {
    "stable": pgettext_lazy("PSI level", "stable"),
    "moderate": pgettext_lazy("PSI level", "moderate"),
    "significant": pgettext_lazy("PSI level", "significant"),
}
KINDS = {
    "numeric": pgettext_lazy("feature kind", "numeric"),
    "categorical": pgettext_lazy("feature kind", "categorical"),
}
METHODS = {
    "gain": pgettext_lazy("importance method", "gain"),
    "coefficient": pgettext_lazy("importance method", "coefficient"),
    "impurity": pgettext_lazy("importance method", "impurity"),
    "none": pgettext_lazy("importance method", "none"),
}


def _label(table: dict, value) -> str:
    return str(table.get(value, "" if value is None else value))


@register.filter
def metric_label(name: str) -> str:
    """``auc`` as AUC, ``accuracy`` as the page's word for it."""
    return _metric_label(str(name))


@register.filter
def evaluation_status(value: str) -> str:
    """An evaluation's status code as its label, in lower case as the pages show codes."""
    if value in EvaluationStatus.values:
        return str(EvaluationStatus(value).label).lower()
    return str(value)


@register.filter
def psi_level(value: str) -> str:
    """A PSI (or CSI) reading: stable, moderate or significant."""
    return _label(LEVELS, value)


@register.filter
def feature_kind(value: str) -> str:
    return _label(KINDS, value)


@register.filter
def importance_method(value: str) -> str:
    return _label(METHODS, value)


@register.filter
def column_label(name: str) -> str:
    """A report table's column as the CSV export heads it."""
    return _label(COLUMN_LABELS, name)


@register.filter
def alert_message(alert: dict) -> str:
    """A stored drift alert's message in the page's language."""
    return texts.alert(alert)["message"] or ""
