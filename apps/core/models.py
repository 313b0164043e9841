"""Cross-cutting records: typed settings, the API audit log, the governance trail and process
liveness."""

from __future__ import annotations

import math
import uuid
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from . import sealing
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
    """One typed platform setting, editable by admins; read through ``config_get``.

    A secret's ``value`` is stored sealed (``sealing``): assign the plain value and ``save``
    encrypts it, so the row, the cache and the change trail only ever hold the sealed form;
    ``plain_value`` opens it.
    """

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

    def save(self, *args, **kwargs) -> None:
        self.value = self._value_to_store()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self._holds_stored_secret():
            return  # the secret as stored, kept (it was checked when it was set)
        try:
            self.value = coerce_config_value(self.value_type, self.value, key=self.key)
        except ValidationError as exc:
            raise ValidationError({"value": exc.messages}) from None

    def _holds_stored_secret(self) -> bool:
        """Whether ``value`` is this row's sealed secret as read from the database, carried
        through unchanged (a new value that merely looks sealed is sealed again)."""
        if self.pk is None or not sealing.is_sealed(self.value):
            return False
        stored = SystemConfig.objects.filter(pk=self.pk, is_secret=True).values_list("value", flat=True)
        return list(stored) == [self.value]

    def _value_to_store(self) -> Any:
        if self._holds_stored_secret():
            # No longer a secret: stored in the clear again (SecretUnreadable without its key).
            return self.value if self.is_secret else sealing.unseal(self.value)
        if self.is_secret and not sealing.is_empty(self.value):
            return sealing.seal(self.value)
        return self.value

    @property
    def plain_value(self) -> Any:
        """The value itself, a secret decrypted; raises ``sealing.SecretUnreadable`` when no
        configured key opens it."""
        return sealing.unseal(self.value) if self.is_secret else self.value

    @property
    def display_value(self) -> Any:
        return SECRET_MASK if self.is_secret and not sealing.is_empty(self.value) else self.value


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


class TrailAction(models.TextChoices):
    """What a trail entry records, as the API and the admin name it (auditlog stores a number;
    its fourth action, a read, is not recorded by OMM)."""

    CREATE = "create", pgettext_lazy("trail action", "Created")
    UPDATE = "update", pgettext_lazy("trail action", "Changed")
    DELETE = "delete", pgettext_lazy("trail action", "Deleted")


TRAIL_ACTION_STORED = {
    TrailAction.CREATE: LogEntry.Action.CREATE,
    TrailAction.UPDATE: LogEntry.Action.UPDATE,
    TrailAction.DELETE: LogEntry.Action.DELETE,
}
TRAIL_ACTION_CODES = {number: code for code, number in TRAIL_ACTION_STORED.items()}
M2M_OPERATIONS = {"add": "add", "delete": "remove"}


class TrailEntry(LogEntry):
    """One change in the governance trail (``apps.core.trail``): django-auditlog's row, never
    edited or deleted (on PostgreSQL a trigger refuses both)."""

    class Meta:
        proxy = True
        ordering = ["-timestamp", "-id"]
        verbose_name = _("audit trail entry")
        verbose_name_plural = _("audit trail")

    def __str__(self) -> str:
        # auditlog's own wording ("Created X") ships no Chinese: the action in OMM's words.
        action = TrailAction(self.action_code).label if self.action_code in TrailAction.values else ""
        return f"{action} {self.object_repr}".strip()

    @property
    def action_code(self) -> str:
        return TRAIL_ACTION_CODES.get(self.action, str(self.action))

    @property
    def model_label(self) -> str:
        return f"{self.content_type.app_label}.{self.content_type.model}"

    @property
    def reason(self) -> str:
        return str((self.additional_data or {}).get("reason", ""))

    def changed_fields(self) -> list[dict[str, Any]]:
        """The changes, one row per field: ``before``/``after`` for a value set, ``objects``
        added or removed for a many-to-many field; ``label`` in the reader's language."""
        model = self.content_type.model_class()
        rows = []
        for name, change in (self.changes or {}).items():
            row: dict[str, Any] = {"field": name, "label": _field_label(model, name)}
            if isinstance(change, dict):  # auditlog's many-to-many record
                operation = M2M_OPERATIONS.get(change.get("operation"), change.get("operation"))
                row.update(operation=operation, objects=change.get("objects", []), before=None, after=None)
            else:
                before, after = [*change, None, None][:2]
                row.update(operation="set", objects=None, before=before, after=after)
            rows.append(row)
        return rows


def _field_label(model: type[models.Model] | None, name: str) -> str:
    try:
        field = model._meta.get_field(name) if model else None
    except FieldDoesNotExist:  # a field removed since
        return name
    return str(getattr(field, "verbose_name", name))
