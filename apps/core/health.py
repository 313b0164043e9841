"""Liveness checks of the platform's components, each timed and never raising."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.core.cache import cache, caches
from django.db import connection
from django.utils.translation import gettext, pgettext_lazy

from .breaker import cache_breaker
from .selectors import live_processes


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _cache() -> str:
    probe = getattr(cache, "probe", None)
    if probe is not None:  # Redis behind the breaker: ask Redis itself, past the breaker
        ok = probe()
    else:
        key, token = f"omm:health:{uuid.uuid4().hex}", uuid.uuid4().hex
        cache.set(key, token, 10)
        ok = cache.get(key) == token
        cache.delete(key)
    if not ok:
        raise RuntimeError(gettext("value written was not read back"))
    return type(caches["default"]).__name__


def _broker() -> str:
    from celery import current_app as app  # the OMM app, with no import of omm (which imports core)

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=app.conf.broker_connection_timeout)
        return str(conn.transport_cls)


def _workers() -> str:
    names = sorted(live_processes("worker").values_list("hostname", flat=True))
    if not names:
        raise RuntimeError(gettext("no worker has reported in recently"))
    return ", ".join(names)


def _beat() -> str:
    names = sorted(live_processes("beat").values_list("hostname", flat=True))
    if not names:
        raise RuntimeError(gettext("no beat scheduler has reported in recently"))
    return ", ".join(names)


CHECKS: dict[str, Callable[[], str]] = {
    "database": _database,
    "cache": _cache,
    "broker": _broker,
    "workers": _workers,
    "beat": _beat,
}
# What the dashboard calls each check (the /health answer keeps the names).
LABELS = {
    "database": pgettext_lazy("health check", "database"),
    "cache": pgettext_lazy("health check", "cache"),
    "broker": pgettext_lazy("health check", "broker"),
    "workers": pgettext_lazy("health check", "workers"),
    "beat": pgettext_lazy("health check", "beat"),
}
# Beat down delays schedules but serves every request; it is reported, not fatal.
REQUIRED = ("database", "cache", "broker", "workers")
# Without these the platform still serves (predictions, answers, logins, pages) but queues
# nothing and caches nothing: "degraded", answered 200 so a load balancer keeps sending.
DEGRADABLE = ("cache", "broker")


def run_checks() -> dict:
    results: dict[str, dict] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            detail, ok = check(), True
        except Exception as exc:  # noqa: BLE001 - a health check reports, it never raises
            detail, ok = f"{type(exc).__name__}: {exc}", False
        results[name] = {
            "ok": ok,
            "detail": detail,
            "ms": round((time.perf_counter() - started) * 1000, 2),
        }
    down = [name for name in REQUIRED if not results[name]["ok"]]
    if not down:
        status = "ok"
    elif all(name in DEGRADABLE for name in down):
        status = "degraded"
    else:
        status = "unavailable"
    return {"status": status, "down": down, "checks": results, "cacheBreaker": cache_breaker.state()}
