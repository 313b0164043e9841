"""Declared platform settings and the cached read path.

Every key the code reads is declared here with its type and default, so the admin shows
what can be tuned and a missing row still has a sane value. Later domains add theirs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from .models import SystemConfig, ValueType, describe_number_range

CACHE_PREFIX = "omm:config:"
CACHE_SECONDS = 300


@dataclass(frozen=True)
class ConfigKey:
    """A declared setting. A NUMBER may be bounded (inclusive) and/or restricted to integers;
    ``coerce_config_value`` enforces that on every write. A bound may be a function, read
    at each check, when it follows a deployment setting (a heartbeat interval, say)."""

    key: str
    value_type: str
    default: Any
    description: str
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
            "API audit log entries older than this many days are purged.",
            minimum=1,
            maximum=3650,
            integer=True,
        ),
        ConfigKey(
            "tasks-log-retention-days",
            ValueType.NUMBER,
            180,
            "Task log rows older than this many days are purged.",
            minimum=1,
            maximum=3650,
            integer=True,
        ),
        ConfigKey(
            "tasks-max-concurrent-trainings",
            ValueType.NUMBER,
            5,
            "At most this many training tasks run at once; the rest wait queued.",
            minimum=1,
            integer=True,
        ),
        ConfigKey(
            "workers-heartbeat-timeout-seconds",
            ValueType.NUMBER,
            45,
            "A worker silent for longer than this counts as dead. At least two heartbeat "
            "intervals (OMM_HEARTBEAT_SECONDS), so that one late beat is not taken for death.",
            minimum=_two_heartbeats,
            maximum=86400,
            integer=True,
        ),
    ]
}


def declare(*keys: ConfigKey) -> None:
    """Declare a domain's settings (called from its AppConfig.ready)."""
    for key in keys:
        DECLARED[key.key] = key


def config_get(key: str) -> Any:
    """The current value of a declared setting (cached; edits invalidate the cache)."""
    declared = DECLARED.get(key)
    cached = cache.get(CACHE_PREFIX + key)
    if cached is not None:
        return cached["v"]
    rows = list(SystemConfig.objects.filter(key=key).values_list("value", flat=True)[:1])
    if rows:
        value = rows[0]
    elif declared is not None:
        value = declared.default
    else:
        raise KeyError(f"Unknown setting {key!r}")
    cache.set(CACHE_PREFIX + key, {"v": value}, CACHE_SECONDS)
    return value


# Hot paths (every prediction) read settings from process memory for this long, saving a
# cache round trip per key per request; an edit reaches every process within it.
LOCAL_SECONDS = 5.0
_local: dict[str, tuple[float, Any]] = {}


def config_get_local(key: str) -> Any:
    """``config_get`` memoised in process memory for LOCAL_SECONDS (for per-request reads)."""
    now = time.monotonic()
    hit = _local.get(key)
    if hit is not None and now - hit[0] < LOCAL_SECONDS:
        return hit[1]
    value = config_get(key)
    _local[key] = (now, value)
    return value


def config_local_clear() -> None:
    """Forget every value memoised in this process (a test starting afresh)."""
    _local.clear()


def config_invalidate(key: str) -> None:
    _local.pop(key, None)
    cache.delete(CACHE_PREFIX + key)


def config_sync_defaults() -> int:
    """Create a row for each declared key that has none; never overwrite. Returns count."""
    existing = set(SystemConfig.objects.values_list("key", flat=True))
    rows = [
        SystemConfig(
            key=c.key,
            value_type=c.value_type,
            value=c.default,
            description=c.description,
            is_secret=c.is_secret,
        )
        for c in DECLARED.values()
        if c.key not in existing
    ]
    SystemConfig.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
