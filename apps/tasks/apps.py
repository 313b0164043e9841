from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "apps.tasks"
    label = "tasks"
    verbose_name = _("Work queue")

    def ready(self) -> None:
        from django_celery_beat.models import PeriodicTask

        from apps.core.config import declare
        from apps.core.prometheus import PLATFORM_REGISTRY
        from apps.core.trail import trail_track

        from .config import KEYS
        from .models import TaskSchedule
        from .prometheus import TaskCollector

        declare(*KEYS)
        # The governance trail: schedules, OMM's and beat's (not what beat writes at each run).
        trail_track(TaskSchedule)
        trail_track(PeriodicTask, exclude=["last_run_at", "total_run_count", "date_changed"])
        PLATFORM_REGISTRY.register(TaskCollector())
