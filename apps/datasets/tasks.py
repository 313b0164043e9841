"""Datasets jobs (routed to the ``ingestion`` queue): validating an uploaded version, run
through the work queue's ``run_job`` (the kind's work is in ``ingestion``)."""

from __future__ import annotations

from celery import shared_task

from apps.tasks.tasks import run_job


@shared_task(bind=True)
def run_validation(self, task_id: int) -> str:
    return run_job(self, task_id)
