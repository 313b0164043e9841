"""Rules evaluated over monitored periods: windows, too few rows, idempotency, auto-resolve."""

from __future__ import annotations

import pytest

from apps.alerts import services
from apps.alerts.models import Alert, AlertEvent, AlertRule, AlertStatus, EventKind
from tests.factories import ModelFactory, ModelVersionFactory

from .conftest import period

pytestmark = pytest.mark.django_db


def test_breach_opens_an_alert_with_its_opened_event(version, psi_rule):
    opened = services.rules_evaluate(version=version, periods=[period(1), period(2, score_psi=0.31)])
    assert [a.rule for a in opened] == [psi_rule]
    alert = opened[0]
    assert alert.status == AlertStatus.OPEN
    assert alert.value == pytest.approx(0.31)
    assert alert.period_start.month == 2
    assert "0.31" in alert.message
    assert list(alert.events.values_list("kind", "actor")) == [(EventKind.OPENED, None)]


def test_within_threshold_opens_nothing(version, psi_rule):
    assert services.rules_evaluate(version=version, periods=[period(1, score_psi=0.249)]) == []
    assert not Alert.objects.exists()


def test_window_of_two_opens_only_on_the_second_consecutive_breach(version, psi_rule):
    psi_rule.window = 2
    psi_rule.save()
    history = [period(1), period(2, score_psi=0.4)]
    assert services.rules_evaluate(version=version, periods=history) == []
    history.append(period(3, score_psi=0.5))
    opened = services.rules_evaluate(version=version, periods=history)
    assert [a.period_start.month for a in opened] == [3]


def test_window_needs_consecutive_breaches(version, psi_rule):
    psi_rule.window = 2
    psi_rule.save()
    history = [period(1, score_psi=0.4), period(2), period(3, score_psi=0.5)]
    assert services.rules_evaluate(version=version, periods=history) == []


def test_insufficient_periods_never_open(version, psi_rule):
    history = [period(1, score_psi=0.9, insufficient=True, rows=12.0)]
    assert services.rules_evaluate(version=version, periods=history) == []
    psi_rule.window = 2
    psi_rule.save()
    history = [period(1, score_psi=0.9), period(2, score_psi=0.9, insufficient=True)]
    assert services.rules_evaluate(version=version, periods=history) == []
    assert not Alert.objects.exists()


def test_unknown_figure_neither_opens_nor_resolves(version):
    rule = AlertRule.objects.create(name="AUC low", metric="auc", comparison="lt", threshold=0.7)
    assert services.rules_evaluate(version=version, periods=[period(1, auc=0.6)])
    assert services.rules_evaluate(version=version, periods=[period(1, auc=0.6), period(2, auc=None)]) == []
    assert Alert.objects.get(rule=rule).status == AlertStatus.OPEN


def test_evaluating_the_same_periods_again_changes_nothing(version, psi_rule):
    history = [period(1), period(2, score_psi=0.3)]
    assert len(services.rules_evaluate(version=version, periods=history)) == 1
    assert services.rules_evaluate(version=version, periods=history) == []
    assert Alert.objects.count() == 1
    assert AlertEvent.objects.count() == 1


def test_a_breach_that_goes_on_keeps_one_alert(version, psi_rule):
    history = [period(1, score_psi=0.3)]
    services.rules_evaluate(version=version, periods=history)
    history.append(period(2, score_psi=0.35))
    assert services.rules_evaluate(version=version, periods=history) == []
    assert Alert.objects.count() == 1


def test_back_within_threshold_resolves_by_the_system(version, psi_rule):
    history = [period(1, score_psi=0.3)]
    (alert,) = services.rules_evaluate(version=version, periods=history)
    history.append(period(2, score_psi=0.1))
    services.rules_evaluate(version=version, periods=history)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    assert alert.resolved_at is not None
    resolved = alert.events.get(kind=EventKind.RESOLVED)
    assert resolved.actor is None and "2026-02-01" in resolved.note


def test_rule_of_another_model_and_disabled_rules_are_skipped(version):
    AlertRule.objects.create(
        name="other", model=ModelFactory(), metric="score_psi", comparison="gt", threshold=0.1
    )
    AlertRule.objects.create(name="off", metric="score_psi", comparison="gt", threshold=0.1, enabled=False)
    mine = AlertRule.objects.create(
        name="mine", model=version.model, metric="score_psi", comparison="gt", threshold=0.1
    )
    opened = services.rules_evaluate(version=version, periods=[period(1, score_psi=0.2)])
    assert [a.rule for a in opened] == [mine]
    other_version = ModelVersionFactory()
    assert services.rules_evaluate(version=other_version, periods=[period(1, score_psi=0.2)]) == []


@pytest.mark.parametrize(
    ("comparison", "value", "expected"),
    [
        ("gt", 0.5, False),
        ("gte", 0.5, True),
        ("lt", 0.5, False),
        ("lte", 0.5, True),
        ("lt", 0.4, True),
    ],
)
def test_comparisons(comparison, value, expected):
    rule = AlertRule(metric="auc", comparison=comparison, threshold=0.5)
    assert services.breach(rule, {"auc": value, "insufficient": False}) is expected


def test_alert_resolved_by_hand_is_not_reopened_for_the_same_period(version, psi_rule, admin_user):
    history = [period(1, score_psi=0.3)]
    (alert,) = services.rules_evaluate(version=version, periods=history)
    services.alert_resolve(alert=alert, user=admin_user, note="known campaign")
    assert services.rules_evaluate(version=version, periods=history) == []
    assert Alert.objects.count() == 1


def test_a_new_breach_after_recovery_opens_a_new_alert(version, psi_rule):
    history = [period(1, score_psi=0.3), period(2, score_psi=0.1)]
    services.rules_evaluate(version=version, periods=history[:1])
    services.rules_evaluate(version=version, periods=history)
    history.append(period(3, score_psi=0.45))
    (again,) = services.rules_evaluate(version=version, periods=history)
    assert again.period_start.month == 3
    assert list(Alert.objects.order_by("period_start").values_list("status", flat=True)) == [
        AlertStatus.RESOLVED,
        AlertStatus.OPEN,
    ]


def test_demo_rules_are_created_once_and_catch_a_drifting_month(version):
    from apps.alerts.demo import DEMO_RULES, load_demo_alerts

    assert load_demo_alerts(write=lambda _: None) == len(DEMO_RULES)
    assert load_demo_alerts(write=lambda _: None) == 0
    months = [period(m) for m in range(1, 6)] + [period(6, score_psi=0.31)]
    opened = services.rules_evaluate(version=version, periods=months)
    assert [a.rule.name for a in opened] == ["Score PSI drift"]
