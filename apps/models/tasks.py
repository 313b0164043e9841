"""Model jobs: trainings (on the ``training`` queue) and batch scoring of a dataset version
(on ``prediction``); both run through the work queue's ``run_job``."""

from __future__ import annotations

from celery import shared_task

from apps.tasks.tasks import run_job


@shared_task(bind=True)
def run_batch_prediction(self, task_id: int) -> str:
    return run_job(self, task_id)


@shared_task(bind=True)
def run_training(self, task_id: int) -> str:
    return run_job(self, task_id)
