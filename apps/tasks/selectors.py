"""Read paths of the work queue."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from .models import Task, TaskLog, TaskSchedule


def recent_logs(task: Task, *, after: int | None = None, limit: int = 50) -> list[TaskLog]:
    """The task's newest ``limit`` log rows in order, or the rows after id ``after``."""
    qs = TaskLog.objects.filter(task=task)
    if after is not None:
        return list(qs.filter(id__gt=after).order_by("id")[:limit])
    return list(reversed(qs.order_by("-id")[:limit]))


def tasks_for_list() -> QuerySet[Task]:
    return Task.objects.select_related("created_by", "schedule")


def schedules_for_list() -> QuerySet[TaskSchedule]:
    return TaskSchedule.objects.select_related(
        "created_by", "periodic_task__interval", "periodic_task__crontab"
    ).annotate(run_count=Count("runs"))


def log_for_page(task: Task, *, rounds: int = 50, events: int = 500) -> list[TaskLog]:
    """A task's log as its page first shows it: the newest ``events`` messages and the newest
    ``rounds`` training rounds (a long training logs thousands), in order."""
    qs = TaskLog.objects.filter(task=task).order_by("-id")
    rows = [*qs.filter(step__isnull=True)[:events], *qs.filter(step__isnull=False)[:rounds]]
    return sorted(rows, key=lambda row: row.pk)
