"""Evaluation list filters: by model, version, dataset, dataset version, status, monitoring."""

from __future__ import annotations

import django_filters

from .models import Evaluation, EvaluationStatus, Objective
from .selectors import with_status


class EvaluationFilter(django_filters.FilterSet):
    model = django_filters.NumberFilter(field_name="model_version__model_id")
    version = django_filters.NumberFilter(field_name="model_version_id", help_text="A model version id.")
    dataset = django_filters.NumberFilter(field_name="dataset_version__dataset_id")
    datasetVersion = django_filters.NumberFilter(field_name="dataset_version_id")
    status = django_filters.ChoiceFilter(choices=EvaluationStatus.choices, method="filter_status")
    objective = django_filters.ChoiceFilter(choices=Objective.choices)
    isMonitor = django_filters.BooleanFilter(field_name="is_monitor")

    class Meta:
        model = Evaluation
        fields = []

    def filter_status(self, queryset, name, value):
        return with_status(queryset, value)
