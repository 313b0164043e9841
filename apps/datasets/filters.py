"""Datasets list filters."""

import django_filters

from .models import Dataset, DatasetKind, DatasetRecord, DatasetStatus


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
        method="noop", help_text="Version number (default: newest validated)."
    )
    isValid = django_filters.BooleanFilter(field_name="is_valid")

    class Meta:
        model = DatasetRecord
        fields = []

    def noop(self, queryset, name, value):
        return queryset  # chosen by the view before filtering
