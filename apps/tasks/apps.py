from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "apps.tasks"
    label = "tasks"
    verbose_name = _("Work queue")

    def ready(self) -> None:
        from apps.core.config import declare
        from apps.core.prometheus import PLATFORM_REGISTRY

        from .config import KEYS
        from .prometheus import TaskCollector

        declare(*KEYS)
        PLATFORM_REGISTRY.register(TaskCollector())
