"""The one router of the API: no trailing slash, and ids the database can hold.

A detail route's id is matched as 1 to 18 digits, so ``/api/datasets/abc/versions`` or an id
past a bigint never reaches a view (nor the database): it answers 404 in the API's error format
(``apps.core.views.not_found``). 18 digits stay below 2**63 - 1, the largest bigint.
"""

from __future__ import annotations

from django.db import models
from rest_framework.routers import SimpleRouter

ID_PATTERN = "[0-9]{1,18}"
ID_MAXIMUM = 10**18 - 1
# What a viewset may already say of its ids; the router bounds it.
DIGITS_PATTERNS = {r"\d+", "[0-9]+", ID_PATTERN}


def _has_numeric_ids(viewset) -> bool:
    if getattr(viewset, "lookup_field", "pk") not in ("pk", "id"):
        return False
    regex = getattr(viewset, "lookup_value_regex", None)
    if regex is not None:
        return regex in DIGITS_PATTERNS
    queryset = getattr(viewset, "queryset", None)
    if queryset is None:
        # Rows are keyed by DEFAULT_AUTO_FIELD (BigAutoField) unless a model says otherwise,
        # and such a viewset names its model through its queryset.
        return True
    return isinstance(queryset.model._meta.pk, models.IntegerField)  # auto fields included


class Router(SimpleRouter):
    def __init__(self) -> None:
        super().__init__(trailing_slash=False)

    def get_lookup_regex(self, viewset, lookup_prefix: str = "") -> str:
        if not _has_numeric_ids(viewset):
            return super().get_lookup_regex(viewset, lookup_prefix)
        kwarg = getattr(viewset, "lookup_url_kwarg", None) or getattr(viewset, "lookup_field", "pk")
        return self._base_pattern.format(
            lookup_prefix=lookup_prefix, lookup_url_kwarg=kwarg, lookup_value=ID_PATTERN
        )
