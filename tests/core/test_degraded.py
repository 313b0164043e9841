"""With Redis (cache and broker) gone, OMM keeps serving from the database and the process;
when Redis comes back, the cache is used again without a restart.

A throwaway ``redis-server`` is started on a free port and killed mid-test: real sockets,
real refusals, no mocks.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from django.core.cache import cache

from apps.core.breaker import cache_breaker
from apps.tasks.models import Task
from tests.factories import WorkerHeartbeatFactory
from tests.qa.conftest import build  # noqa: F401 - the QA build fixture, used below

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")


class ThrowawayRedis:
    """A ``redis-server`` on a free port, with nothing written to disk."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def persistence_args(self) -> list[str]:
        """Nothing written to disk; a durable variant keeps an append-only file."""
        return ["--save", "", "--appendonly", "no"]

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", *self.persistence_args()],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def use_redis(settings, url: str) -> None:
    """Point the cache and the Celery broker of this process at ``url``."""
    from omm.celery import app

    settings.CACHES = {
        "default": {
            "BACKEND": "apps.core.cache_backend.DegradingRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "omm-degraded",
            "OPTIONS": {
                "socket_connect_timeout": settings.REDIS_CONNECT_TIMEOUT,
                "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
            },
        }
    }
    app.conf.broker_url = url
    app.conf.broker_transport_options = {
        "socket_connect_timeout": settings.CELERY_BROKER_CONNECT_TIMEOUT,
        "socket_timeout": settings.CELERY_BROKER_SOCKET_TIMEOUT,
    }
    _reset_broker_pools()


def _reset_broker_pools(*, close: bool = False) -> None:
    """Make the next publish build its pools from the current broker settings.

    kombu keeps pools in a global group keyed by connection: only the throwaway server's
    may be closed (a closed pool would be handed out again for the same broker).
    """
    from omm.celery import app

    if close and app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_server(settings) -> Iterator[ThrowawayRedis]:
    from omm.celery import app

    saved = {k: app.conf[k] for k in ("broker_url", "broker_transport_options")}
    server = ThrowawayRedis()
    server.start()
    cache_breaker.reset()
    use_redis(settings, server.url)
    yield server
    server.kill()
    cache_breaker.reset()
    _reset_broker_pools(close=True)
    for key, value in saved.items():
        app.conf[key] = value


# ----------------------------------------------------------------------------- the breaker


def test_the_breaker_skips_the_cache_for_its_window_then_tries_again(settings, caplog):
    settings.OMM_CACHE_BREAKER_SECONDS = 0.2
    cache_breaker.reset()
    assert cache_breaker.allow() and cache_breaker.state()["open"] is False
    with caplog.at_level(logging.WARNING, logger="apps.core.breaker"):
        cache_breaker.failed(ConnectionError("refused"))
        cache_breaker.failed(ConnectionError("refused again"))  # same opening: logged once
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    state = cache_breaker.state()
    assert state["open"] is True and state["openings"] == 1 and "refused again" in state["lastError"]
    assert not cache_breaker.allow()
    time.sleep(0.25)
    assert cache_breaker.allow()  # the window passed: one more try
    cache_breaker.failed(ConnectionError("still refused"))
    assert cache_breaker.state()["openings"] == 2 and not cache_breaker.allow()
    cache_breaker.succeeded()
    assert cache_breaker.allow() and cache_breaker.state()["open"] is False
    cache_breaker.reset()


def test_a_dead_cache_misses_quickly_and_drops_writes(transactional_db, redis_server, settings):
    cache.set("k", 1)
    assert cache.get("k") == 1
    redis_server.kill()
    started = time.perf_counter()
    assert cache.get("k", "default") == "default"
    cache.set("k", 2)  # dropped, not raised
    assert cache.get_many(["k"]) == {} and cache.add("k", 3) is False and cache.delete("k") is False
    assert cache.incr("n", 4) == 4
    assert time.perf_counter() - started < 1.0
    assert cache_breaker.state()["open"] is True and cache_breaker.state()["openings"] == 1


def test_the_platform_serves_without_redis_and_uses_it_again_when_back(
    transactional_db,
    redis_server,
    settings,
    admin_user,
    api,
    client,
    password,
    credit_version,
    build,  # noqa: F811 - the fixture imported above
    bank_version,
):
    from tests.models.test_serving import _record, _train

    settings.OMM_CACHE_BREAKER_SECONDS = 0.5
    WorkerHeartbeatFactory(hostname="w1@h")  # a live worker: only Redis is down
    version = _train(admin_user, credit_version.dataset_id, seed=1, rounds=5)
    assert (
        api.post(f"/api/model-versions/{version.pk}/promote", {"reason": "go"}, format="json").status_code
        == 200
    )
    build(bank_version)
    from apps.datasets.demo_data import credit_frame

    frame = credit_frame(3000, seed=11)
    record = _record(version, frame)

    def predict(i: int = 0):
        body = {"record": _record(version, frame, i) if i else record}
        return api.post(f"/api/models/{version.model_id}/predict", body, format="json")

    def ask():
        return api.post("/api/qa/ask", {"question": "工行北京分行营业部"}, format="json")

    # Redis up: the second request is served from the cache.
    assert predict().json()["data"]["cached"] is False
    assert predict().json()["data"]["cached"] is True
    assert ask().json()["data"]["cached"] is False
    assert ask().json()["data"]["cached"] is True
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["down"] == [], health

    redis_server.kill()

    scored = predict()
    assert scored.status_code == 200, scored.content
    assert scored.json()["data"]["cached"] is False  # computed again, not failed
    answered = ask()
    assert answered.status_code == 200, answered.content
    assert answered.json()["data"]["cached"] is False
    login = client.post(
        "/api/auth/token",
        {"username": admin_user.username, "password": password},
        content_type="application/json",
    )
    assert login.status_code == 200, login.content
    bad = client.post(
        "/api/auth/token",
        {"username": admin_user.username, "password": "wrong"},
        content_type="application/json",
    )
    assert bad.status_code == 401, bad.content  # refused as ever, not a 500

    response = client.get("/health")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "degraded", body
    assert body["down"] == ["cache", "broker"]
    assert body["checks"]["database"]["ok"] and not body["checks"]["cache"]["ok"]
    assert body["cacheBreaker"]["open"] is True

    pending_before = Task.objects.filter(status="pending").count()
    started = time.perf_counter()
    queued = api.post(
        "/api/tasks/training", {"name": "m", "dataset": credit_version.dataset_id}, format="json"
    )
    took = time.perf_counter() - started
    assert queued.status_code == 503, queued.content
    assert queued.json()["code"] == "queue_unavailable"
    assert took < 3.0, took
    assert Task.objects.filter(status="pending").count() == pending_before
    assert Task.objects.filter(type="training", status="failed").count() == 1

    # Redis back on the same port: once the breaker's window passes the cache is used again.
    redis_server.start()
    time.sleep(0.6)
    assert predict(7).json()["data"]["cached"] is False
    assert predict(7).json()["data"]["cached"] is True  # written, then read, through Redis
    assert client.get("/health").json()["checks"]["cache"]["ok"] is True
    assert cache_breaker.state()["open"] is False
