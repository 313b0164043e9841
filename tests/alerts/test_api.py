"""The alert API: lists and filters, acknowledge/resolve with history, rules, webhooks, roles."""

from __future__ import annotations

import pytest

from apps.alerts import services
from apps.alerts.models import Alert, AlertRule, AlertStatus, Webhook, WebhookDelivery
from apps.users.models import Role
from tests.factories import ModelVersionFactory

from .conftest import SECRET, period

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(version, psi_rule) -> Alert:
    (opened,) = services.rules_evaluate(version=version, periods=[period(1, score_psi=0.4)])
    return opened


def test_list_filters_by_status_model_and_severity(api, alert):
    other = ModelVersionFactory()
    AlertRule.objects.create(name="AUC", metric="auc", comparison="lt", threshold=0.9, severity="critical")
    services.rules_evaluate(version=other, periods=[period(1)])
    body = api.get("/api/alerts").json()
    assert body["total"] == 2
    first = api.get(f"/api/alerts?model={alert.version.model_id}").json()["data"]
    assert [a["id"] for a in first] == [alert.pk]
    assert first[0]["ruleName"] == "PSI drift" and first[0]["status"] == "open"
    assert first[0]["events"][0]["kind"] == "opened"
    critical = api.get("/api/alerts?severity=critical").json()["data"]
    assert [a["modelName"] for a in critical] == [other.model.name]
    assert api.get("/api/alerts?status=resolved").json()["total"] == 0


def test_bad_filter_is_400(api):
    r = api.get("/api/alerts?severity=apocalyptic")
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"


