"""The cached read path of the platform settings declared in ``config_keys``.

``config_get`` reads a setting (a missing row falls back to its declared default); edits
invalidate the cache. Domains declare their keys with ``declare`` (re-exported here with
``ConfigKey`` and ``DECLARED``, the names they have always imported from this module).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache
from django.utils import translation

from . import sealing
from .config_keys import DECLARED, ConfigKey, declare, described
from .models import SystemConfig

logger = logging.getLogger(__name__)

__all__ = [
    "DECLARED",
    "ConfigKey",
    "config_get",
    "config_get_local",
    "config_invalidate",
    "config_local_clear",
    "config_sync_defaults",
    "declare",
    "described",
]

CACHE_PREFIX = "omm:config:"
CACHE_SECONDS = 300


def config_get(key: str) -> Any:
    """The current value of a declared setting (cached; edits invalidate the cache).

    A secret comes back decrypted; the cache holds it sealed, as the row does. One that no
    configured key opens is logged as an error and read as its declared default.
    """
    declared = DECLARED.get(key)
    cached = cache.get(CACHE_PREFIX + key)
    if cached is None:
        rows = list(SystemConfig.objects.filter(key=key).values_list("value", "is_secret")[:1])
        if rows:
            value, secret = rows[0]
        elif declared is not None:
            value, secret = declared.default, False
        else:
            raise KeyError(f"Unknown setting {key!r}")
        cached = {"v": value, "s": secret}
        cache.set(CACHE_PREFIX + key, cached, CACHE_SECONDS)
    if not cached.get("s"):
        return cached["v"]
    try:
        return sealing.unseal(cached["v"])
    except sealing.SecretUnreadable:
        logger.error(
            "Secret setting %s cannot be decrypted with the configured keys (OMM_SECRETS_KEY or "
            "OMM_DATA_DIR/secrets_key); its default is used. Put the key it was sealed with back "
            "into OMM_SECRETS_KEY, or set the setting again.",
            key,
        )
        return declared.default if declared is not None else None


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
    # The row keeps the English text whatever language migrate ran in; pages show
    # ``described`` (the declared text in the reader's language).
    with translation.override("en"):
        rows = _default_rows(existing)
    SystemConfig.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _default_rows(existing: set[str]) -> list[SystemConfig]:
    return [
        SystemConfig(
            key=c.key,
            value_type=c.value_type,
            # bulk_create skips SystemConfig.save: a secret default is sealed here.
            value=sealing.seal(c.default) if c.is_secret and not sealing.is_empty(c.default) else c.default,
            description=str(c.description),
            is_secret=c.is_secret,
        )
        for c in DECLARED.values()
        if c.key not in existing
    ]
