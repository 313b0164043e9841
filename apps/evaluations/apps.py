from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "apps.evaluations"
    label = "evaluations"
    verbose_name = "Evaluations"

    def ready(self) -> None:
        from apps.core.config import declare
        from apps.core.metrics import PLATFORM_REGISTRY

        from . import services
        from .config import KEYS
        from .prometheus import EvaluationCollector

        declare(*KEYS)
        services.register()
        PLATFORM_REGISTRY.register(EvaluationCollector())
