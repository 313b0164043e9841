"""The story a bank's risk team lives: six months of decisions for demo-credit, a drifting
month that opens an alert, the alert delivered signed to the team's webhook and shown on
the dashboard, and one decision of an earlier month found by its entity key with its
inputs, score, version and reasons."""

from __future__ import annotations

import json

import pytest

from apps.alerts import tasks
from apps.alerts.models import Alert, AlertStatus, DeliveryStatus, WebhookDelivery
from apps.models.demo import MODEL_NAME
from apps.models.models import Decision, ModelVersion, VersionStatus
from apps.monitoring import demo as monitoring_demo
from apps.monitoring.models import MonitoringPeriod
from apps.users.models import Role

from .conftest import SECRET
from .test_delivery import documented_verifier

pytestmark = pytest.mark.django_db


@pytest.fixture
def watched_demo(webhook, request):
    """The risk team's webhook is registered before the demo's history is monitored."""
    request.getfixturevalue("demo")


def test_a_drifting_month_reaches_the_risk_team_and_an_old_decision_is_found(
    watched_demo, receiver, eager, client_for, make_user, client
):
    version = ModelVersion.objects.get(model__name=MODEL_NAME, status=VersionStatus.ACTIVE)
    periods = list(MonitoringPeriod.objects.filter(version=version).order_by("period_start"))
    assert len(periods) == monitoring_demo.MONTHS
    drifting = periods[monitoring_demo.DRIFT_MONTH]

    # The drifting month opened alerts (score PSI among them); their deliveries wait for a worker.
    opened = list(Alert.objects.filter(version=version, status=AlertStatus.OPEN))
    assert {a.period_start for a in opened} == {drifting.period_start}
    alert = next(a for a in opened if a.rule.metric == "score_psi")
    deliveries = list(WebhookDelivery.objects.filter(event="alert.opened"))
    assert len(deliveries) == len(opened)
    assert {d.status for d in deliveries} == {DeliveryStatus.PENDING}
    for delivery in deliveries:
        tasks.deliver.delay(delivery.pk)  # what the worker runs once the monitor's work commits

    assert len(receiver.requests) == len(opened)
    verify = documented_verifier()
    bodies = [json.loads(got["body"]) for got in receiver.requests]
    assert all(verify(SECRET, got["headers"], got["body"]) for got in receiver.requests)
    body = next(b for b in bodies if b["data"]["alert"]["id"] == alert.pk)
    assert body["event"] == "alert.opened"
    assert body["data"]["version"]["id"] == version.pk
    delivered = WebhookDelivery.objects.filter(event="alert.opened")
    assert {d.status for d in delivered} == {DeliveryStatus.DELIVERED}

    # The dashboard shows it.
    analyst = make_user(Role.ANALYST)
    client.force_login(analyst)
    page = client.get("/").content.decode()
    card = page.split('id="model-alerts"', 1)[1].split("</section>", 1)[0]
    assert f"#alert-{alert.pk}" in card and drifting.period_start.isoformat() in card

    # A decision of the first month, found by its entity key.
    first = periods[0]
    old = Decision.objects.filter(
        version_id=version.pk, created_at__date__gte=first.period_start, created_at__date__lt=first.period_end
    ).first()
    answer = client_for(analyst).get("/api/decisions", {"entityKey": old.entity_key})
    assert answer.status_code == 200, answer.content
    (found,) = answer.json()["data"]
    assert found["id"] == old.pk
    assert found["version"] == version.pk and found["versionNumber"] == version.version
    assert found["inputs"] == old.inputs and set(found["inputs"]) >= {"credit_score", "num_inquiries_6m"}
    assert 0 < found["score"] < 1
    assert found["reasons"] and all(r["code"] and r["text"] for r in found["reasons"])
    assert found["createdAt"][:10] < periods[1].period_start.isoformat()
