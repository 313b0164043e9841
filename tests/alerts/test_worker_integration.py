"""A drifting period's alert reaches the local receiver through a real Celery worker, signed;
an endpoint answering 500 is retried by the worker, then marked failed."""

from __future__ import annotations

import pytest

from apps.alerts import services
from apps.alerts.models import DeliveryStatus, WebhookDelivery
from tests.tasks.test_worker_integration import wait_for

from .conftest import SECRET, period
from .test_delivery import documented_verifier

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _finished(log):
    return wait_for(
        lambda: WebhookDelivery.objects.exclude(status=DeliveryStatus.PENDING).first(),
        what="the delivery to finish",
        log=log,
    )


def test_alert_delivered_by_a_worker(version, psi_rule, webhook, receiver, setting, celery_worker):
    setting("alerts-webhook-backoff", 0)
    setting("alerts-webhook-max-attempts", 2)
    # Transactional test: on_commit runs at once, as after the monitor's transaction.
    services.rules_evaluate(version=version, periods=[period(1), period(2, score_psi=0.42)])
    d = _finished(celery_worker["log"])
    assert d.status == DeliveryStatus.DELIVERED and d.attempts == 1
    assert len(receiver.requests) == 1
    got = receiver.requests[0]
    assert documented_verifier()(SECRET, got["headers"], got["body"])
    assert "alerts.deliver" in celery_worker["log"].read_text()

    receiver.status = 500
    WebhookDelivery.objects.all().delete()
    services.event_publish(event="alert.opened", payload=services.alert_payload(version.alerts.get()))
    d = _finished(celery_worker["log"])
    assert d.status == DeliveryStatus.FAILED and d.attempts == 2 and d.last_status_code == 500
    assert len(receiver.requests) == 3
