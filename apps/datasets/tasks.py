"""Datasets background jobs (routed to the ``ingestion`` queue)."""

from __future__ import annotations

from celery import shared_task

from . import services
from .models import DatasetVersion


@shared_task
def validate_dataset_version(version_id: int) -> None:
    if not DatasetVersion.objects.filter(pk=version_id).exists():
        return
    services.dataset_version_validate(version_id=version_id)
