from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModelsConfig(AppConfig):
    name = "apps.models"
    label = "models"
    verbose_name = _("Model registry")

    def ready(self) -> None:
        from apps.core.config import declare

        from . import artifacts, batch, training, training_tasks
        from .api.serializers import TrainingRequestSerializer
        from .config import KEYS

        declare(*KEYS)
        # Scorecards are stored as their card (JSON), read back without running any code.
        artifacts.register_format(training.SCORECARD_FORMAT, training.scorecard.card_loads, name="scorecard")
        training_tasks.register(serializer=TrainingRequestSerializer)
        batch.register()
