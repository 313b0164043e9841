from django.apps import AppConfig


class QaConfig(AppConfig):
    name = "apps.qa"
    label = "qa"
    verbose_name = "Bank clearing-code question answering"

    def ready(self) -> None:
        from apps.core.config import declare

        from . import services
        from .config import KEYS

        declare(*KEYS)
        services.register()
