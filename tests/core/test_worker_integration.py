"""A real Celery worker process executes what the API enqueues."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from apps.core.models import WorkerHeartbeat, WorkerPing

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return None


def test_ping_enqueued_through_the_api_is_answered_on_every_queue(celery_worker, api):
    ids = []
    for queue in settings.QUEUES:
        response = api.post("/api/system/worker-pings", {"queue": queue}, format="json")
        assert response.status_code == 201
        ids.append(response.json()["data"]["id"])
    done = wait_for(
        lambda: WorkerPing.objects.filter(pk__in=ids, completed_at__isnull=False).count() == len(ids)
    )
    assert done, celery_worker["log"].read_text()[-3000:]
    for ping_id in ids:
        body = api.get(f"/api/system/worker-pings/{ping_id}").json()
        assert body["worker"] == celery_worker["hostname"]
        assert body["roundTripMs"] > 0


def test_health_is_green_with_a_live_worker_and_lists_it(celery_worker, client):
    # Beat is not part of this test; the required components are all up.
    body = client.get("/health").json()
    assert body["checks"]["workers"]["ok"], body
    assert celery_worker["hostname"] in body["checks"]["workers"]["detail"]
    assert client.get("/health").status_code == 200


def test_heartbeat_row_goes_when_the_worker_stops(celery_worker):
    import os
    import signal

    assert WorkerHeartbeat.objects.filter(hostname=celery_worker["hostname"]).exists()
    os.killpg(celery_worker["process"].pid, signal.SIGTERM)
    celery_worker["process"].wait(timeout=30)
    assert not WorkerHeartbeat.objects.filter(hostname=celery_worker["hostname"]).exists()
