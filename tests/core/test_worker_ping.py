"""A worker ping is recorded, then sent by task name once the row is committed."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_ping_is_sent_by_name_to_its_queue_after_commit(
    api, monkeypatch, django_capture_on_commit_callbacks
):
    from omm.celery import app

    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append((name, options)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post("/api/system/worker-pings", {"queue": "ingestion"}, format="json")
    assert response.status_code == 201 and not sent
    for callback in callbacks:
        callback()
    ping_id = response.json()["data"]["id"]
    assert sent == [("core.worker_ping", {"args": [ping_id], "queue": "ingestion"})]

    from apps.core.tasks import worker_ping

    assert worker_ping.name == "core.worker_ping"  # the name the worker knows it by
