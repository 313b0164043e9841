"""Webhook deliveries to a real local HTTP receiver: signed, retried, failed, never blocking."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from django.core import mail

from apps.alerts import delivery, services, signing
from apps.alerts.models import Alert, AlertRule, DeliveryStatus, WebhookDelivery
from apps.models.models import EventAction
from apps.models.services import lifecycle

from .conftest import SECRET, period

pytestmark = pytest.mark.django_db
DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_verifier():
    """The verification snippet of docs/webhooks.md, run as a receiver would copy it."""
    code = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - our own documentation, checked to work
    return namespace["omm_delivery_is_authentic"]


@pytest.fixture
def fast(setting):
    setting("alerts-webhook-backoff", 0)
    setting("alerts-webhook-max-attempts", 3)
    setting("alerts-webhook-timeout", 0.3)


def open_alert(version, rule, capture):
    with capture(execute=True):
        return services.rules_evaluate(version=version, periods=[period(1, score_psi=0.4)])


def test_opened_alert_reaches_the_receiver_signed(
    version, psi_rule, webhook, receiver, eager, fast, django_capture_on_commit_callbacks
):
    (alert,) = open_alert(version, psi_rule, django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    got = receiver.requests[0]
    verify = documented_verifier()
    assert verify(SECRET, got["headers"], got["body"])
    assert not verify("another secret", got["headers"], got["body"])
    assert not verify(SECRET, got["headers"], got["body"] + b" ")
    body = json.loads(got["body"])
    assert body["event"] == "alert.opened"
    assert body["data"]["alert"]["id"] == alert.pk
    assert body["data"]["version"]["id"] == version.pk
    d = WebhookDelivery.objects.get()
    assert got["headers"][signing.HEADER_DELIVERY] == str(d.pk)
    assert (d.status, d.attempts, d.last_status_code) == (DeliveryStatus.DELIVERED, 1, 200)
    assert d.delivered_at is not None


def test_old_timestamp_fails_the_documented_check(webhook):
    body = b"{}"
    old = int(time.time()) - 3600
    headers = {
        signing.HEADER_DELIVERY: "7",
        signing.HEADER_TIMESTAMP: str(old),
        signing.HEADER_SIGNATURE: signing.signature(SECRET, "7", old, body),
    }
    assert not documented_verifier()(SECRET, headers, body)


def test_secret_is_stored_encrypted(webhook):
    webhook.refresh_from_db()
    assert SECRET not in webhook.secret_sealed
    assert webhook.secret_sealed.startswith("fernet:")
    assert webhook.secret == SECRET


def test_endpoint_answering_500_is_retried_then_failed(
    version, psi_rule, webhook, receiver, eager, fast, django_capture_on_commit_callbacks
):
    receiver.status = 500
    open_alert(version, psi_rule, django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 3
    ids = {r["headers"][signing.HEADER_DELIVERY] for r in receiver.requests}
    assert len(ids) == 1  # the same delivery, attempted three times
    d = WebhookDelivery.objects.get()
    assert (d.status, d.attempts, d.last_status_code) == (DeliveryStatus.FAILED, 3, 500)
    assert "HTTP 500" in d.last_error
    assert d.next_attempt_at is None


def test_backoff_doubles(setting):
    setting("alerts-webhook-backoff", 10)
    assert [delivery.backoff_seconds(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]


def test_failed_attempt_schedules_the_next_with_backoff(version, psi_rule, webhook, receiver, setting):
    setting("alerts-webhook-backoff", 60)
    receiver.status = 503
    services.rules_evaluate(version=version, periods=[period(1, score_psi=0.4)])
    d = WebhookDelivery.objects.get()
    assert delivery.delivery_attempt(delivery_id=d.pk) == 60
    d.refresh_from_db()
    assert d.status == DeliveryStatus.PENDING and d.attempts == 1 and d.next_attempt_at is not None
    # a duplicate task arriving before the retry is due makes no attempt
    assert delivery.delivery_attempt(delivery_id=d.pk) is None
    assert len(receiver.requests) == 1


def test_timing_out_endpoint_fails_without_blocking(version, psi_rule, webhook, receiver, setting):
    setting("alerts-webhook-timeout", 0.2)
    setting("alerts-webhook-max-attempts", 1)
    receiver.delay = 2.0
    # The monitor's call only stores the delivery: the endpoint is not contacted in it.
    services.rules_evaluate(version=version, periods=[period(1, score_psi=0.4)])
    assert receiver.requests == []
    d = WebhookDelivery.objects.get()
    started = time.monotonic()
    assert delivery.delivery_attempt(delivery_id=d.pk) is None
    waited = time.monotonic() - started
    d.refresh_from_db()
    assert d.status == DeliveryStatus.FAILED
    assert "timed out" in d.last_error.lower()
    assert waited < receiver.delay  # gave up before the endpoint answered


def test_unreachable_endpoint_is_an_error_not_an_exception(version, psi_rule, webhook, setting):
    setting("alerts-webhook-max-attempts", 1)
    webhook.url = "http://127.0.0.1:9/nothing-listens"
    webhook.save()
    services.rules_evaluate(version=version, periods=[period(1, score_psi=0.4)])
    d = WebhookDelivery.objects.get()
    assert delivery.delivery_attempt(delivery_id=d.pk) is None
    d.refresh_from_db()
    assert d.status == DeliveryStatus.FAILED and d.last_status_code is None and d.last_error


def test_unsubscribed_and_disabled_webhooks_get_nothing(version, psi_rule, webhook):
    webhook.events = ["version.promoted"]
    webhook.save()
    services.rules_evaluate(version=version, periods=[period(1, score_psi=0.4)])
    assert not WebhookDelivery.objects.exists()


def test_rolled_back_evaluation_sends_nothing(
    version, psi_rule, webhook, receiver, eager, django_capture_on_commit_callbacks
):
    from django.db import transaction

    capture = django_capture_on_commit_callbacks(execute=True)
    with capture as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        services.rules_evaluate(version=version, periods=[period(1, score_psi=0.4)])
        raise RuntimeError("monitor crashed")
    assert callbacks == []
    assert not Alert.objects.exists() and receiver.requests == []


def test_promotion_reaches_a_subscribed_webhook(
    version, webhook, receiver, eager, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.event_record(
            version=version,
            action=EventAction.PROMOTE,
            from_status="registered",
            user=admin_user,
            reason="go",
        )
        lifecycle.event_record(
            version=version, action=EventAction.DEPRECATE, from_status="active", user=admin_user, reason="x"
        )
    assert len(receiver.requests) == 1
    body = json.loads(receiver.requests[0]["body"])
    assert body["event"] == "version.promoted"
    assert body["data"]["version"]["id"] == version.pk
    assert body["data"]["actor"] == admin_user.username
    assert documented_verifier()(SECRET, receiver.requests[0]["headers"], receiver.requests[0]["body"])


def test_real_promotion_service_publishes(version, webhook, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        lifecycle.version_activate(version=version, user=admin_user, reason="champion")
    assert list(WebhookDelivery.objects.values_list("event", flat=True)) == ["version.promoted"]


def test_email_sent_to_rule_and_platform_recipients(
    version, setting, eager, django_capture_on_commit_callbacks
):
    setting("alerts-email-recipients", "risk@bank.example, ops@bank.example")
    AlertRule.objects.create(
        name="AUC low",
        metric="auc",
        comparison="lt",
        threshold=0.7,
        severity="critical",
        email_recipients="analyst@bank.example\nrisk@bank.example",
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.rules_evaluate(version=version, periods=[period(1, auc=0.62)])
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["analyst@bank.example", "risk@bank.example", "ops@bank.example"]
    assert "AUC low" in sent.subject and "Critical" in sent.subject
    assert "0.62" in sent.body


def test_no_recipients_no_mail(version, psi_rule, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.rules_evaluate(version=version, periods=[period(1, score_psi=0.4)])
    assert mail.outbox == []


def test_sweep_queues_overdue_deliveries_only(version, psi_rule, webhook, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from apps.alerts import tasks

    services.rules_evaluate(version=version, periods=[period(1, score_psi=0.4)])
    d = WebhookDelivery.objects.get()
    sent = []
    monkeypatch.setattr(
        tasks, "enqueue", lambda *, delivery_id, countdown=None: sent.append(delivery_id) or True
    )
    assert tasks.deliveries_sweep() == 0  # fresh: on its way through on_commit
    WebhookDelivery.objects.filter(pk=d.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    assert tasks.deliveries_sweep() == 1 and sent == [d.pk]


def test_mail_with_the_server_down_is_tried_again_up_to_the_cap(
    version, setting, eager, settings, caplog, django_capture_on_commit_callbacks
):
    import socket

    with socket.socket() as s:  # a port nothing listens on: the SMTP server is down
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    setting("alerts-webhook-max-attempts", 3)
    AlertRule.objects.create(
        name="AUC low", metric="auc", comparison="lt", threshold=0.7, email_recipients="risk@bank.example"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.rules_evaluate(version=version, periods=[period(1, auc=0.62)])
    assert Alert.objects.count() == 1  # the monitor went on
    said = [r.getMessage() for r in caplog.records if r.name == "apps.alerts.notify"]
    tried = [m for m in said if "attempt" in m]
    assert [m.split(": ")[1] if "attempt" in m else m for m in tried][:2] == [
        "attempt 1 of 3 failed, tried again later",
        "attempt 2 of 3 failed, tried again later",
    ]
    assert tried[-1].endswith("not sent after 3 attempts: given up") and len(tried) == 3
