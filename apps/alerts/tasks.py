"""Celery jobs of alerts: one webhook delivery attempt; the sweep of overdue retries; one
mail attempt (a failed one is tried again with the webhooks' backoff and attempt cap)."""

from __future__ import annotations

import logging

from celery import shared_task

from . import delivery, notify

logger = logging.getLogger(__name__)


def _send(task, *args, countdown: float | None = None) -> bool:
    try:
        task.apply_async(args=list(args), countdown=countdown)
    except Exception:  # noqa: BLE001 - kombu raises many kinds when the broker is unreachable
        logger.warning("%s%r could not be queued", task.name, args)
        return False
    return True


def email_enqueue(*, alert_id: int, attempt: int = 1, countdown: float | None = None) -> bool:
    """Mail an opened alert from a worker: a slow mail server never holds up the monitor."""
    return _send(alert_email, alert_id, attempt, countdown=countdown)


def enqueue(*, delivery_id: int, countdown: float | None = None) -> bool:
    """Hand a delivery to Celery; with the broker down it stays pending for the sweep."""
    return _send(deliver, delivery_id, countdown=countdown)


@shared_task(
    name="alerts.deliver", acks_late=True, reject_on_worker_lost=True, soft_time_limit=120, time_limit=180
)
def deliver(delivery_id: int) -> str:
    retry_in = delivery.delivery_attempt(delivery_id=delivery_id)
    if retry_in is None:
        return "done"
    enqueue(delivery_id=delivery_id, countdown=retry_in)
    return "retry"


@shared_task(name="alerts.deliveries_sweep")
def deliveries_sweep() -> int:
    return sum(enqueue(delivery_id=pk) for pk in delivery.overdue_ids())


@shared_task(
    name="alerts.email", acks_late=True, reject_on_worker_lost=True, soft_time_limit=60, time_limit=90
)
def alert_email(alert_id: int, attempt: int = 1) -> str:
    retry_in = notify.email_attempt(alert_id=alert_id, attempt=attempt)
    if retry_in is None:
        return "done"
    email_enqueue(alert_id=alert_id, attempt=attempt + 1, countdown=retry_in)
    return "retry"
