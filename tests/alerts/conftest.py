"""Fixtures of the alert tests: a version, rules, a local HTTP receiver, eager deliveries."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.alerts.models import AlertRule, Webhook
from apps.core.models import SystemConfig
from tests.factories import ModelVersionFactory

SECRET = "s3cret-for-tests"


@pytest.fixture
def version(db):
    return ModelVersionFactory()


@pytest.fixture
def psi_rule(db):
    return AlertRule.objects.create(name="PSI drift", metric="score_psi", comparison="gte", threshold=0.25)


def period(month: int, **figures) -> tuple[date, dict]:
    base = {"score_psi": 0.05, "auc": 0.8, "insufficient": False, "rows": 5000.0}
    base.update(figures)
    return date(2026, month, 1), base


@pytest.fixture
def setting():
    from apps.core.config import config_invalidate

    def put(key: str, value) -> None:
        SystemConfig.objects.update_or_create(key=key, defaults={"value": value})
        config_invalidate(key)

    return put


@pytest.fixture
def eager():
    """Celery tasks run in-process as they are sent (retries included); backoff 0."""
    from omm.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


class Receiver:
    """A real HTTP endpoint on 127.0.0.1 that records what it gets and answers ``status``."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                # self.headers is case-insensitive, as every web framework's request headers are
                receiver.requests.append({"headers": self.headers, "body": body})
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                with contextlib.suppress(OSError):  # the sender may have given up waiting
                    self.wfile.write(json.dumps({"ok": receiver.status < 300}).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def webhook(db, receiver):
    hook = Webhook(
        name="risk-team", url=receiver.url, events=["alert.opened", "alert.resolved", "version.promoted"]
    )
    hook.set_secret(SECRET)
    hook.save()
    return hook
