"""Writes of alerts: evaluating rules over monitored periods, acknowledging and resolving
alerts, rules and webhooks kept valid, and the deliveries (webhooks, email) they cause.

The monitor calls ``rules_evaluate`` after each period it computes; nothing here blocks it:
deliveries are rows sent by Celery once the transaction commits (``delivery.py``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from apps.core.errors import Conflict, Invalid

from . import delivery as deliveries
from . import tasks
from .metrics import CATALOGUE, metric_label
from .models import (
    Alert,
    AlertEvent,
    AlertRule,
    AlertStatus,
    Comparison,
    EventKind,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)

COMPARE: dict[str, Callable[[float, float], bool]] = {
    Comparison.GT: operator.gt,
    Comparison.GTE: operator.ge,
    Comparison.LT: operator.lt,
    Comparison.LTE: operator.le,
}
UNRESOLVED = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


# --- rules -------------------------------------------------------------------------------


def breach(rule: AlertRule, figures: dict[str, Any]) -> bool | None:
    """True when the period breaches ``rule``, False when it is within, None when it cannot tell.

    A period with too few rows (``insufficient``) or without the figure never breaches: it is
    reported as such by the monitor, not as drift.
    """
    if figures.get("insufficient"):
        return None
    value = figures.get(rule.metric)
    if value is None:
        return None
    return COMPARE[rule.comparison](float(value), rule.threshold)


def rules_for(version) -> list[AlertRule]:
    """The enabled rules that watch ``version``'s model (a rule without a model watches all)."""
    scope = Q(model__isnull=True) | Q(model_id=version.model_id)
    return list(AlertRule.objects.filter(scope, enabled=True).order_by("id"))


def rules_evaluate(*, version, periods: list[tuple[date, dict]]) -> list[Alert]:
    """Evaluate every enabled rule of ``version``'s model on its newest period; returns the
    alerts this call opened (none when called again on the same periods: it is idempotent).

    ``periods`` are the version's monitored periods, oldest first, the last one new; each dict
    holds figures keyed as ``metrics.CATALOGUE`` plus ``insufficient``. A rule opens an alert
    when its last ``window`` periods all breach, unless one of its alerts on this version is
    still unresolved; an unresolved alert resolves itself when the newest period is back within.
    """
    if not periods:
        return []
    periods = sorted(periods, key=lambda p: p[0])
    start, figures = periods[-1]
    rules = rules_for(version)
    # One read of what this version already has, instead of queries per rule.
    unresolved, seen = set(), set()
    rows = Alert.objects.filter(Q(status__in=UNRESOLVED) | Q(period_start=start), version=version)
    for rule_id, status, period_start in rows.values_list("rule_id", "status", "period_start"):
        if status in UNRESOLVED:
            unresolved.add(rule_id)
        if period_start == start:
            seen.add(rule_id)
    opened: list[Alert] = []
    for rule in rules:
        verdict = breach(rule, figures)
        if verdict is False:
            if rule.pk in unresolved:
                _resolve_recovered(rule=rule, version=version, period_start=start, figures=figures)
            continue
        # Unresolved: the breach goes on under its alert. Seen: this period was evaluated
        # before (and its alert resolved by hand since): it is not opened again.
        if verdict is None or rule.pk in unresolved or rule.pk in seen:
            continue
        recent = periods[-rule.window :]
        if len(recent) < rule.window or not all(breach(rule, f) for _, f in recent):
            continue
        alert = _open(rule=rule, version=version, period_start=start, value=figures.get(rule.metric))
        if alert is not None:
            opened.append(alert)
    return opened


def _message(rule: AlertRule, version, period_start: date, value: float | None) -> str:
    return gettext(
        "%(metric)s of %(version)s was %(value)s in the period from %(start)s (rule %(rule)s: "
        "%(comparison)s %(threshold)s for %(window)s period(s))."
    ) % {
        "metric": metric_label(rule.metric),
        "version": str(version),
        "value": "—" if value is None else f"{value:.4g}",
        "start": period_start.isoformat(),
        "rule": rule.name,
        "comparison": rule.get_comparison_display(),
        "threshold": f"{rule.threshold:g}",
        "window": rule.window,
    }


def _open(*, rule: AlertRule, version, period_start: date, value: float | None) -> Alert | None:
    with transaction.atomic():
        now = timezone.now()
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    rule=rule,
                    version=version,
                    period_start=period_start,
                    value=value,
                    severity=rule.severity,
                    message=_message(rule, version, period_start, value),
                    opened_at=now,
                )
        except IntegrityError:
            return None  # a concurrent evaluation of the same period opened it
        AlertEvent.objects.create(alert=alert, kind=EventKind.OPENED, created_at=now)
        event_publish(
            event=WebhookEvent.ALERT_OPENED, payload=alert_payload(alert), model_id=version.model_id
        )
        transaction.on_commit(lambda: tasks.email_enqueue(alert_id=alert.pk))
    return alert


def _resolve_recovered(*, rule: AlertRule, version, period_start: date, figures: dict) -> None:
    for alert in Alert.objects.filter(
        rule=rule, version=version, status__in=UNRESOLVED, period_start__lt=period_start
    ):
        note = gettext("Back within the threshold in the period from %(start)s (%(value)s).") % {
            "start": period_start.isoformat(),
            "value": f"{float(figures[rule.metric]):.4g}",
        }
        _transition(alert=alert, to=AlertStatus.RESOLVED, user=None, note=note)


# --- alerts ------------------------------------------------------------------------------