def test_acknowledge_then_resolve_records_history(api, admin_user, alert):
    r = api.post(f"/api/alerts/{alert.pk}/acknowledge", {"note": "looking"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["data"]["status"] == "acknowledged"
    r = api.post(f"/api/alerts/{alert.pk}/resolve", {"note": "retrained"}, format="json")
    assert r.json()["data"]["status"] == "resolved"
    events = r.json()["data"]["events"]
    assert [(e["kind"], e["actor"], e["note"]) for e in events] == [
        ("opened", None, ""),
        ("acknowledged", admin_user.username, "looking"),
        ("resolved", admin_user.username, "retrained"),
    ]


def test_resolving_twice_is_409(api, alert):
    api.post(f"/api/alerts/{alert.pk}/resolve", {}, format="json")
    r = api.post(f"/api/alerts/{alert.pk}/resolve", {}, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "alert_state"
    r = api.post(f"/api/alerts/{alert.pk}/acknowledge", {}, format="json")
    assert r.status_code == 409
    assert alert.events.count() == 2


def test_acknowledge_unknown_alert_is_404(api):
    assert api.post("/api/alerts/999999/acknowledge", {}, format="json").status_code == 404


def test_viewer_reads_but_cannot_acknowledge(client_for, make_user, alert):
    viewer = client_for(make_user(Role.VIEWER))
    assert viewer.get("/api/alerts").status_code == 200
    r = viewer.post(f"/api/alerts/{alert.pk}/acknowledge", {}, format="json")
    assert r.status_code == 403
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_analyst_acknowledges_but_cannot_write_rules_or_see_webhooks(client_for, make_user, alert):
    analyst = client_for(make_user(Role.ANALYST))
    assert analyst.post(f"/api/alerts/{alert.pk}/acknowledge", {}, format="json").status_code == 200
    rule = {"name": "x", "metric": "auc", "comparison": "lt", "threshold": 0.7}
    assert analyst.post("/api/alert-rules", rule, format="json").status_code == 403
    assert analyst.get("/api/webhooks").status_code == 403
    assert analyst.get("/api/webhook-deliveries").status_code == 403


def test_anonymous_is_refused(client, alert):
    assert client.get("/api/alerts").status_code in (401, 403)


def test_rule_crud(api, version):
    body = {
        "name": "KS low",
        "model": version.model_id,
        "metric": "ks",
        "comparison": "lt",
        "threshold": 0.2,
        "window": 2,
        "severity": "critical",
    }
    r = api.post("/api/alert-rules", body, format="json")
    assert r.status_code == 201, r.content
    rule_id = r.json()["data"]["id"]
    assert AlertRule.objects.get(pk=rule_id).window == 2
    r = api.patch(f"/api/alert-rules/{rule_id}", {"threshold": 0.25}, format="json")
    assert r.status_code == 200 and r.json()["data"]["threshold"] == 0.25
    assert api.delete(f"/api/alert-rules/{rule_id}").status_code == 204
    assert not AlertRule.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metric": "vibes"}, "metric"),
        ({"comparison": "=="}, "comparison"),
        ({"window": 0}, "window"),
        ({"severity": "doom"}, "severity"),
        ({"threshold": "high"}, "threshold"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_rule_is_400_and_stores_nothing(api, change, field):
    body = {"name": "r", "metric": "score_psi", "comparison": "gt", "threshold": 0.2, **change}
    r = api.post("/api/alert-rules", body, format="json")
    assert r.status_code == 400, r.content
    error = r.json()
    assert error["code"] == "validation_error"
    assert field in error["errors"]
    assert not AlertRule.objects.exists()


def test_unknown_metric_names_the_catalogue(api, psi_rule):
    r = api.patch(f"/api/alert-rules/{psi_rule.pk}", {"metric": "vibes"}, format="json")
    assert r.status_code == 400
    assert "score_psi" in " ".join(r.json()["errors"]["metric"])
    psi_rule.refresh_from_db()
    assert psi_rule.metric == "score_psi"


def test_unknown_metric_refused_by_the_service_too():
    from apps.core.errors import Invalid

    with pytest.raises(Invalid) as caught:
        services.alert_rule_create(name="r", metric="vibes", comparison="gt", threshold=1)
    assert caught.value.code == "unknown_metric"


def test_webhook_secret_is_write_only_and_encrypted(api):
    body = {
        "name": "ops",
        "url": "https://hooks.bank.example/omm",
        "secret": SECRET,
        "events": ["alert.opened"],
    }
    r = api.post("/api/webhooks", body, format="json")
    assert r.status_code == 201, r.content
    data = r.json()["data"]
    assert "secret" not in data and data["hasSecret"] is True
    hook = Webhook.objects.get()
    assert SECRET not in hook.secret_sealed and hook.secret == SECRET
    assert SECRET not in api.get(f"/api/webhooks/{hook.pk}").content.decode()
    api.patch(f"/api/webhooks/{hook.pk}", {"enabled": False}, format="json")
    hook.refresh_from_db()
    assert hook.secret == SECRET and not hook.enabled


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "ftp://files.bank.example/x"}, "url"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"events": ["alert.exploded"]}, "events"),
    ],
)
def test_bad_webhook_is_400(api, change, field):
    body = {"name": "ops", "url": "https://hooks.bank.example/omm", "events": ["alert.opened"], **change}
    r = api.post("/api/webhooks", body, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()["errors"]
    assert not Webhook.objects.exists()


def test_deliveries_listed_and_replayed(api, alert, webhook, django_capture_on_commit_callbacks):
    services.event_publish(event="alert.opened", payload={"x": 1})
    d = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=d.pk).update(status="failed", attempts=5)
    assert api.get("/api/webhook-deliveries?status=failed").json()["total"] == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = api.post(f"/api/webhook-deliveries/{d.pk}/replay")
    assert r.status_code == 200
    assert r.json()["data"]["status"] == "pending" and r.json()["data"]["attempts"] == 0
    assert len(callbacks) == 1


def test_openapi_schema_includes_alerts(api):
    r = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    text = r.content.decode()
    for path in ("/api/alerts", "/api/alert-rules", "/api/webhooks", "/api/webhook-deliveries/{id}/replay"):
        assert path in text


def test_rule_with_alerts_is_not_deleted(api, alert, psi_rule):
    r = api.delete(f"/api/alert-rules/{psi_rule.pk}")
    assert r.status_code == 409 and r.json()["code"] == "rule_has_alerts"
    assert AlertRule.objects.filter(pk=psi_rule.pk).exists() and Alert.objects.count() == 1
