"""What a platform setting may be: its value type, its declaration and its allowed range.

The rows (``models.SystemConfig``) and the read path (``config``) both look declarations
up here; this module imports neither, so neither imports the other through it. Every key
the code reads is declared with its type and default, so the admin shows what can be tuned
and a missing row still has a sane value. Domains add theirs from their AppConfig.ready
(``declare``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ValueType(models.TextChoices):
    STRING = "string", _("String")
    NUMBER = "number", _("Number")
    BOOLEAN = "boolean", _("Boolean")
    JSON = "json", "JSON"


def format_number(number: float) -> str:
    # str, not :g, so 1.0000001 is not shown as "1" next to a maximum of 1.
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


def describe_number_range(
    minimum: float | None = None, maximum: float | None = None, integer: bool = False
) -> str:
    """The allowed values in words, e.g. "a whole number from 1 to 3650" or "a number >= 0"."""
    low = format_number(minimum) if minimum is not None else None
    high = format_number(maximum) if maximum is not None else None
    if integer:
        if low is not None and high is not None:
            return gettext("a whole number from %(min)s to %(max)s") % {"min": low, "max": high}
        if low is not None:
            return gettext("a whole number >= %(min)s") % {"min": low}
        if high is not None:
            return gettext("a whole number <= %(max)s") % {"max": high}
        return gettext("a whole number")
    if low is not None and high is not None:
        return gettext("a number from %(min)s to %(max)s") % {"min": low, "max": high}
    if low is not None:
        return gettext("a number >= %(min)s") % {"min": low}
    if high is not None:
        return gettext("a number <= %(max)s") % {"max": high}
    return gettext("a number")


@dataclass(frozen=True)
class ConfigKey:
    """A declared setting. A NUMBER may be bounded (inclusive) and/or restricted to integers;
    ``coerce_config_value`` enforces that on every write. A bound may be a function, read
    at each check, when it follows a deployment setting (a heartbeat interval, say)."""

    key: str
    value_type: str
    default: Any
    description: str  # marked with gettext_lazy: shown in the reader's language (``described``)
    is_secret: bool = False
    minimum: float | Callable[[], float] | None = None
    maximum: float | Callable[[], float] | None = None
    integer: bool = False

    def bounds(self) -> tuple[float | None, float | None]:
        """(minimum, maximum) as they stand now."""
        low, high = self.minimum, self.maximum
        return (low() if callable(low) else low), (high() if callable(high) else high)

    @property
    def allowed(self) -> str | None:
        """The allowed values in words, for help texts; None when any value of the type goes."""
        if self.value_type != ValueType.NUMBER:
            return None
        if self.minimum is None and self.maximum is None and not self.integer:
            return None
        return describe_number_range(*self.bounds(), self.integer)


def _two_heartbeats() -> float:
    """Workers write a heartbeat every OMM_HEARTBEAT_SECONDS: one late beat is not death."""
    return 2 * settings.OMM_HEARTBEAT_SECONDS


DECLARED: dict[str, ConfigKey] = {
    c.key: c
    for c in [
        ConfigKey(
            "audit-api-log-retention-days",
            ValueType.NUMBER,
            90,
            _("API audit log entries older than this many days are purged."),
            minimum=1,
            maximum=3650,
            integer=True,
        ),
        ConfigKey(
            "tasks-log-retention-days",
            ValueType.NUMBER,
            180,
            _("Task log rows older than this many days are purged."),
            minimum=1,
            maximum=3650,
            integer=True,
        ),
        ConfigKey(
            "tasks-max-concurrent-trainings",
            ValueType.NUMBER,
            5,
            _("At most this many training tasks run at once; the rest wait queued."),
            minimum=1,
            integer=True,
        ),
        ConfigKey(
            "workers-heartbeat-timeout-seconds",
            ValueType.NUMBER,
            45,
            _(
                "A worker silent for longer than this counts as dead. At least two heartbeat "
                "intervals (OMM_HEARTBEAT_SECONDS), so that one late beat is not taken for death."
            ),
            minimum=_two_heartbeats,
            maximum=86400,
            integer=True,
        ),
    ]
}


def described(key: str, stored: str) -> str:
    """A setting's description in the reader's language: the declared one (translated) for a
    declared key, else the text stored on the row."""
    declared = DECLARED.get(key)
    return str(declared.description) if declared is not None and declared.description else stored


def declare(*keys: ConfigKey) -> None:
    """Declare a domain's settings (called from its AppConfig.ready)."""
    for key in keys:
        DECLARED[key.key] = key
