from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DatasetsConfig(AppConfig):
    name = "apps.datasets"
    label = "datasets"
    verbose_name = _("Datasets")

    def ready(self) -> None:
        from apps.core.config import declare
        from apps.core.prometheus import PLATFORM_REGISTRY
        from apps.core.trail import trail_track

        from . import ingestion
        from .config import KEYS
        from .models import Dataset, DatasetVersion
        from .prometheus import DatasetQualityCollector

        declare(*KEYS)
        # The governance trail: datasets, and of their versions what people set (validation
        # results and progress are the ingestion task's, not changes anyone made).
        trail_track(Dataset)
        trail_track(
            DatasetVersion,
            include=[
                *("original_filename", "file_size", "sha256", "declared_encoding"),
                *("label_column", "time_column", "key_columns", "is_archived", "created_by"),
            ],
        )
        ingestion.register()
        PLATFORM_REGISTRY.register(DatasetQualityCollector())
