from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "apps.datasets"
    label = "datasets"
    verbose_name = "Datasets"

    def ready(self) -> None:
        from apps.core.config import declare
        from apps.core.prometheus import PLATFORM_REGISTRY

        from . import ingestion
        from .config import KEYS
        from .prometheus import DatasetQualityCollector

        declare(*KEYS)
        ingestion.register()
        PLATFORM_REGISTRY.register(DatasetQualityCollector())
