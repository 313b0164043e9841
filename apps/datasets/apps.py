from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DatasetsConfig(AppConfig):
    name = "apps.datasets"
    label = "datasets"
    verbose_name = _("Datasets")

    def ready(self) -> None:
        from apps.core.config import declare
        from apps.core.prometheus import PLATFORM_REGISTRY

        from . import ingestion
        from .config import KEYS
        from .prometheus import DatasetQualityCollector

        declare(*KEYS)
        ingestion.register()
        PLATFORM_REGISTRY.register(DatasetQualityCollector())
