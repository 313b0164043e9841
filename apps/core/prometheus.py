"""Platform gauges computed at scrape time: live processes and broker queue depth.

Request counts and latencies come from django-prometheus; these add what only the
platform knows. Later domains register their own collectors in PLATFORM_REGISTRY.
"""

from __future__ import annotations

import logging
import os

import prometheus_client
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)


def queue_depths() -> dict[str, int]:
    """Messages waiting in each Celery queue (all priority levels), as the broker says."""
    from celery import current_app as app  # the OMM app, with no import of omm (which imports core)
    from django.conf import settings

    depths: dict[str, int] = {}
    with app.connection_for_read() as conn:
        channel = conn.default_channel
        for queue in settings.QUEUES:
            try:
                depths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
            except Exception:  # noqa: BLE001 - a queue never declared holds nothing
                depths[queue] = 0
    return depths


class PlatformCollector(Collector):
    def collect(self):
        from .selectors import live_processes

        workers = GaugeMetricFamily("omm_workers_alive", "Celery workers that reported in recently")
        workers.add_metric([], live_processes("worker").count())
        yield workers
        beat = GaugeMetricFamily("omm_beat_alive", "Celery beat schedulers that reported in recently")
        beat.add_metric([], live_processes("beat").count())
        yield beat
        depth = GaugeMetricFamily("omm_queue_depth", "Messages waiting per Celery queue", labels=["queue"])
        try:
            for queue, count in queue_depths().items():
                depth.add_metric([queue], count)
        except Exception:  # a broker outage shows in /health, not as a scrape error
            logger.warning("could not read queue depths", exc_info=True)
        yield depth


PLATFORM_REGISTRY = prometheus_client.CollectorRegistry(auto_describe=False)
PLATFORM_REGISTRY.register(PlatformCollector())


def exposition() -> bytes:
    """django-prometheus's metrics (merged across processes when multi-process) + ours."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        base = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(base)
    else:
        base = prometheus_client.REGISTRY
    return prometheus_client.generate_latest(base) + prometheus_client.generate_latest(PLATFORM_REGISTRY)
