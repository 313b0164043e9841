"""Alert rules over monitoring figures, alerts with their history, and their delivery (webhooks, email)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "apps.alerts"
    label = "alerts"
    verbose_name = _("Alerts")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from apps.core.config import declare
        from apps.core.prometheus import PLATFORM_REGISTRY
        from apps.core.trail import trail_track
        from apps.models.models import VersionEvent

        from .config import KEYS
        from .models import AlertRule, Webhook
        from .prometheus import AlertCollector
        from .receivers import version_event_saved

        declare(*KEYS)
        trail_track(AlertRule)
        trail_track(Webhook, masked=["secret_sealed"])
        PLATFORM_REGISTRY.register(AlertCollector())
        post_save.connect(version_event_saved, sender=VersionEvent, dispatch_uid="alerts.version_event_saved")
