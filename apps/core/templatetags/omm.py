"""Template filters shared by the analyst pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent(value, digits: int = 2) -> str:
    """A share in [0, 1] as a percentage ("99.87 %"); blank for None or non-numbers."""
    try:
        return f"{float(value) * 100:.{int(digits)}f} %"
    except (TypeError, ValueError):
        return ""
