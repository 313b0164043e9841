from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "apps.datasets"
    label = "datasets"
    verbose_name = "Datasets"

    def ready(self) -> None:
        from apps.core.config import declare
        from apps.core.metrics import PLATFORM_REGISTRY

        from .config import KEYS
        from .metrics import DatasetQualityCollector

        declare(*KEYS)
        PLATFORM_REGISTRY.register(DatasetQualityCollector())
