"""Read paths of the work queue."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, QuerySet

from .models import Task, TaskLog, TaskSchedule, TaskStatus


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


# Statuses of work not finished yet, shown on the dashboard (running first).
IN_PROGRESS = (TaskStatus.RUNNING, TaskStatus.QUEUED, TaskStatus.PENDING)


def tasks_in_progress(limit: int = 20) -> list[Task]:
    """Running tasks (longest running first), then waiting ones (oldest first)."""
    rows = tasks_for_list().filter(status__in=IN_PROGRESS)
    running = list(rows.filter(status=TaskStatus.RUNNING).order_by("started_at", "id")[:limit])
    waiting = rows.exclude(status=TaskStatus.RUNNING).order_by("created_at", "id")
    return running + list(waiting[: max(limit - len(running), 0)])


def tasks_failed_since(since: datetime, limit: int = 20) -> QuerySet[Task]:
    """Tasks that ended failed at or after ``since``, newest first."""
    return (
        tasks_for_list()
        .filter(status=TaskStatus.FAILED, completed_at__gte=since)
        .order_by("-completed_at", "-id")[:limit]
    )


def task_status_counts(*, failed_since: datetime) -> dict[str, int]:
    """How many tasks run, wait (pending or queued) and failed since ``failed_since``."""
    return Task.objects.aggregate(
        running=Count("id", filter=Q(status=TaskStatus.RUNNING)),
        waiting=Count("id", filter=Q(status__in=[TaskStatus.PENDING, TaskStatus.QUEUED])),
        failed=Count("id", filter=Q(status=TaskStatus.FAILED, completed_at__gte=failed_since)),
    )
