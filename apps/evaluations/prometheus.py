"""Prometheus gauges of evaluations: evaluations by status, open drift alerts, monitored PSI."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class EvaluationCollector(Collector):
    def collect(self):
        from . import selectors

        by_status = GaugeMetricFamily("omm_evaluations", "Evaluations by status", labels=["status"])
        for status, count in selectors.status_counts().items():
            by_status.add_metric([status], count)
        yield by_status
        alerts = selectors.drift_alerts()
        open_alerts = GaugeMetricFamily(
            "omm_drift_alerts", "Open drift alerts: versions marked for review by their latest monitoring run"
        )
        open_alerts.add_metric([], sum(len(row["alerts"]) for row in alerts))
        yield open_alerts
        psi = GaugeMetricFamily(
            "omm_monitor_psi", "Score PSI of the latest monitoring evaluation", labels=["model", "version"]
        )
        for row in selectors.latest_monitoring():
            if row["psi"] is not None:
                psi.add_metric([row["model"], str(row["version"])], row["psi"])
        yield psi
