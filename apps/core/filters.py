"""Core list filters."""

import django_filters

from .models import ApiAuditLog


class ApiAuditLogFilter(django_filters.FilterSet):
    username = django_filters.CharFilter()
    method = django_filters.ChoiceFilter(
        choices=[(m, m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")]
    )
    statusCode = django_filters.NumberFilter(field_name="status_code")
    path = django_filters.CharFilter(lookup_expr="startswith")
    createdAfter = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    createdBefore = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = ApiAuditLog
        fields = []
