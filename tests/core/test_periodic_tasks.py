"""setup_periodic_tasks writes the platform's beat schedules once."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from apps.core.schedules import PLATFORM_SCHEDULES
from omm.celery import app

pytestmark = pytest.mark.django_db


def snapshot() -> list[tuple]:
    return sorted(
        PeriodicTask.objects.values_list("id", "name", "task", "crontab_id", "queue", "date_changed")
    )


def test_schedules_exist_and_a_second_run_changes_nothing():
    app.loader.import_default_modules()  # what a worker does on start: register every app's tasks
    call_command("setup_periodic_tasks")
    rows = {t.name: t for t in PeriodicTask.objects.select_related("crontab")}
    for schedule in PLATFORM_SCHEDULES:
        task = rows[schedule.name]
        assert task.task == schedule.task and task.enabled
        assert task.crontab.minute == schedule.crontab["minute"]
        assert schedule.task in app.tasks, f"{schedule.task} is not a registered Celery task"
    before, crontabs = snapshot(), CrontabSchedule.objects.count()
    call_command("setup_periodic_tasks")
    assert snapshot() == before
    assert CrontabSchedule.objects.count() == crontabs


def test_an_edited_schedule_is_put_back():
    call_command("setup_periodic_tasks")
    task = PeriodicTask.objects.get(name=PLATFORM_SCHEDULES[0].name)
    task.task = "something.else"
    task.save()
    call_command("setup_periodic_tasks")
    task.refresh_from_db()
    assert task.task == PLATFORM_SCHEDULES[0].task
