"""The one list shape of the API: {data, total, page, pageSize}.

``page`` and ``pageSize`` are bounded here, for every list, and the bounds are the ones the
OpenAPI document declares (``apps.core.api.schema`` reads them from this class)."""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


def _bounds_message(low: int, high: int) -> str:
    return gettext("Must be between %(min)s and %(max)s.") % {"min": low, "max": high}


class StandardPagination(PageNumberPagination):
    page_query_param = "page"
    page_size_query_param = "pageSize"
    max_page_size = 200
    # The largest page number asked for in earnest is far below; the bound keeps an offset
    # (page x pageSize) well inside a bigint.
    max_page = 2**31 - 1

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({"pageSize": [gettext("Must be an integer.")]}) from None
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({"pageSize": [_bounds_message(1, self.max_page_size)]})
        return size

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param, "1")
        try:
            page = int(raw)
        except ValueError:
            raise ValidationError({"page": [gettext("Must be an integer.")]}) from None
        if not 1 <= page <= self.max_page:
            raise ValidationError({"page": [_bounds_message(1, self.max_page)]})
        # Past the last page answers an empty page, not an error: the total tells why.
        self.request = request
        size = self.get_page_size(request)
        self._page, self._size = page, size
        self._total = queryset.count()
        start = (page - 1) * size
        if start >= self._total:
            return []
        return list(queryset[start : start + size])

    def get_paginated_response(self, data) -> Response:
        return Response({"data": data, "total": self._total, "page": self._page, "page_size": self._size})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["data", "total", "page", "pageSize"],
            "properties": {
                "data": schema,
                "total": {"type": "integer", "minimum": 0, "example": 123},
                "page": {"type": "integer", "minimum": 1, "maximum": self.max_page, "example": 1},
                "pageSize": {"type": "integer", "minimum": 1, "maximum": self.max_page_size, "example": 20},
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return page_parameters()


def page_parameters() -> list[dict]:
    """``page`` and ``pageSize`` as the OpenAPI document declares them."""
    paginator = StandardPagination
    return [
        {
            "name": paginator.page_query_param,
            "required": False,
            "in": "query",
            "description": "Page number, from 1; past the last page the list is empty.",
            "schema": {"type": "integer", "minimum": 1, "maximum": paginator.max_page},
        },
        {
            "name": paginator.page_size_query_param,
            "required": False,
            "in": "query",
            "description": f"Rows per page, 1 to {paginator.max_page_size}.",
            "schema": {"type": "integer", "minimum": 1, "maximum": paginator.max_page_size},
        },
    ]
