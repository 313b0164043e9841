from django.apps import AppConfig


class FeaturesConfig(AppConfig):
    name = "apps.features"
    label = "features"
    verbose_name = "Feature center"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the tag_text sync
