"""Prometheus gauges of the work queue: tasks per type and status."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class TaskCollector(Collector):
    def collect(self):
        from django.db.models import Count

        from .models import Task

        gauge = GaugeMetricFamily("omm_tasks", "Tasks by type and status", labels=["type", "status"])
        for row in Task.objects.values("type", "status").order_by().annotate(n=Count("id")):
            gauge.add_metric([row["type"], row["status"]], row["n"])
        yield gauge
