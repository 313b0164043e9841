from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationsConfig(AppConfig):
    name = "apps.evaluations"
    label = "evaluations"
    verbose_name = _("Evaluations")

    def ready(self) -> None:
        from apps.core.config import declare
        from apps.core.prometheus import PLATFORM_REGISTRY

        from . import work
        from .api.serializers import EvaluationRequestSerializer
        from .config import KEYS
        from .prometheus import EvaluationCollector

        declare(*KEYS)
        work.register(serializer=EvaluationRequestSerializer)
        PLATFORM_REGISTRY.register(EvaluationCollector())
