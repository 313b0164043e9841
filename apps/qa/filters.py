"""QA history filters: by user, session, model version, date, feedback."""

from __future__ import annotations

import django_filters

from .models import QAHistory


class QAHistoryFilter(django_filters.FilterSet):
    user = django_filters.CharFilter(field_name="user__username", help_text="A username (admins).")
    session = django_filters.NumberFilter(field_name="session_id")
    modelVersion = django_filters.NumberFilter(field_name="model_version_id", help_text="A model version id.")
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    date = django_filters.DateFilter(field_name="created_at", lookup_expr="date", help_text="YYYY-MM-DD.")
    feedback = django_filters.ChoiceFilter(
        choices=[("1", "Right"), ("-1", "Wrong"), ("none", "None")], method="filter_feedback"
    )
    sure = django_filters.BooleanFilter()

    class Meta:
        model = QAHistory
        fields = []

    def filter_feedback(self, queryset, name, value: str):
        if value == "none":
            return queryset.filter(feedback__isnull=True)
        return queryset.filter(feedback=int(value))
