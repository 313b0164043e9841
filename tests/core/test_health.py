"""/health reports each component and answers 503 when a required one is down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.models import WorkerHeartbeat
from tests.factories import WorkerHeartbeatFactory

pytestmark = pytest.mark.django_db


def test_no_live_worker_is_503_with_the_failing_check_named(client):
    response = client.get("/health")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert (
        body["checks"]["database"]["ok"] and body["checks"]["cache"]["ok"] and body["checks"]["broker"]["ok"]
    )
    assert body["checks"]["workers"]["ok"] is False
    assert "no worker" in body["checks"]["workers"]["detail"]


def test_a_worker_that_went_silent_counts_as_dead(client):
    now = timezone.now()
    WorkerHeartbeatFactory(hostname="w1@h", pid=1, started_at=now, last_seen=now - timedelta(minutes=5))
    assert client.get("/health").status_code == 503
    WorkerHeartbeat.objects.filter(hostname="w1@h").update(last_seen=now)
    response = client.get("/health")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["workers"]["detail"] == "w1@h"


def test_health_is_not_cached_and_reads_only(client):
    response = client.get("/health")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert client.post("/health").status_code == 405


def test_metrics_are_served_to_allowed_networks_only(client, make_user, settings):
    response = client.get("/metrics")
    assert response.status_code == 200 and b"django_http_requests" in response.content
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    denied = client.get("/metrics")
    assert denied.status_code == 403 and denied.json()["code"] == "permission_denied"
    client.force_login(make_user("admin"))
    assert client.get("/metrics").status_code == 200


def test_metrics_expose_live_workers_and_queue_depth(api, client, django_capture_on_commit_callbacks):
    import re

    from tests.conftest import purge_queues

    purge_queues()

    def depth() -> int:
        text = client.get("/metrics").content.decode()
        assert re.search(r"^omm_workers_alive 0\.0$", text, re.M), text[-2000:]
        return int(float(re.search(r'^omm_queue_depth\{queue="ingestion"\} (\S+)', text, re.M).group(1)))

    assert depth() == 0
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/system/worker-pings", {"queue": "ingestion"}, format="json")
    assert depth() == 1
    purge_queues()


def test_only_a_dead_database_makes_health_unavailable(client, monkeypatch):
    from apps.core import health

    WorkerHeartbeatFactory(hostname="w1@h")

    def refused() -> str:
        raise ConnectionError("refused")

    monkeypatch.setitem(health.CHECKS, "broker", refused)
    response = client.get("/health")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "degraded", body
    assert body["down"] == ["broker"] and body["checks"]["broker"]["detail"] == "ConnectionError: refused"
    monkeypatch.setitem(health.CHECKS, "database", refused)
    response = client.get("/health")
    assert response.status_code == 503 and response.json()["status"] == "unavailable"
    assert response.json()["down"] == ["database", "broker"]
