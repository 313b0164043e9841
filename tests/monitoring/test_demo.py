"""The demo gives demo-credit six months of monitored history with one drifting month."""

from __future__ import annotations

import pytest

from apps.models.demo import MODEL_NAME
from apps.models.models import Decision, ModelVersion, VersionStatus
from apps.monitoring import demo as monitoring_demo
from apps.monitoring.models import MonitoringPeriod, Outcome, Vintage

pytestmark = pytest.mark.django_db


def test_the_demo_shows_six_months_and_one_drifting_month(demo):
    version = ModelVersion.objects.get(model__name=MODEL_NAME, status=VersionStatus.ACTIVE)
    periods = list(
        MonitoringPeriod.objects.filter(version=version, granularity="month").order_by("period_start")
    )
    assert len(periods) == monitoring_demo.MONTHS
    assert (
        Decision.objects.filter(version_id=version.pk).count()
        == monitoring_demo.MONTHS * monitoring_demo.ROWS_PER_MONTH
    )
    psi = [p.figures["score_psi"] for p in periods]
    drifting = max(range(len(psi)), key=psi.__getitem__)
    assert drifting == monitoring_demo.DRIFT_MONTH and psi[drifting] >= 0.25
    assert all(v < 0.1 for i, v in enumerate(psi) if i != drifting)
    # Outcomes with their delay: the oldest months have realised AUC, the newest only estimates.
    assert (
        periods[0].figures["auc"] is not None
        and periods[-1].figures["labelled"] < periods[0].figures["labelled"]
    )
    assert all(p.figures["estimated_auc"] is not None for p in periods)
    assert Outcome.objects.filter(model_id=version.model_id).exists()
    assert Vintage.objects.filter(version=version).count() == monitoring_demo.MONTHS
    # The drifting month raised an alert through the rule the demo sets up.
    from apps.alerts.models import Alert

    alerted = set(Alert.objects.filter(version=version).values_list("period_start", flat=True))
    assert alerted == {periods[monitoring_demo.DRIFT_MONTH].period_start}
    raised = Alert.objects.filter(version=version).count()
    # Realised figures wait for mature outcomes: the newest month shows estimates only.
    assert periods[-1].figures["outcomes_mature"] is False and periods[-1].figures["event_rate"] is None
    # Running the demo again adds nothing.
    monitoring_demo.load_demo_monitoring(write=lambda _s: None)
    assert MonitoringPeriod.objects.filter(version=version).count() == monitoring_demo.MONTHS
    assert Alert.objects.filter(version=version).count() == raised
