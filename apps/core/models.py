"""Cross-cutting records: typed settings, the API audit trail and process liveness."""

from __future__ import annotations

import math
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .config_keys import DECLARED, ValueType, describe_number_range, format_number

SECRET_MASK = "********"  # noqa: S105 - a mask, not a secret


def _check_number(number: int | float, key: str | None) -> int | float:
    """``number`` checked against the declared range of setting ``key`` (if it has one)."""
    if isinstance(number, float) and not math.isfinite(number):
        raise ValidationError(gettext("Expected a finite number."))
    # Looked up at each check: domains declare their keys once apps are ready.
    declared = DECLARED.get(key) if key else None
    if declared is None:
        return number
    (minimum, maximum), integer = declared.bounds(), declared.integer
    out_of_range = (minimum is not None and number < minimum) or (maximum is not None and number > maximum)
    fractional = isinstance(number, float) and not number.is_integer()
    if out_of_range or (integer and fractional):
        allowed = describe_number_range(minimum, maximum, integer)
        raise ValidationError(
            gettext("Must be %(allowed)s; got %(value)s.")
            % {"allowed": allowed, "value": format_number(number)}
        )
    return int(number) if integer else number


def coerce_config_value(value_type: str, value: Any, *, key: str | None = None) -> Any:
    """Return ``value`` as the Python value of ``value_type`` or raise ValidationError.

    Strings from forms are parsed; already-typed values are checked. A number is also
    checked against the range declared for setting ``key`` (``ConfigKey.minimum`` etc.):
    every write path (admin form, model clean, settings API) comes through here.
    """
    import json

    if value_type == ValueType.STRING:
        if not isinstance(value, str):
            raise ValidationError(gettext("Expected a string."))
        return value
    if value_type == ValueType.NUMBER:
        if isinstance(value, bool):
            raise ValidationError(gettext("Expected a number."))
        if isinstance(value, (int, float)):
            return _check_number(value, key)
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ValidationError(gettext("Expected a number.")) from None
        if math.isfinite(number) and number.is_integer():
            number = int(number)
        return _check_number(number, key)
    if value_type == ValueType.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "1", "yes", "on"}:
            return True
        if text in {"false", "0", "no", "off"}:
            return False
        raise ValidationError(gettext("Expected true or false."))
    if value_type == ValueType.JSON:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValidationError(gettext("Invalid JSON: %(error)s.") % {"error": exc.msg}) from None
        return value
    raise ValidationError(gettext("Unknown value type %(type)s.") % {"type": repr(value_type)})


class SystemConfig(models.Model):
    """One typed platform setting, editable by admins; read through ``config_get``."""

    key = models.SlugField(_("key"), max_length=100, unique=True, allow_unicode=False)
    value_type = models.CharField(_("value type"), max_length=10, choices=ValueType.choices)
    value = models.JSONField(_("value"), null=True, blank=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    is_secret = models.BooleanField(
        _("is secret"), default=False, help_text=_("Masked in lists, API and logs.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        ordering = ["key"]
        verbose_name = _("system setting")
        verbose_name_plural = _("system settings")

    def __str__(self) -> str:
        return self.key

    def clean(self) -> None:
        try:
            self.value = coerce_config_value(self.value_type, self.value, key=self.key)
        except ValidationError as exc:
            raise ValidationError({"value": exc.messages}) from None

    @property
    def display_value(self) -> Any:
        return SECRET_MASK if self.is_secret and self.value not in (None, "") else self.value


class ApiAuditLog(models.Model):
    """One API call: who, what, answer and how long. Written by ApiAuditMiddleware."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=500)
    query = models.CharField(_("query"), max_length=1000, blank=True)
    status_code = models.PositiveSmallIntegerField(_("status code"), db_index=True)
    duration_ms = models.FloatField(_("duration ms"))
    ip_address = models.GenericIPAddressField(_("ip address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API audit log entry")
        verbose_name_plural = _("API audit log")
        indexes = [models.Index(fields=["user", "-created_at"], name="core_audit_user_time")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status_code}"


class ProcessKind(models.TextChoices):
    WORKER = "worker", _("Celery worker")
    BEAT = "beat", _("Celery beat")


class WorkerHeartbeat(models.Model):
    """Liveness of one Celery worker or beat process, refreshed every few seconds."""

    hostname = models.CharField(_("hostname"), max_length=255, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ProcessKind.choices)
    pid = models.PositiveIntegerField(_("pid"))
    queues = models.JSONField(_("queues"), default=list, blank=True)
    started_at = models.DateTimeField(_("started at"))
    last_seen = models.DateTimeField(_("last seen"), db_index=True)

    class Meta:
        ordering = ["kind", "hostname"]
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return self.hostname


class WorkerPing(models.Model):
    """A round trip web -> broker -> worker -> database, asked for from the dashboard."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    queue = models.CharField(_("queue"), max_length=20, default="default")
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=255, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("worker ping")
        verbose_name_plural = _("worker pings")

    def __str__(self) -> str:
        return f"ping {self.id}"

    @property
    def round_trip_ms(self) -> float | None:
        if self.completed_at is None:
            return None
        return (self.completed_at - self.requested_at).total_seconds() * 1000
