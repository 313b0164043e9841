"""Prometheus gauges of alerts: unresolved alerts by severity, failed webhook deliveries."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class AlertCollector(Collector):
    def collect(self):
        from . import selectors
        from .models import Severity

        open_alerts = GaugeMetricFamily(
            "omm_alerts_open", "Open or acknowledged alerts of alert rules, by severity", labels=["severity"]
        )
        counts = selectors.open_counts_by_severity()
        for severity in Severity.values:
            open_alerts.add_metric([severity], counts.get(severity, 0))
        yield open_alerts
        failed = GaugeMetricFamily(
            "omm_webhook_deliveries_failed", "Webhook deliveries that failed after every attempt"
        )
        failed.add_metric([], selectors.failed_delivery_count())
        yield failed
