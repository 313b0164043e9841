"""Reads of the core domain: live processes and API traffic."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from .config import DECLARED, config_get
from .models import ApiAuditLog, ProcessKind, WorkerHeartbeat


def live_processes(kind: str | None = None):
    # A value stored before OMM_HEARTBEAT_SECONDS was raised may now lie under its minimum.
    declared = DECLARED["workers-heartbeat-timeout-seconds"]
    timeout = max(float(config_get(declared.key)), declared.bounds()[0] or 0)
    qs = WorkerHeartbeat.objects.filter(last_seen__gte=timezone.now() - timedelta(seconds=timeout))
    return qs.filter(kind=kind) if kind else qs


def live_workers():
    return live_processes(ProcessKind.WORKER)


def api_traffic_last_day() -> list[dict]:
    """Requests per hour over the last 24 hours, split into ok and failed."""
    since = timezone.now() - timedelta(hours=24)
    rows = (
        ApiAuditLog.objects.filter(created_at__gte=since)
        .annotate(hour=TruncHour("created_at"))
        .values("hour")
        .annotate(total=Count("id"), failed=Count("id", filter=Q(status_code__gte=400)))
        .order_by("hour")
    )
    return [
        {"hour": r["hour"].isoformat(), "ok": r["total"] - r["failed"], "failed": r["failed"]} for r in rows
    ]
