"""Reads of the core domain: live processes, API traffic, settings and the governance trail."""

from __future__ import annotations

import json
from datetime import timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from .config import DECLARED, config_get
from .config_keys import format_number
from .models import SECRET_MASK, ApiAuditLog, ProcessKind, SystemConfig, TrailEntry, WorkerHeartbeat


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


def settings_listing() -> list[dict]:
    """Every setting, declared or stored, by key: its type, allowed range (bounds as text,
    whether whole numbers only), description and current value (secrets masked). A declared
    key without a row shows its default."""
    rows = {c.key: c for c in SystemConfig.objects.select_related("updated_by")}
    listing = []
    for key in sorted(set(DECLARED) | set(rows)):
        declared, row = DECLARED.get(key), rows.get(key)
        minimum, maximum = declared.bounds() if declared else (None, None)
        is_secret = row.is_secret if row else declared.is_secret
        value = row.value if row else declared.default
        listing.append(
            {
                "key": key,
                "value_type": row.value_type if row else declared.value_type,
                "minimum": None if minimum is None else format_number(minimum),
                "maximum": None if maximum is None else format_number(maximum),
                "integer": bool(declared and declared.integer),
                # The declaration's text (translated where marked), else what the row says.
                "description": declared.description if declared else row.description,
                "value": SECRET_MASK if is_secret and value not in (None, "") else value,
                "value_json": json.dumps(value, ensure_ascii=False) if not is_secret else "",
                "is_secret": is_secret,
                "stored": row is not None,
                "declared": declared is not None,
                "updated_at": row.updated_at if row else None,
                "updated_by": row.updated_by if row else None,
            }
        )
    return listing


def trail_entries():
    """The governance trail, newest first, with the actor and kind of record of each entry."""
    return TrailEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-id")
