from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModelsConfig(AppConfig):
    name = "apps.models"
    label = "models"
    verbose_name = _("Model registry")

    def ready(self) -> None:
        from apps.core.config import declare
        from apps.core.trail import trail_track

        from . import artifacts, batch, training, training_tasks
        from .api.serializers import TrainingRequestSerializer
        from .config import KEYS
        from .models import Model, ModelVersion, PromotionRequest, ReasonText

        declare(*KEYS)
        # The governance trail (VersionEvent stays the lifecycle's own account). Of a version,
        # not the figures a training or an evaluation computed.
        trail_track(Model)
        trail_track(
            ModelVersion,
            exclude=[
                *("metrics", "test_results", "feature_schema", "card"),
                *("training_info", "library_versions", "reasons_reference"),
            ],
        )
        trail_track(PromotionRequest)
        trail_track(ReasonText)
        # Scorecards are stored as their card (JSON), read back without running any code.
        artifacts.register_format(training.SCORECARD_FORMAT, training.scorecard.card_loads, name="scorecard")
        training_tasks.register(serializer=TrainingRequestSerializer)
        batch.register()
