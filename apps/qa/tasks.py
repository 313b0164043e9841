"""QA jobs: building a retrieval index (``training`` queue) and accuracy evaluations
(``evaluation`` queue), both run through the work queue's ``run_job``."""

from __future__ import annotations

from celery import shared_task

from apps.tasks.tasks import run_job


@shared_task(bind=True)
def run_build(self, task_id: int) -> str:
    return run_job(self, task_id)


@shared_task(bind=True)
def run_evaluation(self, task_id: int) -> str:
    return run_job(self, task_id)
