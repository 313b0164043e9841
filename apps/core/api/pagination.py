"""The one list shape of the API: {data, total, page, pageSize}."""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


class StandardPagination(PageNumberPagination):
    page_query_param = "page"
    page_size_query_param = "pageSize"
    max_page_size = 200

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({"pageSize": [gettext("Must be an integer.")]}) from None
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {
                    "pageSize": [
                        gettext("Must be between %(min)s and %(max)s.")
                        % {"min": 1, "max": self.max_page_size}
                    ]
                }
            )
        return size

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param, "1")
        try:
            page = int(raw)
        except ValueError:
            raise ValidationError({"page": [gettext("Must be an integer.")]}) from None
        if page < 1:
            raise ValidationError({"page": [gettext("Must be 1 or more.")]})
        # Past the last page answers an empty page, not an error: the total tells why.
        self.request = request
        size = self.get_page_size(request)
        self._page, self._size = page, size
        self._total = queryset.count()
        start = (page - 1) * size
        return list(queryset[start : start + size])

    def get_paginated_response(self, data) -> Response:
        return Response({"data": data, "total": self._total, "page": self._page, "page_size": self._size})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["data", "total", "page", "pageSize"],
            "properties": {
                "data": schema,
                "total": {"type": "integer", "example": 123},
                "page": {"type": "integer", "example": 1},
                "pageSize": {"type": "integer", "example": 20},
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": "page",
                "required": False,
                "in": "query",
                "description": "Page number, from 1.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": "pageSize",
                "required": False,
                "in": "query",
                "description": f"Rows per page, 1 to {self.max_page_size}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
