"""Alert rules over monitoring figures, the alerts they open with their history, and delivery.

A rule watches one figure of the catalogue (``metrics.CATALOGUE``) of each monitored period;
an alert is unique per (rule, version, period), so evaluating a period twice opens nothing new.
Webhook secrets are sealed at rest with the platform's secret keys (``apps.core.sealing``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core import sealing

from .metrics import metric_choices


class Comparison(models.TextChoices):
    GT = "gt", ">"
    GTE = "gte", "≥"
    LT = "lt", "<"
    LTE = "lte", "≤"


class Severity(models.TextChoices):
    INFO = "info", pgettext_lazy("alert severity", "Info")
    WARNING = "warning", pgettext_lazy("alert severity", "Warning")
    CRITICAL = "critical", pgettext_lazy("alert severity", "Critical")


class AlertStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("alert status", "Open")
    ACKNOWLEDGED = "acknowledged", pgettext_lazy("alert status", "Acknowledged")
    RESOLVED = "resolved", pgettext_lazy("alert status", "Resolved")


class EventKind(models.TextChoices):
    OPENED = "opened", pgettext_lazy("alert event", "Opened")
    ACKNOWLEDGED = "acknowledged", pgettext_lazy("alert event", "Acknowledged")
    RESOLVED = "resolved", pgettext_lazy("alert event", "Resolved")


class WebhookEvent(models.TextChoices):
    ALERT_OPENED = "alert.opened", _("Alert opened")
    ALERT_RESOLVED = "alert.resolved", _("Alert resolved")
    VERSION_REGISTERED = "version.registered", _("Version registered")
    VERSION_PROMOTED = "version.promoted", _("Version promoted")
    VERSION_ROLLED_BACK = "version.rolled_back", _("Version rolled back")
    VERSION_FLAGGED = "version.flagged", _("Version flagged for review")
    VERSION_APPROVED = "version.approved", _("Version approved")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("delivery status", "Pending")
    DELIVERED = "delivered", pgettext_lazy("delivery status", "Delivered")
    FAILED = "failed", pgettext_lazy("delivery status", "Failed")


class AlertRule(models.Model):
    """Open an alert when ``metric <comparison> threshold`` holds for ``window`` periods in a row."""

    name = models.CharField(_("name"), max_length=200)
    model = models.ForeignKey(
        "models.Model",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert_rules",
        verbose_name=_("model"),
        help_text=_("Leave empty to watch every model."),
    )
    metric = models.CharField(_("metric"), max_length=50, choices=metric_choices())
    comparison = models.CharField(_("comparison"), max_length=3, choices=Comparison.choices)
    threshold = models.FloatField(_("threshold"))
    window = models.PositiveSmallIntegerField(
        _("window"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text=_("Number of consecutive periods in breach before an alert opens."),
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.WARNING
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    email_recipients = models.TextField(
        _("email recipients"),
        blank=True,
        help_text=_("Addresses told when an alert of this rule opens, one per line or comma-separated."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        constraints = [
            models.CheckConstraint(condition=models.Q(window__gte=1), name="alerts_rule_window_positive")
        ]

    def __str__(self) -> str:
        return self.name

    def recipients(self) -> list[str]:
        return [a.strip() for a in self.email_recipients.replace(",", "\n").splitlines() if a.strip()]


class Alert(models.Model):
    # PROTECT: the alerts of a rule are its history; a rule no longer wanted is disabled.
    rule = models.ForeignKey(
        AlertRule, on_delete=models.PROTECT, related_name="alerts", verbose_name=_("rule")
    )
    version = models.ForeignKey(
        "models.ModelVersion", on_delete=models.CASCADE, related_name="alerts", verbose_name=_("version")
    )
    period_start = models.DateField(_("period start"))
    value = models.FloatField(_("value"), null=True, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, db_index=True)
    status = models.CharField(
        _("status"), max_length=15, choices=AlertStatus.choices, default=AlertStatus.OPEN, db_index=True
    )
    message = models.TextField(_("message"), blank=True)
    opened_at = models.DateTimeField(_("opened at"), db_index=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "version", "period_start"], name="alerts_alert_once_per_period"
            )
        ]
        # The list's filters (status, severity, a model's versions) read newest first.
        indexes = [
            models.Index(fields=["status", "-opened_at", "-id"], name="alerts_status_opened"),
            models.Index(fields=["severity", "-opened_at", "-id"], name="alerts_severity_opened"),
            models.Index(fields=["version", "status"], name="alerts_version_status"),
        ]

    def __str__(self) -> str:
        return f"{self.rule.name} · {self.period_start}"


class AlertEvent(models.Model):
    """The history of an alert; ``actor`` is empty when the system did it (opened, auto-resolved)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events", verbose_name=_("alert"))
    kind = models.CharField(_("kind"), max_length=15, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("when"), db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("alert event")
        verbose_name_plural = _("alert events")

    def __str__(self) -> str:
        return f"{self.alert_id} {self.kind}"


class Webhook(models.Model):
    name = models.CharField(_("name"), max_length=200)
    url = models.URLField(_("URL"), max_length=1000, validators=[URLValidator(schemes=["http", "https"])])
    # Sealed with apps.core.sealing (Fernet, rotated by ``manage.py rotate_secrets`` keys).
    secret_sealed = models.TextField(_("secret (encrypted)"), blank=True, editable=False)
    events = models.JSONField(
        _("events"), default=list, blank=True, help_text=_("Events this webhook receives.")
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.name

    @property
    def secret(self) -> str:
        return sealing.unseal(self.secret_sealed) if self.secret_sealed else ""

    def set_secret(self, value: str) -> None:
        self.secret_sealed = sealing.seal(value) if value else ""

    def has_secret(self) -> bool:
        return bool(self.secret_sealed)


class WebhookDelivery(models.Model):
    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("webhook")
    )
    event = models.CharField(_("event"), max_length=40, choices=WebhookEvent.choices, db_index=True)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
        db_index=True,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.webhook.name} {self.event} #{self.pk}"

    def summary(self) -> dict[str, Any]:
        return {"id": self.pk, "event": self.event, "status": self.status, "attempts": self.attempts}
