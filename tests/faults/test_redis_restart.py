"""Redis restarted while a worker consumes a queue of trainings: consumption resumes, none is lost.

A throwaway ``redis-server`` on a free port is the broker and cache of a worker started for
the test (and of this process, which queues and runs the reaper). It keeps its data in an
append-only file, as a production Redis keeps the queue on disk; mid-queue it is stopped as
a service manager stops it (SIGTERM), left down a moment, and started again on the same port.
A training running at that moment is cut off by the worker (its broker connection died) and
handed back by the reaper. PostgreSQL + Redis run only.
"""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from apps.core.breaker import cache_breaker
from apps.models.models import ModelVersion
from apps.tasks import services
from apps.tasks.models import Task, TaskStatus
from tests.core.test_degraded import ThrowawayRedis, _reset_broker_pools
from tests.faults.conftest import config_set, on_redis, queue_trainings

pytestmark = [
    pytest.mark.fault,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not on_redis(), reason="Redis is the broker only on the PostgreSQL + Redis run"),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]

TASKS = 12
RESTART_AFTER = 3  # trainings completed before Redis is stopped
DOWN_SECONDS = 5  # long enough for the worker to fail a reconnect or two
RESUME_WITHIN = 60  # the limit
REAPER_WINDOW = 5  # tasks-heartbeat-timeout-seconds, its minimum
REAPER_PERIOD = 0.5
TRAINING = {"numBoostRound": 100, "learningRate": 0.001}  # about a second and a half each
RESOURCES = {"threads": 1}
DEADLINE_SECONDS = 180

FINAL = {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED}


class DurableRedis(ThrowawayRedis):
    """A throwaway ``redis-server`` whose data survives a restart (append-only file in ``folder``)."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def persistence_args(self) -> list[str]:
        return ["--dir", str(self.folder), "--save", "", "--appendonly", "yes", "--appendfsync", "always"]

    def stop(self) -> None:
        """Stop as a service manager does: SIGTERM, Redis writes what it holds and exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)


@pytest.fixture
def durable_redis(settings, tmp_path) -> Iterator[DurableRedis]:
    """The server, made this process's broker and cache as REDIS_URL would make it."""
    from omm.celery import app

    saved = app.conf.broker_url
    folder = tmp_path / "redis"
    folder.mkdir()
    server = DurableRedis(folder)
    server.start()
    cache_breaker.reset()
    # Same cache prefix and broker options as the worker (queue names carry the priority steps).
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
    app.conf.broker_url = server.url
    _reset_broker_pools()
    yield server
    server.kill()
    cache_breaker.reset()
    _reset_broker_pools(close=True)
    app.conf.broker_url = saved


def test_redis_restarted_mid_queue_consumption_resumes_and_no_training_is_lost(
    durable_redis, worker_factory, api, credit_version, figures
):
    config_set("tasks-heartbeat-timeout-seconds", REAPER_WINDOW)
    worker = worker_factory(env={"REDIS_URL": durable_redis.url})
    worker.start()
    ids = queue_trainings(
        api, credit_version.dataset_id, TASKS, prefix="queued", params=TRAINING, resources=RESOURCES
    )

    def completed() -> int:
        return Task.objects.filter(pk__in=ids, status=TaskStatus.COMPLETED).count()

    started = time.monotonic()
    requeued = 0
    down_at: datetime | None = None
    up_at: datetime | None = None
    while True:
        if time.monotonic() - started > DEADLINE_SECONDS:
            rows = list(Task.objects.filter(pk__in=ids).values_list("pk", "status", "attempts"))
            pytest.fail(f"not done after {DEADLINE_SECONDS} s: {rows}\n{worker.logs()}")
        if down_at is None and completed() >= RESTART_AFTER:
            down_at = timezone.now()
            durable_redis.stop()
            time.sleep(DOWN_SECONDS)
            durable_redis.start()
            up_at = timezone.now()
        requeued += services.tasks_reap()["requeued"]
        if not Task.objects.filter(pk__in=ids).exclude(status__in=FINAL).exists():
            break
        time.sleep(REAPER_PERIOD)

    tasks = list(Task.objects.filter(pk__in=ids))
    after = sorted(t.started_at for t in tasks if t.started_at and t.started_at > up_at)
    resumed = (after[0] - up_at).total_seconds() if after else float("inf")
    done_before = sum(1 for t in tasks if t.completed_at and t.completed_at <= down_at)
    statuses = {s: sum(1 for t in tasks if t.status == s) for s in (TaskStatus.COMPLETED, TaskStatus.FAILED)}
    figures(
        "redis-restart",
        f"{TASKS} trainings queued; Redis stopped after {done_before} completed, down {DOWN_SECONDS} s; "
        f"consumption resumed {resumed:.1f} s after it was back; re-queued by the reaper {requeued}; "
        f"completed {statuses[TaskStatus.COMPLETED]}, failed {statuses[TaskStatus.FAILED]}, "
        f"lost {TASKS - sum(statuses.values())}; all ended {time.monotonic() - started:.0f} s after queueing",
    )
    assert resumed <= RESUME_WITHIN
    assert statuses[TaskStatus.COMPLETED] == TASKS, [(t.pk, t.status, t.error) for t in tasks]
    for task in tasks:
        assert ModelVersion.objects.filter(task=task).count() == 1, task.pk
