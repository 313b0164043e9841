from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModelsConfig(AppConfig):
    name = "apps.models"
    label = "models"
    verbose_name = _("Model registry")

    def ready(self) -> None:
        from apps.core.config import declare

        from . import batch, training_tasks
        from .api.serializers import TrainingRequestSerializer
        from .config import KEYS

        declare(*KEYS)
        training_tasks.register(serializer=TrainingRequestSerializer)
        batch.register()
