"""Template filters that show the datasets' stored codes (a version's status, a code
scheme, a problem or warning kind) in the page's language; the code stays in the data and CSS."""

from __future__ import annotations

from django import template
from django.utils.translation import pgettext_lazy

from ..models import CodeScheme, DatasetStatus
from ..texts import kind_label, record_error_text, record_warning_text

register = template.Library()


@register.filter
def status_text(value) -> str:
    """A version's status in lower case, as the pages show codes (``validated``)."""
    if value not in DatasetStatus.values:
        return "" if value is None else str(value)
    return str(DatasetStatus(value).label).lower()


@register.filter
def scheme_text(value) -> str:
    if value not in CodeScheme.values:
        return "" if value is None else str(value)
    return str(CodeScheme(value).label)


@register.filter
def kind_text(value) -> str:
    return kind_label(str(value))


@register.filter
def record_errors(record) -> str:
    """Why a bank-record line is invalid, in the page's language."""
    return record_error_text(record)


@register.filter
def record_warnings(record) -> str:
    return record_warning_text(record)


_COLUMN_KINDS = {
    "numerical": pgettext_lazy("column kind", "numerical"),
    "categorical": pgettext_lazy("column kind", "categorical"),
    "text": pgettext_lazy("column kind", "text"),
    "datetime": pgettext_lazy("column kind", "datetime"),
    "boolean": pgettext_lazy("column kind", "boolean"),
}


@register.filter
def column_kind_text(value) -> str:
    """A profiled column's kind (``numerical``...) in the page's language."""
    return str(_COLUMN_KINDS.get(value, value or ""))
