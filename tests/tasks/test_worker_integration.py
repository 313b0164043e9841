"""Trainings on a real Celery worker (and beat) against the test database and the broker."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.core.config import config_invalidate
from apps.core.models import SystemConfig
from apps.models.models import ModelVersion
from apps.models.tasks import run_training
from apps.tasks import services
from apps.tasks.models import Task, TaskLog, TaskStatus
from apps.tasks.tasks import reap_stuck

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout: float = 60.0, what: str = "condition", log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    detail = log.read_text()[-4000:] if log is not None else ""
    pytest.fail(f"timed out waiting for {what}\n{detail}")


def _set(key: str, value) -> None:
    SystemConfig.objects.update_or_create(key=key, defaults={"value": value, "value_type": "number"})
    config_invalidate(key)


def _train(api, version, **overrides) -> int:
    body = {
        "name": "credit-lgbm",
        "dataset": version.dataset_id,
        "params": {"numBoostRound": 30},
        **overrides,
    }
    response = api.post("/api/tasks/training", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["data"]["id"]


def _status(api, task_id: int) -> dict:
    return api.get(f"/api/tasks/{task_id}/status").json()


# A training slow enough to act on while it runs (thousands of tiny rounds).
LONG = {"params": {"numBoostRound": 10000, "learningRate": 0.001, "minDataInLeaf": 1}}


def test_training_through_the_api_completes_and_registers_a_version(celery_worker, api, credit_version):
    task_id = _train(api, credit_version)
    status = wait_for(
        lambda: (s := _status(api, task_id))["status"] in ("completed", "failed") and s,
        what="training to finish",
        log=celery_worker["log"],
    )
    assert status["status"] == "completed", status
    version = ModelVersion.objects.get(task_id=task_id)
    assert status["result"]["modelVersionId"] == version.pk
    assert version.metrics["auc"] > 0.5
    task = Task.objects.get(pk=task_id)
    assert task.worker.startswith(celery_worker["hostname"])
    assert TaskLog.objects.filter(task_id=task_id, step__isnull=False).count() == 30


def test_cancel_while_running_ends_cancelled(celery_worker, api, credit_version):
    task_id = _train(api, credit_version, **LONG)
    wait_for(
        lambda: (s := _status(api, task_id))["status"] == "running" and s["progress"] > 5,
        what="the training to run",
        log=celery_worker["log"],
    )
    response = api.post(f"/api/tasks/{task_id}/cancel")
    assert response.status_code == 200
    wait_for(lambda: _status(api, task_id)["status"] == "cancelled", timeout=20, what="cancelled")
    assert not ModelVersion.objects.filter(task_id=task_id).exists()
    progress = _status(api, task_id)["progress"]
    assert progress < 90


def test_worker_killed_mid_training_is_reaped(celery_worker, api, credit_version):
    _set("tasks-heartbeat-timeout-seconds", 5)
    _set("tasks-max-attempts", 1)
    task_id = _train(api, credit_version, **LONG)
    wait_for(
        lambda: (s := _status(api, task_id))["status"] == "running" and s["progress"] > 5,
        what="the training to run",
        log=celery_worker["log"],
    )
    pid = int(Task.objects.get(pk=task_id).worker.rsplit(":", 1)[1])
    os.kill(pid, signal.SIGKILL)
    # The broker redelivers the lost message; the running row is not claimed twice.
    time.sleep(6)
    assert Task.objects.get(pk=task_id).status == TaskStatus.RUNNING
    reap_stuck.apply_async()
    wait_for(lambda: _status(api, task_id)["status"] == "failed", timeout=30, what="the reaper")
    task = Task.objects.get(pk=task_id)
    assert "stopped responding" in task.error and task.attempts == 1
    assert not Task.objects.filter(status=TaskStatus.RUNNING).exists()


def test_same_task_delivered_twice_registers_one_version(celery_worker, api, credit_version):
    task_id = _train(api, credit_version)
    run_training.apply_async((task_id,))  # a duplicate delivery of the same task
    wait_for(
        lambda: _status(api, task_id)["status"] == "completed", what="completion", log=celery_worker["log"]
    )
    wait_for(lambda: "not-claimed" in celery_worker["log"].read_text(), what="the duplicate to be handled")
    assert ModelVersion.objects.filter(task_id=task_id).count() == 1
    assert ModelVersion.objects.count() == 1


def test_scheduled_training_fires_through_beat(celery_worker, celery_beat, api, credit_version):
    response = api.post(
        "/api/tasks/schedules",
        {
            "name": "every hour",
            "request": {
                "name": "scheduled-credit",
                "dataset": credit_version.dataset_id,
                "params": {"numBoostRound": 10},
            },
            "everyMinutes": 60,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    schedule_id = response.json()["data"]["id"]
    # Make the entry due now instead of in an hour; beat picks up the change by itself.
    PeriodicTask.objects.filter(omm_schedule__id=schedule_id).update(
        last_run_at=timezone.now() - timedelta(hours=2)
    )
    from django_celery_beat.models import PeriodicTasks

    PeriodicTasks.update_changed()
    task = wait_for(
        lambda: Task.objects.filter(schedule_id=schedule_id).first(),
        timeout=60,
        what="beat to fire the schedule",
        log=celery_beat["log"],
    )
    wait_for(
        lambda: Task.objects.get(pk=task.pk).status == TaskStatus.COMPLETED,
        what="the scheduled run to complete",
        log=celery_worker["log"],
    )
    assert ModelVersion.objects.get(task=task).model.name == "scheduled-credit"
    assert services.tasks_reap() == {"requeued": 0, "failed": 0, "resent": 0}
