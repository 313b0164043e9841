"""Schedules: a task request run by beat on an interval or a cron (django-celery-beat).

Each run is a normal task of its kind; a run delivered twice (same trigger key) creates one.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from .errors import RequestInvalid
from .kinds import kind_for, kind_key
from .models import Priority, Task, TaskSchedule, TaskStatus, TaskType
from .services import creation_allowed, resource_config_clean

S = TaskStatus

SCHEDULE_TASK = "tasks.run_schedule"


def _beat_schedule(every_minutes: int | None, cron: str | None) -> dict[str, Any]:
    from django.conf import settings

    if bool(every_minutes) == bool(cron):
        raise RequestInvalid({"schedule": [gettext("Give either everyMinutes or cron, not both.")]})
    if every_minutes:
        if (
            isinstance(every_minutes, bool)
            or not isinstance(every_minutes, int)
            or not 1 <= every_minutes <= 525_600
        ):
            raise RequestInvalid({"every_minutes": [gettext("Must be an integer between 1 and 525600.")]})
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=every_minutes, period=IntervalSchedule.MINUTES
        )
        return {"interval": interval, "crontab": None}
    parts = str(cron).split()
    if len(parts) != 5:
        raise RequestInvalid(
            {"cron": [gettext("A cron has five fields: minute hour day-of-month month day-of-week.")]}
        )
    minute, hour, dom, month, dow = parts
    try:
        from celery.schedules import crontab

        crontab(minute=minute, hour=hour, day_of_month=dom, month_of_year=month, day_of_week=dow)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise RequestInvalid({"cron": [gettext("Not a valid cron: %(error)s") % {"error": exc}]}) from None
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_month=dom,
        month_of_year=month,
        day_of_week=dow,
        timezone=settings.TIME_ZONE,
    )
    return {"interval": None, "crontab": schedule}


def schedule_create(
    *,
    user,
    name: str,
    request: dict,
    every_minutes: int | None = None,
    cron: str | None = None,
    priority: str = Priority.MEDIUM,
    resource_config: dict | None = None,
    enabled: bool = True,
    type: str = TaskType.TRAINING,
) -> TaskSchedule:
    """Put a training (or another schedulable kind) on a schedule. The request is checked
    now and again at every run (a run without a dataset version uses the newest validated one)."""
    kind = kind_for(kind_key(type, request))
    if kind is None:
        raise RequestInvalid(
            {"type": [gettext("%(type)s tasks cannot be scheduled.") % {"type": repr(type)}]}
        )
    creation_allowed(user, kind)
    name = (name or "").strip()
    if not name:
        raise RequestInvalid({"name": [gettext("A schedule name is required.")]})
    if (
        TaskSchedule.objects.filter(name=name).exists()
        or PeriodicTask.objects.filter(name=f"omm {type}: {name}").exists()
    ):
        raise RequestInvalid({"name": [gettext("A schedule named %(name)s exists.") % {"name": repr(name)}]})
    if priority not in Priority.values:
        raise RequestInvalid(
            {"priority": [gettext("Unknown priority %(priority)s.") % {"priority": repr(priority)}]}
        )
    resources = resource_config_clean(resource_config)
    kind.check(request, resources)
    stored_request = {k: v for k, v in request.items() if v is not None}
    with transaction.atomic():
        timing = _beat_schedule(every_minutes, cron)
        periodic = PeriodicTask.objects.create(
            name=f"omm {type}: {name}",
            task=SCHEDULE_TASK,
            queue="default",
            enabled=enabled,
            description=f"Runs a {type} task ({request.get('name') or name}); an OMM schedule.",
            **timing,
        )
        schedule = TaskSchedule.objects.create(
            name=name,
            type=type,
            parameters=stored_request,
            priority=priority,
            resource_config=resources,
            periodic_task=periodic,
            created_by=user,
        )
        periodic.kwargs = json.dumps({"schedule_id": schedule.pk})
        periodic.save(update_fields=["kwargs"])
    return schedule


def schedule_set_enabled(*, schedule: TaskSchedule, enabled: bool) -> TaskSchedule:
    periodic = schedule.periodic_task
    periodic.enabled = enabled
    periodic.save()  # django-celery-beat also resets last_run_at when disabling
    return schedule


def schedule_delete(*, schedule: TaskSchedule) -> None:
    # Deleting the PeriodicTask cascades to the schedule; past runs keep their rows.
    schedule.periodic_task.delete()


def schedule_run(*, schedule_id: int, trigger_key: str) -> Task | None:
    """One scheduled run: a normal task. A run delivered twice (same key) creates one task."""
    schedule = TaskSchedule.objects.select_related("created_by").filter(pk=schedule_id).first()
    if schedule is None:
        return None
    existing = Task.objects.filter(trigger_key=trigger_key).first()
    if existing is not None:
        return existing
    try:
        kind = kind_for(kind_key(schedule.type, schedule.parameters))
        if kind is None:
            raise RequestInvalid(
                {"type": [gettext("%(type)s tasks cannot be scheduled.") % {"type": repr(schedule.type)}]}
            )
        with transaction.atomic():
            return kind.create(
                user=schedule.created_by,
                request={**schedule.parameters, "task_name": f"{schedule.name} (scheduled)"},
                priority=schedule.priority,
                resource_config=schedule.resource_config,
                schedule=schedule,
                trigger_key=trigger_key,
            )
    except IntegrityError:
        return Task.objects.filter(trigger_key=trigger_key).first()
    except RequestInvalid as exc:
        # Keep a visible record: the run was due and could not start.
        return Task.objects.create(
            name=f"{schedule.name} (scheduled)",
            type=schedule.type,
            status=S.FAILED,
            priority=schedule.priority,
            parameters=schedule.parameters,
            schedule=schedule,
            trigger_key=trigger_key,
            created_by=schedule.created_by,
            error=gettext("The scheduled request is no longer valid: %(error)s") % {"error": exc},
            completed_at=timezone.now(),
        )
