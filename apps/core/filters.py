"""Core list filters."""

from __future__ import annotations

import django_filters
from auditlog.registry import auditlog

from .models import TRAIL_ACTION_STORED, ApiAuditLog, TrailAction, TrailEntry


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


def tracked_models() -> list[tuple[str, str]]:
    """The kinds of record the trail follows, as ``app_label.model`` (e.g. ``models.modelversion``)."""
    return sorted((m._meta.label_lower, str(m._meta.verbose_name)) for m in auditlog.get_models())


class TrailFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor__username", help_text="The actor's username.")
    model = django_filters.ChoiceFilter(
        choices=tracked_models,
        method="filter_model",
        help_text="The kind of record, as app_label.model (e.g. models.modelversion, users.user).",
    )
    objectId = django_filters.CharFilter(field_name="object_pk", help_text="The record's id.")
    action = django_filters.ChoiceFilter(choices=TrailAction.choices, method="filter_action")

    class Meta:
        model = TrailEntry
        fields = []

    def filter_model(self, queryset, name, value: str):
        app_label, model = value.split(".", 1)
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)

    def filter_action(self, queryset, name, value: str):
        return queryset.filter(action=TRAIL_ACTION_STORED[value])


# "from" is a Python keyword, so the time bounds are added by name.
TrailFilter.base_filters["from"] = django_filters.IsoDateTimeFilter(
    field_name="timestamp", lookup_expr="gte", help_text="Changes at or after this time (ISO 8601)."
)
TrailFilter.base_filters["to"] = django_filters.IsoDateTimeFilter(
    field_name="timestamp", lookup_expr="lt", help_text="Changes before this time (ISO 8601)."
)
