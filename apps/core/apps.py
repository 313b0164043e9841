from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_config_defaults(sender, **kwargs) -> None:
    from .config import config_sync_defaults

    config_sync_defaults()


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = _("Platform")

    def ready(self) -> None:
        post_migrate.connect(_sync_config_defaults, sender=self)
