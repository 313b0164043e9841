from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeaturesConfig(AppConfig):
    name = "apps.features"
    label = "features"
    verbose_name = _("Feature center")

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the tag_text sync
