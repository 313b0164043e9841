"""Work-queue upkeep jobs (on ``default``) and ``run_job``, the body of every kind's runner.

Each domain declares its runners in its own ``tasks.py`` (trainings and batch predictions
in ``apps.models``, evaluations in ``apps.evaluations``...), all calling ``run_job``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os

import pyarrow as pa
from celery import shared_task

from . import runner, schedules, services


def run_job(job, task_id: int) -> str:
    """Body of every queue's task runner: run the task, hand memory back, retry a slot wait."""
    try:
        outcome = runner.task_execute(task_id=task_id, worker=f"{job.request.hostname}:{os.getpid()}")
    finally:
        _release_memory()
    if outcome == "wait":
        services.resend_later(task_id=task_id)
    return outcome


@shared_task(name="tasks.run_schedule", bind=True)
def run_schedule(self, schedule_id: int) -> int | None:
    # Beat sends each due run once with its own id; a redelivery carries the same id.
    task = schedules.schedule_run(
        schedule_id=schedule_id, trigger_key=f"schedule:{schedule_id}:{self.request.id}"
    )
    return task.pk if task else None


@shared_task(name="tasks.enforce_cancel")
def enforce_cancel(task_id: int) -> bool:
    return services.cancel_enforce(task_id=task_id)


@shared_task(name="tasks.reap_stuck")
def reap_stuck() -> dict:
    return services.tasks_reap()


@shared_task(name="tasks.purge_logs")
def purge_logs() -> int:
    return services.logs_purge()


def _release_memory() -> None:
    # A pool process keeps Arrow's and malloc's freed pages (~0.6 GiB after a 1M x 50
    # training); hand them back so an idle worker does not hold them.
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
