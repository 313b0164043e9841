"""Drift monitoring: the daily job evaluates each active version on the newest data, a
shifted dataset raises an alert, marks the version for review with an audit event, and
shows on the dashboard and in /metrics; clearing the review closes the alert."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils.html import escape
from django_celery_beat.models import PeriodicTask

from apps.core.config import config_invalidate
from apps.core.models import SystemConfig
from apps.datasets.demo_data import credit_frame
from apps.evaluations import monitoring
from apps.evaluations.models import Evaluation
from apps.models import services as registry
from apps.models.models import ModelVersion, VersionEvent
from tests.evaluations.conftest import run

pytestmark = pytest.mark.django_db


def _upload_credit(upload, frame, name="credit"):
    response = upload(
        frame.to_csv(index=False),
        f"{name}.csv",
        name=name,
        kind="tabular",
        labelColumn="is_bad",
        timeColumn="application_date",
        keyColumns=["application_id"],
    )
    assert response.status_code == 201, response.content
    return response.json()["data"]


@pytest.fixture
def active(admin_user, trained) -> ModelVersion:
    registry.version_activate(version=trained, user=admin_user, reason="champion")
    trained.refresh_from_db()
    return trained


def test_a_shifted_dataset_flags_the_active_version(upload, active, admin_user, client):
    # First run: the newest data is the training data itself; nothing has moved.
    first = monitoring.monitor_run(enqueue=False)
    assert len(first["created"]) == 1 and first["skipped"] == []
    calm = run(first["created"][0])
    assert calm.is_monitor and calm.dataset_version_id == active.dataset_version_id
    assert calm.alerts == [] and calm.created_by is None
    active.refresh_from_db()
    assert not active.review_required
    # Idempotent: the same (version, data) pair is not evaluated twice.
    assert monitoring.monitor_run(enqueue=False) == {
        "created": [],
        "skipped": [{"version": str(active), "reason": f"already monitored on {calm.dataset_version}"}],
    }

    # New data arrives, its applicants poorer risks than the training population.
    shifted = credit_frame(3000, seed=31)
    shifted["credit_score"] = shifted["credit_score"] - 80
    _upload_credit(upload, shifted)
    second = monitoring.monitor_run(enqueue=False)
    ev = run(second["created"][0])
    assert ev.dataset_version.version == 2
    assert ev.metrics["psi"] >= 0.25
    psi_alert = next(a for a in ev.alerts if a["metric"] == "psi")
    assert psi_alert["threshold"] == 0.25 and psi_alert["value"] == ev.metrics["psi"]
    assert psi_alert["features"] == ["credit_score"]  # the one feature that moved
    assert "most shifted features: " in psi_alert["message"]

    active.refresh_from_db()
    assert active.review_required and f"Monitoring evaluation #{ev.pk}" in active.review_reason
    event = VersionEvent.objects.get(version=active, action="flag")
    assert event.details["evaluationId"] == ev.pk and event.actor is None
    assert event.details["alerts"][0]["metric"] == "psi"
    assert ev.task.logs.filter(message__startswith="Drift alert").exists()

    # The alert is on the dashboard and in /metrics.
    client.force_login(admin_user)
    page = client.get("/").content.decode()
    assert (
        f"{active.model.name} v{active.version} on credit v2" in page and escape(psi_alert["message"]) in page
    )
    metrics = client.get("/metrics").content.decode()
    assert "omm_drift_alerts 1.0" in metrics
    assert 'omm_evaluations{status="completed"} 2.0' in metrics
    assert f'omm_monitor_psi{{model="credit",version="{active.version}"}}' in metrics

    # An admin reviews the version: the alert closes (the trail keeps both events).
    registry.version_review_clear(version=active, user=admin_user, reason="checked: new channel")
    assert "omm_drift_alerts 0.0" in client.get("/metrics").content.decode()
    assert "No drift alerts." in client.get("/").content.decode()
    assert list(VersionEvent.objects.filter(version=active).values_list("action", flat=True)) == [
        "register",
        "promote",
        "flag",
        "review",
    ]


def test_alert_thresholds_come_from_settings(active, upload):
    SystemConfig.objects.update_or_create(
        key="evaluations-auc-drop-alert", defaults={"value": -1.0, "value_type": "number"}
    )
    config_invalidate("evaluations-auc-drop-alert")
    ev = run(monitoring.monitor_run(enqueue=False)["created"][0])
    # A drop "below -1" always holds: the AUC alert fires even on the training data.
    assert [a["metric"] for a in ev.alerts] == ["auc"]
    assert "below the training AUC" in ev.alerts[0]["message"]


def test_monitoring_uses_the_configured_dataset_and_can_be_off(active, upload):
    other = _upload_credit(upload, credit_frame(1500, seed=41), name="recent")
    SystemConfig.objects.update_or_create(
        key="evaluations-monitor-datasets",
        defaults={"value": {active.model.name: other["dataset"]}, "value_type": "json"},
    )
    config_invalidate("evaluations-monitor-datasets")
    created = monitoring.monitor_run(enqueue=False)["created"]
    assert Evaluation.objects.get(pk=created[0]).dataset_version.dataset.name == "recent"

    SystemConfig.objects.update_or_create(
        key="evaluations-monitor-enabled", defaults={"value": False, "value_type": "boolean"}
    )
    config_invalidate("evaluations-monitor-enabled")
    assert monitoring.monitor_run(enqueue=False)["disabled"] is True


def test_the_monitor_is_a_platform_schedule():
    from omm.celery import app

    app.loader.import_default_modules()
    call_command("setup_periodic_tasks")
    periodic = PeriodicTask.objects.get(task="evaluations.monitor")
    assert periodic.enabled and periodic.queue == "default"
    assert "evaluations.monitor" in app.tasks and "apps.evaluations.tasks.run_evaluation" in app.tasks
