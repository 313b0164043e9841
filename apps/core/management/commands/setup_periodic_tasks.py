"""Create or update the platform's own beat schedules. Running it again changes nothing."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from apps.core.schedules import PLATFORM_SCHEDULES


class Command(BaseCommand):
    help = "Create the platform's periodic tasks (django-celery-beat rows) idempotently."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        created = updated = 0
        for schedule in PLATFORM_SCHEDULES:
            fields = {
                "minute": "*",
                "hour": "*",
                "day_of_week": "*",
                "day_of_month": "*",
                "month_of_year": "*",
            }
            fields.update(schedule.crontab)
            crontab, _ = CrontabSchedule.objects.get_or_create(**fields, timezone=settings.TIME_ZONE)
            wanted = {
                "task": schedule.task,
                "crontab": crontab,
                "interval": None,
                "queue": schedule.queue,
                "description": schedule.description,
            }
            task = PeriodicTask.objects.filter(name=schedule.name).first()
            if task is None:
                PeriodicTask.objects.create(name=schedule.name, **wanted)
                created += 1
            elif any(getattr(task, k) != v for k, v in wanted.items()):
                for key, value in wanted.items():
                    setattr(task, key, value)
                task.save()
                updated += 1
        self.stdout.write(
            f"periodic tasks: {created} created, {updated} updated, "
            f"{len(PLATFORM_SCHEDULES) - created - updated} unchanged"
        )
