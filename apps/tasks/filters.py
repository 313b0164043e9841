"""Work-queue list filters."""

from __future__ import annotations

import django_filters

from .models import Priority, Task, TaskStatus, TaskType


class TaskFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=TaskType.choices)
    status = django_filters.MultipleChoiceFilter(choices=TaskStatus.choices)
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    createdBy = django_filters.CharFilter(field_name="created_by__username")
    schedule = django_filters.NumberFilter(field_name="schedule_id")

    class Meta:
        model = Task
        fields = []
