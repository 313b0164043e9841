"""Model jobs: trainings (on the ``training`` queue) and batch scoring of a dataset version
(on ``prediction``); both run through the work queue's ``run_job``."""

from __future__ import annotations

from celery import shared_task

from apps.tasks.tasks import run_job

from .decisions import decision_log_maintain


@shared_task(bind=True)
def run_batch_prediction(self, task_id: int) -> str:
    return run_job(self, task_id)


@shared_task(bind=True)
def run_training(self, task_id: int) -> str:
    return run_job(self, task_id)


@shared_task(name="models.maintain_decision_log", acks_late=True, reject_on_worker_lost=True, time_limit=1800)
def maintain_decision_log() -> dict:
    """Daily: the coming months' decision-log partitions, and retention (idempotent)."""
    return decision_log_maintain()
