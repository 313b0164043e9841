"""Monitoring jobs: stability by period for each active version (beat, on ``default``)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="monitoring.run")
def run() -> dict:
    return services.monitoring_run_all()
