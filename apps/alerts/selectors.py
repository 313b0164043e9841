"""Reads of alerts: lists for the API and the dashboard, counts for /metrics."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from .models import Alert, AlertStatus, DeliveryStatus, Severity, WebhookDelivery

UNRESOLVED = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


def alert_list() -> QuerySet[Alert]:
    return Alert.objects.select_related("rule", "version__model")


def open_alerts() -> QuerySet[Alert]:
    return alert_list().filter(status__in=UNRESOLVED)


def open_counts_by_severity() -> dict[str, int]:
    rows = Alert.objects.filter(status__in=UNRESOLVED).values("severity").annotate(n=Count("id"))
    return {row["severity"]: row["n"] for row in rows}


def failed_delivery_count() -> int:
    return WebhookDelivery.objects.filter(status=DeliveryStatus.FAILED).count()


def dashboard_alerts(limit: int = 5) -> dict:
    """Unresolved alerts for the dashboard: how many, by severity, and the latest few."""
    counts = open_counts_by_severity()
    return {
        "count": sum(counts.values()),
        "by_severity": [(value, label, counts.get(value, 0)) for value, label in reversed(Severity.choices)],
        "latest": list(open_alerts()[:limit]),
    }
