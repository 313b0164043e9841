"""Datasets list filters."""

import django_filters
from django.utils.translation import gettext_lazy as _

from . import selectors
from .models import CodeScheme, Dataset, DatasetKind, DatasetRecord, DatasetStatus
from .texts import KIND_LABELS


class DatasetFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=DatasetKind.choices)
    status = django_filters.ChoiceFilter(choices=DatasetStatus.choices, field_name="latest_status")
    createdBy = django_filters.CharFilter(field_name="created_by__username")
    archived = django_filters.BooleanFilter(field_name="is_archived")

    class Meta:
        model = Dataset
        fields = []


class DatasetRecordFilter(django_filters.FilterSet):
    version = django_filters.NumberFilter(
        method="noop", help_text=_("Version number (default: newest validated).")
    )
    isValid = django_filters.BooleanFilter(field_name="is_valid")
    kind = django_filters.ChoiceFilter(
        choices=list(KIND_LABELS.items()),
        method="with_kind",
        help_text=_("Only lines with a problem or warning of this kind."),
    )
    hasWarnings = django_filters.BooleanFilter(
        method="with_warnings", help_text=_("Only lines with (true) or without (false) warnings.")
    )
    scheme = django_filters.ChoiceFilter(
        choices=CodeScheme.choices[1:], help_text=_("Only lines whose bank code is in this scheme.")
    )

    class Meta:
        model = DatasetRecord
        fields = []

    def noop(self, queryset, name, value):
        return queryset  # chosen by the view before filtering

    def with_kind(self, queryset, name, value):
        return selectors.records_with_kind(queryset, value)

    def with_warnings(self, queryset, name, value):
        return selectors.records_with_warnings(queryset, value)
