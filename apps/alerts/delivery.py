"""Sending webhook deliveries: one signed POST per attempt, retried with exponential backoff.

Each attempt has a short timeout (``alerts-webhook-timeout``) and reads at most
``MAX_ANSWER_BYTES`` of the answer, so a slow or chatty endpoint costs one worker a few
seconds and never the monitor or a request. After ``alerts-webhook-max-attempts`` the
delivery is failed; an admin may replay it.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from apps.core.config import config_get

from . import signing
from .models import DeliveryStatus, WebhookDelivery

logger = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 4096
MAX_ERROR_CHARS = 500


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would re-send the signed body somewhere the admin never configured.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def backoff_seconds(attempts: int) -> float:
    """Wait before attempt ``attempts + 1``: base, twice that, four times that, ..."""
    return float(config_get("alerts-webhook-backoff")) * (2 ** max(attempts - 1, 0))


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """(status code, error) of one POST; the error is empty on a 2xx answer."""
    if not url.startswith(("http://", "https://")):
        return None, "only http and https URLs are allowed"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - checked above
    try:
        with _opener.open(request, timeout=timeout) as answer:
            answer.read(MAX_ANSWER_BYTES)
            return answer.status, ""
    except urllib.error.HTTPError as exc:
        text = exc.read(MAX_ANSWER_BYTES).decode("utf-8", "replace") if exc.fp else ""
        return exc.code, f"HTTP {exc.code}: {text}"[:MAX_ERROR_CHARS]
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{type(exc).__name__}: {reason}"[:MAX_ERROR_CHARS]


def delivery_attempt(*, delivery_id: int) -> float | None:
    """Make one attempt at a pending delivery; returns seconds until the next attempt, or None
    when there is none (delivered, failed for good, or not pending any more)."""
    d = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if d is None or d.status != DeliveryStatus.PENDING:
        return None
    if d.next_attempt_at is not None and d.next_attempt_at > timezone.now() + timedelta(seconds=1):
        return None  # a duplicate sent early: the one queued for the due time makes the attempt
    # Claim the attempt: a task delivered twice (at-least-once) makes one POST per attempt.
    claimed = WebhookDelivery.objects.filter(
        pk=d.pk, status=DeliveryStatus.PENDING, attempts=d.attempts
    ).update(attempts=d.attempts + 1)
    if claimed != 1:
        return None
    d.attempts += 1
    body = json.dumps(d.payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    timestamp = int(timezone.now().timestamp())
    headers = signing.headers(
        secret=d.webhook.secret, delivery_id=str(d.pk), timestamp=timestamp, body=body, event=d.event
    )
    code, error = _post(d.webhook.url, body, headers, float(config_get("alerts-webhook-timeout")))
    now = timezone.now()
    fields: dict = {"last_status_code": code, "last_error": error}
    retry_in = None
    if not error:
        fields.update(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif d.attempts >= int(config_get("alerts-webhook-max-attempts")):
        fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    else:
        retry_in = backoff_seconds(d.attempts)
        fields.update(next_attempt_at=now + timedelta(seconds=retry_in))
    WebhookDelivery.objects.filter(pk=d.pk).update(**fields)
    return retry_in


def delivery_reset(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Make a delivery pending again from its first attempt (same id and payload, so the
    receiver can tell a replay by its delivery id); the caller queues it."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), delivered_at=None
    )
    delivery.refresh_from_db()
    return delivery


def overdue_ids(*, limit: int = 200) -> list[int]:
    """Pending deliveries whose next attempt is overdue (lost to a broker outage or a killed
    worker), for the sweep to queue again."""
    now = timezone.now()
    # Only deliveries overdue for a while: a fresh one or a due retry is on its way already.
    stale = now - timedelta(minutes=2)
    due = Q(next_attempt_at__lte=stale) | Q(next_attempt_at__isnull=True, created_at__lt=stale)
    pending = WebhookDelivery.objects.filter(due, status=DeliveryStatus.PENDING)
    return list(pending.order_by("id").values_list("id", flat=True)[:limit])
