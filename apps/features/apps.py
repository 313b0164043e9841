from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeaturesConfig(AppConfig):
    name = "apps.features"
    label = "features"
    verbose_name = _("Feature center")

    def ready(self) -> None:
        from apps.core.trail import trail_track

        from . import signals  # noqa: F401 - connects the tag_text sync
        from .models import Feature, FeatureSet, FeatureVersion

        # The governance trail: features (tag_text is derived from the tags), their definitions
        # (statistics are computed, not decided) and feature sets (their members are recorded
        # by the services, which write them in bulk).
        trail_track(Feature, exclude=["tag_text"], m2m=["tags"])
        trail_track(FeatureVersion, exclude=["statistics"])
        trail_track(FeatureSet)
