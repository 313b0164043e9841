"""Core background jobs. Thin: each re-fetches by id and calls a service."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="core.worker_ping", bind=True)
def worker_ping(self, ping_id: str) -> None:
    services.worker_ping_complete(ping_id=ping_id, worker=self.request.hostname or "")


@shared_task(name="core.purge_audit_logs")
def purge_audit_logs() -> int:
    return services.audit_log_purge()


@shared_task(name="core.purge_stale_heartbeats")
def purge_stale_heartbeats() -> int:
    return services.heartbeat_purge_stale()
