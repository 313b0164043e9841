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
        from auditlog.models import LogEntry
        from django.db.models.signals import pre_delete, pre_save

        from . import trail
        from .models import SystemConfig, TrailEntry

        post_migrate.connect(_sync_config_defaults, sender=self)
        # The governance trail: its entries completed (actor, address, reason, secrets
        # masked) as they are written, and never changed after.
        for model in (LogEntry, TrailEntry):
            pre_save.connect(trail.fill_entry, sender=model, dispatch_uid=f"omm-trail-fill-{model.__name__}")
            pre_delete.connect(
                trail.refuse_delete, sender=model, dispatch_uid=f"omm-trail-keep-{model.__name__}"
            )
        trail.trail_track(SystemConfig)
