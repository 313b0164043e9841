"""Mail of opened alerts through Django's email backend (sent from a worker: ``tasks.alert_email``)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import gettext

from apps.core.config import config_get

from .delivery import backoff_seconds
from .models import Alert, AlertRule

logger = logging.getLogger(__name__)


def email_recipients(rule: AlertRule) -> list[str]:
    platform = [a.strip() for a in str(config_get("alerts-email-recipients") or "").split(",") if a.strip()]
    return list(dict.fromkeys(rule.recipients() + platform))


def alert_email(*, alert_id: int) -> int | None:
    """Mail an opened alert to its rule's and the platform's recipients; returns how many were
    sent, or None when the mail server failed (logged, never raised: the caller retries)."""
    alert = Alert.objects.select_related("rule", "version__model").filter(pk=alert_id).first()
    if alert is None:
        return 0
    recipients = email_recipients(alert.rule)
    if not recipients:
        return 0
    subject = gettext("[OMM] %(severity)s alert: %(rule)s on %(version)s") % {
        "severity": alert.get_severity_display(),
        "rule": alert.rule.name,
        "version": str(alert.version),
    }
    try:
        return send_mail(subject, alert.message, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:  # the mail server's errors are of many kinds; none may stop the monitor
        logger.exception("Mail of alert %s could not be sent", alert.pk)
        return None


def email_attempt(*, alert_id: int, attempt: int) -> float | None:
    """Make mail attempt ``attempt`` of an alert; returns seconds until the next attempt, or
    None when there is none (sent, nobody to send to, or given up at the webhooks' attempt
    cap, ``alerts-webhook-max-attempts``, with their backoff)."""
    if alert_email(alert_id=alert_id) is not None:
        return None
    cap = int(config_get("alerts-webhook-max-attempts"))
    if attempt >= cap:
        logger.error("Mail of alert %s not sent after %s attempts: given up", alert_id, attempt)
        return None
    logger.warning("Mail of alert %s: attempt %s of %s failed, tried again later", alert_id, attempt, cap)
    return backoff_seconds(attempt)
