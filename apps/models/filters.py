"""Registry list filters."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from .models import Model, ModelStatus, ModelType, ModelVersion, VersionStatus


class ModelFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=ModelType.choices)
    status = django_filters.ChoiceFilter(choices=ModelStatus.choices)
    algorithm = django_filters.CharFilter(max_length=50)
    search = django_filters.CharFilter(method="filter_search", max_length=200)

    class Meta:
        model = Model
        fields = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class ModelVersionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=VersionStatus.choices)
    model = django_filters.NumberFilter(field_name="model_id")
    datasetVersion = django_filters.NumberFilter(field_name="dataset_version_id")

    class Meta:
        model = ModelVersion
        fields = []
