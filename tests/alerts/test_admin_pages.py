"""Admin (rules, alerts, webhooks, deliveries with replay), the alerts page and the dashboard."""

from __future__ import annotations

import pytest

from apps.alerts import services
from apps.alerts.models import AlertRule, AlertStatus, DeliveryStatus, Webhook, WebhookDelivery
from apps.users.models import Role

from .conftest import SECRET, period

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    return client


@pytest.fixture
def alert(version, psi_rule):
    return services.rules_evaluate(version=version, periods=[period(1, score_psi=0.4)])[0]


def rule_form(**change):
    data = {
        "name": "r",
        "model": "",
        "metric": "score_psi",
        "comparison": "gt",
        "threshold": "0.2",
        "window": "1",
        "severity": "warning",
        "enabled": "on",
        "email_recipients": "",
    }
    data.update(change)
    return data


def test_rule_on_unknown_metric_is_a_form_error(staff):
    r = staff.post("/admin/alerts/alertrule/add/", rule_form(metric="vibes"))
    assert r.status_code == 200
    assert "metric" in r.context["adminform"].form.errors
    assert not AlertRule.objects.exists()
    r = staff.post("/admin/alerts/alertrule/add/", rule_form())
    assert r.status_code == 302 and AlertRule.objects.get().metric == "score_psi"


def test_admin_acknowledges_and_resolves_with_events_inline(staff, alert):
    url = "/admin/alerts/alert/"
    r = staff.post(url, {"action": "acknowledge", "_selected_action": [alert.pk]}, follow=True)
    assert r.status_code == 200
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    staff.post(url, {"action": "resolve", "_selected_action": [alert.pk]})
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    page = staff.get(f"{url}{alert.pk}/change/").content.decode()
    assert "From the admin." in page and "Acknowledged" in page


def test_webhook_secret_is_write_only_in_the_admin(staff):
    data = {
        "name": "ops",
        "url": "https://hooks.bank.example/x",
        "secret": SECRET,
        "events": ["alert.opened"],
    }
    data["enabled"] = "on"
    assert staff.post("/admin/alerts/webhook/add/", data).status_code == 302
    hook = Webhook.objects.get()
    assert hook.secret == SECRET
    page = staff.get(f"/admin/alerts/webhook/{hook.pk}/change/").content.decode()
    assert SECRET not in page and hook.secret_sealed not in page
    data["secret"] = ""  # left empty: kept
    staff.post(f"/admin/alerts/webhook/{hook.pk}/change/", data)
    hook.refresh_from_db()
    assert hook.secret == SECRET


def test_webhook_admin_refuses_other_schemes(staff):
    data = {"name": "ops", "url": "ftp://files.bank.example/x", "events": ["alert.opened"]}
    r = staff.post("/admin/alerts/webhook/add/", data)
    assert r.status_code == 200 and "url" in r.context["adminform"].form.errors
    assert not Webhook.objects.exists()


def test_replay_from_the_admin_sends_again(
    staff, alert, webhook, receiver, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.event_publish(event="alert.opened", payload=services.alert_payload(alert))
    assert len(receiver.requests) == 1
    d = WebhookDelivery.objects.get()
    assert d.status == DeliveryStatus.DELIVERED
    with django_capture_on_commit_callbacks(execute=True):
        r = staff.post("/admin/alerts/webhookdelivery/", {"action": "replay", "_selected_action": [d.pk]})
    assert r.status_code == 302
    assert len(receiver.requests) == 2
    assert receiver.requests[1]["headers"]["X-OMM-Delivery-Id"] == str(d.pk)
    d.refresh_from_db()
    assert d.status == DeliveryStatus.DELIVERED and d.attempts == 1


def test_deliveries_are_read_only_in_the_admin(staff, alert, webhook):
    services.event_publish(event="alert.opened", payload={"x": 1})
    d = WebhookDelivery.objects.get()
    assert staff.get("/admin/alerts/webhookdelivery/add/").status_code == 403
    page = staff.get(f"/admin/alerts/webhookdelivery/{d.pk}/change/").content.decode()
    assert 'name="status"' not in page


def test_dashboard_shows_open_alerts_linked(client, make_user, alert):
    client.force_login(make_user(Role.VIEWER))
    page = client.get("/").content.decode()
    assert 'id="model-alerts"' in page
    assert "PSI drift" in page and f"#alert-{alert.pk}" in page
    assert '<span class="stat-value" id="model-alerts-count">1</span>' in page


def test_alerts_page_lists_and_acts(client, make_user, alert):
    viewer = make_user(Role.VIEWER)
    client.force_login(viewer)
    page = client.get("/alerts/").content.decode()
    assert f'id="alert-{alert.pk}"' in page and "/acknowledge/" not in page
    assert client.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 403
    client.force_login(make_user(Role.ANALYST))
    assert client.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert client.post(f"/alerts/{alert.pk}/explode/").status_code == 404
