"""Template filters that show QA's stored codes (how an answer matched, a failure's kind,
task and version statuses) in the page's language; the code stays in the data and CSS."""

from __future__ import annotations

from django import template
from django.db import models

from apps.models.models import VersionStatus
from apps.tasks.models import TaskStatus

from ..labels import FAILURE_KINDS, MATCHED_BY, label

register = template.Library()

_STATUSES: dict[str, type[models.TextChoices]] = {"task": TaskStatus, "version": VersionStatus}


@register.filter
def matched_by_label(value) -> str:
    return label(MATCHED_BY, value)


@register.filter
def failure_kind_label(value) -> str:
    return label(FAILURE_KINDS, value)


@register.filter
def status_text(value, kind: str = "task") -> str:
    """A task or version status in lower case, as the pages show codes (``completed``)."""
    choices = _STATUSES.get(kind)
    if choices is None or value not in choices.values:
        return "" if value is None else str(value)
    return str(choices(value).label).lower()
