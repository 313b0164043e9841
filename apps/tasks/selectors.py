"""Read paths of the work queue."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from .models import Task, TaskLog, TaskStatus


def recent_logs(task: Task, *, after: int | None = None, limit: int = 50) -> list[TaskLog]:
    """The task's newest ``limit`` log rows in order, or the rows after id ``after``."""
    qs = TaskLog.objects.filter(task=task)
    if after is not None:
        return list(qs.filter(id__gt=after).order_by("id")[:limit])
    return list(reversed(qs.order_by("-id")[:limit]))


def tasks_for_list() -> QuerySet[Task]:
    return Task.objects.select_related("created_by", "schedule", "model_version__model")


def status_counts() -> dict[str, int]:
    counts = dict.fromkeys(TaskStatus.values, 0)
    for row in Task.objects.values("status").order_by().annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts
