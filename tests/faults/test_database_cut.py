"""Every PostgreSQL connection of OMM's processes cut at once, under load: all recover, no restart.

The machine's PostgreSQL serves the test run itself, so it is not restarted: what a restart
does to OMM's processes is done instead, ``pg_terminate_backend`` on every backend of the
test database but this test's own. Meanwhile threads send predictions and reads to gunicorn
(2 workers, as ``./ommctl up``) and a Celery worker is up. Requests in flight at the cut may
fail; from a second later none may. The worker's liveness row is written again, a training
queued after the cut completes, and the web workers' audit rows of after the cut are written.
PostgreSQL run only.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.core.models import ApiAuditLog, WorkerHeartbeat
from apps.tasks.models import Task, TaskStatus
from tests.faults.conftest import Request, on_postgres, run_load, token_for, wait_for

pytestmark = [
    pytest.mark.fault,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not on_postgres(), reason="cuts PostgreSQL connections: PostgreSQL run only"),
]

THREADS = 8
SECONDS = 12
CUT_AT = 4.0  # seconds into the load
GRACE = 1.0  # requests started this long after the cut must all succeed

TERMINATE_OTHERS = """
    SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
"""


def test_database_connections_cut_under_load_every_process_recovers(
    omm_server, worker_factory, scoring, admin_user, api, credit_version, figures
):
    worker = worker_factory()
    worker.start()
    token = token_for(admin_user)
    reads = [
        Request("read", "GET", f"/api/models/{scoring.model_id}"),
        Request("read", "GET", "/api/model-versions"),
        Request("read", "GET", "/api/tasks"),
    ]

    def pick(rng: random.Random) -> Request:
        return scoring.predict(rng) if rng.random() < 0.5 else reads[rng.randrange(len(reads))]

    cut: dict = {}

    def cut_connections(started: float) -> None:
        time.sleep(max(0.0, started + CUT_AT - time.perf_counter()))
        cut["wall"] = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(TERMINATE_OTHERS)
            cut["backends"] = cursor.fetchone()[0]
        cut["at"] = time.perf_counter() - started

    result = run_load(
        omm_server, users=THREADS, seconds=SECONDS, pick=pick, tokens=[token], during=cut_connections
    )
    at = cut["at"]
    before = result.server_errors(until=at - 1.0)  # none can blame the cut
    during = result.server_errors(since=at - 1.0, until=at + GRACE)
    after = result.server_errors(since=at + GRACE)
    failed_ends = [r.started + r.seconds for r in result.server_errors()]
    recovery = max(0.0, max(failed_ends) - at) if failed_ends else 0.0

    # The worker: its liveness row is written again, and it runs a training queued now.
    heartbeat = wait_for(
        lambda: WorkerHeartbeat.objects.filter(hostname=worker.hostname, last_seen__gt=cut["wall"]).exists(),
        30,
        "the worker's heartbeat after the cut",
        worker.log,
    )
    queued = api.post(
        "/api/tasks/training",
        {"name": "after-the-cut", "dataset": credit_version.dataset_id, "params": {"numBoostRound": 10}},
        format="json",
    )
    assert queued.status_code == 201, queued.content
    task_id = queued.json()["data"]["id"]
    wait_for(
        lambda: Task.objects.get(pk=task_id).status in (TaskStatus.COMPLETED, TaskStatus.FAILED),
        60,
        "the training queued after the cut",
        worker.log,
    )
    task = Task.objects.get(pk=task_id)
    # The web workers' audit writers: rows of requests made after the cut reach the database.
    audited = wait_for(
        lambda: ApiAuditLog.objects.filter(created_at__gt=cut["wall"] + timedelta(seconds=GRACE)).count(),
        10,
        "audit rows of after the cut",
        omm_server.log,
    )
    figures(
        "database-cut",
        f"{cut['backends']} backends terminated at {at:.1f} s under {THREADS} threads; {result.summary()}; "
        f"5xx before {len(before)}, during the cut {len(during)}, after {GRACE:.0f} s {len(after)}; "
        f"recovered {recovery:.2f} s after the cut; worker heartbeat back {bool(heartbeat)}, "
        f"training after the cut {task.status}; audit rows after the cut {audited}",
    )
    assert cut["backends"] >= 3  # the two web workers and the worker at least
    assert before == [] and after == [], (before[:3], after[:3])
    assert task.status == TaskStatus.COMPLETED, task.error
