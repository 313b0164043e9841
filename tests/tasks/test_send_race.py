"""A worker may claim a task before its publisher has marked it queued: the publisher must
not take it back from the worker (a fast worker on another host makes this common)."""

from __future__ import annotations

import pytest

from apps.models import training_tasks
from apps.tasks import services
from apps.tasks.models import Task, TaskStatus

pytestmark = pytest.mark.django_db


def _created(user, version, capture) -> tuple[Task, list]:
    with capture(execute=False) as callbacks:
        task = training_tasks.training_create(
            user=user,
            request={"name": "race", "dataset": version.dataset_id, "params": {"num_boost_round": 3}},
        )
    assert task.status == TaskStatus.PENDING and callbacks
    return task, callbacks


def test_a_task_claimed_before_its_send_finishes_stays_with_its_worker(
    admin_user, credit_version, django_capture_on_commit_callbacks
):
    task, callbacks = _created(admin_user, credit_version, django_capture_on_commit_callbacks)
    # The worker got the message and claimed the task before the publisher's next statement.
    assert services.transition(task.pk, TaskStatus.RUNNING, worker="fast:1")
    for callback in callbacks:
        callback()  # publish, then mark queued
    task.refresh_from_db()
    assert task.status == TaskStatus.RUNNING and task.worker == "fast:1"


def test_a_sent_task_nobody_claimed_yet_is_queued(
    admin_user, credit_version, django_capture_on_commit_callbacks
):
    task, callbacks = _created(admin_user, credit_version, django_capture_on_commit_callbacks)
    for callback in callbacks:
        callback()
    task.refresh_from_db()
    assert task.status == TaskStatus.QUEUED and task.queued_at is not None