def _transition(*, alert: Alert, to: str, user, note: str) -> Alert:
    allowed_from = {AlertStatus.ACKNOWLEDGED: (AlertStatus.OPEN,), AlertStatus.RESOLVED: UNRESOLVED}[to]
    now = timezone.now()
    with transaction.atomic():
        fields: dict[str, Any] = {"status": to}
        if to == AlertStatus.RESOLVED:
            fields["resolved_at"] = now
        # A conditional update claims the alert: two people acting at once record one change.
        changed = Alert.objects.filter(pk=alert.pk, status__in=allowed_from).update(**fields)
        if changed != 1:
            alert.refresh_from_db()
            raise Conflict(
                gettext("The alert is %(status)s: it cannot be %(action)s.")
                % {"status": alert.get_status_display(), "action": EventKind(to).label.lower()},
                code="alert_state",
            )
        AlertEvent.objects.create(alert=alert, kind=to, actor=user, note=note or "", created_at=now)
        alert.refresh_from_db()
        if to == AlertStatus.RESOLVED:
            event_publish(
                event=WebhookEvent.ALERT_RESOLVED,
                payload=alert_payload(alert),
                model_id=alert.version.model_id,
            )
    return alert


def alert_acknowledge(*, alert: Alert, user, note: str = "") -> Alert:
    return _transition(alert=alert, to=AlertStatus.ACKNOWLEDGED, user=user, note=note)


def alert_resolve(*, alert: Alert, user, note: str = "") -> Alert:
    return _transition(alert=alert, to=AlertStatus.RESOLVED, user=user, note=note)


def alert_payload(alert: Alert) -> dict[str, Any]:
    version = alert.version
    return {
        "alert": {
            "id": alert.pk,
            "rule": alert.rule.name,
            "metric": alert.rule.metric,
            "comparison": alert.rule.comparison,
            "threshold": alert.rule.threshold,
            "severity": alert.severity,
            "status": alert.status,
            "value": alert.value,
            "periodStart": alert.period_start.isoformat(),
            "message": alert.message,
            "openedAt": alert.opened_at.isoformat(),
            "resolvedAt": alert.resolved_at.isoformat() if alert.resolved_at else None,
        },
        "model": {"id": version.model_id, "name": version.model.name},
        "version": {"id": version.pk, "version": version.version},
    }


# --- rules and webhooks kept valid --------------------------------------------------------


def metric_clean(metric: str) -> str:
    if metric not in CATALOGUE:
        raise Invalid(
            errors={
                "metric": [
                    gettext("Unknown metric %(metric)s; one of %(known)s.")
                    % {"metric": repr(metric), "known": ", ".join(CATALOGUE)}
                ]
            },
            code="unknown_metric",
        )
    return metric


def events_clean(events: Iterable[str]) -> list[str]:
    events = list(events)
    unknown = [e for e in events if e not in WebhookEvent.values]
    if unknown:
        raise Invalid(
            errors={
                "events": [
                    gettext("Unknown event %(event)s; one of %(known)s.")
                    % {"event": repr(unknown[0]), "known": ", ".join(WebhookEvent.values)}
                ]
            },
            code="unknown_event",
        )
    return list(dict.fromkeys(events))


# --- webhook deliveries ------------------------------------------------------------------


def event_publish(
    *, event: str, payload: dict[str, Any], model_id: int | None = None
) -> list[WebhookDelivery]:
    """Store one delivery per enabled webhook subscribed to ``event``; each is sent by Celery
    once the transaction commits, so a rolled-back change tells nobody."""
    body = {"event": event, "createdAt": timezone.now().isoformat(), "data": payload}
    made = []
    for webhook in Webhook.objects.filter(enabled=True).order_by("id"):
        if event in webhook.events:
            made.append(WebhookDelivery.objects.create(webhook=webhook, event=event, payload=body))
    for d in made:
        transaction.on_commit(lambda pk=d.pk: tasks.enqueue(delivery_id=pk))
    return made


def delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (an admin's replay), once the transaction commits."""
    delivery = deliveries.delivery_reset(delivery=delivery)
    transaction.on_commit(lambda: tasks.enqueue(delivery_id=delivery.pk))
    return delivery


def _saved(obj, fields: dict[str, Any]):
    from django.core.exceptions import ValidationError

    for name, value in fields.items():
        setattr(obj, name, value)
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise Invalid(errors={k: [str(m) for m in v] for k, v in exc.message_dict.items()}) from None
    obj.save()
    return obj


def alert_rule_create(**fields: Any) -> AlertRule:
    metric_clean(fields.get("metric", ""))
    return _saved(AlertRule(), fields)


def alert_rule_update(*, rule: AlertRule, **fields: Any) -> AlertRule:
    if "metric" in fields:
        metric_clean(fields["metric"])
    return _saved(rule, fields)


def webhook_create(*, secret: str = "", **fields: Any) -> Webhook:
    fields["events"] = events_clean(fields.get("events", []))
    hook = Webhook()
    hook.set_secret(secret)
    return _saved(hook, fields)


def webhook_update(*, webhook: Webhook, secret: str | None = None, **fields: Any) -> Webhook:
    """Change a webhook; ``secret`` None keeps the stored one, "" removes it."""
    if "events" in fields:
        fields["events"] = events_clean(fields["events"])
    if secret is not None:
        webhook.set_secret(secret)
    return _saved(webhook, fields)


def alert_rule_delete(*, rule: AlertRule) -> None:
    """Delete a rule that never opened an alert; one with alerts keeps them as history."""
    if rule.alerts.exists():
        raise Conflict(
            gettext("Rule %(rule)s has alerts, kept as their history: disable it instead of deleting it.")
            % {"rule": rule.name},
            code="rule_has_alerts",
        )
    rule.delete()
