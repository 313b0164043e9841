from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "apps.tasks"
    label = "tasks"
    verbose_name = "Work queue"

    def ready(self) -> None:
        from apps.core.config import declare
        from apps.core.prometheus import PLATFORM_REGISTRY

        from .config import KEYS
        from .prometheus import TaskCollector

        declare(*KEYS)
        PLATFORM_REGISTRY.register(TaskCollector())
