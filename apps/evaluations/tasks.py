"""Evaluation-queue jobs: running an evaluation; the daily drift monitor (on ``default``)."""

from __future__ import annotations

from celery import shared_task

from apps.tasks.tasks import run_job

from . import monitoring


@shared_task(bind=True)
def run_evaluation(self, task_id: int) -> str:
    return run_job(self, task_id)


@shared_task(name="evaluations.monitor")
def monitor() -> dict:
    return monitoring.monitor_run()
