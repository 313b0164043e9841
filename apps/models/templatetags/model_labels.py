"""Template filters that show stored codes (statuses, objectives, A/B sides) in the page's
language: the code stays in the data and in CSS classes, the reader sees its label."""

from __future__ import annotations

from django import template
from django.utils.translation import pgettext

from apps.tasks.models import TaskStatus

from ..labels import bin_label as _bin_label
from ..labels import candidate_reason as _candidate_reason
from ..labels import metric_label as _metric_label
from ..labels import objective_label
from ..labels import trend_label as _trend_label
from ..models import EventAction, ModelStatus, RequestStatus, VersionSource, VersionStatus

register = template.Library()

_CHOICES = {
    "version": VersionStatus,
    "model": ModelStatus,
    "request": RequestStatus,
    "source": VersionSource,
    "action": EventAction,
    "task": TaskStatus,
}


@register.filter
def status_label(value, kind: str = "version") -> str:
    """The label of code ``value`` among the ``kind`` choices, in lower case as the pages
    show codes (``active`` in English); an unknown code is shown as it is."""
    choices = _CHOICES.get(kind)
    if choices is None or value in (None, "") or value not in choices.values:
        return "" if value is None else str(value)
    return str(choices(value).label).lower()


@register.filter
def objective(value) -> str:
    """A version's objective (``binary``) in the page's language; blank stays blank."""
    return objective_label(value)


@register.filter
def ab_side(value) -> str:
    """The A/B side a request went to: ``active`` (the active version) or ``B``."""
    if value == "active":
        return pgettext("A/B side", "active")
    return str(value)


@register.filter
def metric_label(name) -> str:
    """A figure's on-screen name (``accuracy`` -> 准确率; AUC, KS as they are)."""
    return _metric_label(str(name))


@register.filter
def candidate_reason(value) -> str:
    """Why a scorecard candidate was left out, in the page's language."""
    return _candidate_reason(value)


@register.filter
def trend(value) -> str:
    """A binning trend (``ascending``) in the page's language."""
    return _trend_label(value)


@register.filter
def bin_label(value) -> str:
    """A scorecard bin's label: data for intervals and groups, words for missing and other."""
    return _bin_label(value or {})
