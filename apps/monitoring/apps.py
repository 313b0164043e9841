"""Models watched over time: stability by period, outcomes, vintages, estimated performance."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    label = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self) -> None:
        from apps.core.config import declare

        from .config import KEYS

        declare(*KEYS)
