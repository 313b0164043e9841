"""Django's Redis cache, degrading instead of failing when Redis does not answer.

Everything OMM keeps in the cache can be done without it (settings are read from the
database, answers computed again, throttle history restarted, counters missed), so a
cache error is never the request's error: reads miss, writes are dropped, and the
process's breaker (``apps.core.breaker``) skips the cache for a few seconds so the next
requests do not each wait for a socket timeout. ``probe`` is the one call that reports
the failure: /health uses it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

from .breaker import CACHE_ERRORS, cache_breaker


def _guarded(call: Callable[[], Any], fallback: Any) -> Any:
    if not cache_breaker.allow():
        return fallback
    try:
        result = call()
    except CACHE_ERRORS as exc:
        cache_breaker.failed(exc)
        return fallback
    cache_breaker.succeeded()
    return result


class DegradingRedisCache(RedisCache):
    """``RedisCache`` whose calls miss or drop quietly while Redis is unreachable.

    A lost ``delete`` leaves an old value until it expires: a setting edited while Redis
    is down can be read stale for up to its cache time once Redis is back.
    """

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return _guarded(lambda: super(DegradingRedisCache, self).add(key, value, timeout, version), False)

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        return _guarded(lambda: super(DegradingRedisCache, self).get(key, default, version), default)

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        _guarded(lambda: super(DegradingRedisCache, self).set(key, value, timeout, version), None)

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return _guarded(lambda: super(DegradingRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: str, version: int | None = None) -> bool:
        return _guarded(lambda: super(DegradingRedisCache, self).delete(key, version), False)

    def get_many(self, keys: Any, version: int | None = None) -> dict:
        return _guarded(lambda: super(DegradingRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: str, version: int | None = None) -> bool:
        return _guarded(lambda: super(DegradingRedisCache, self).has_key(key, version), False)

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        # A missing key still raises ValueError, as Django's contract says; an unreachable
        # Redis answers as if the counter had just started.
        return _guarded(lambda: super(DegradingRedisCache, self).incr(key, delta, version), delta)

    def set_many(self, data: dict, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list:
        return _guarded(lambda: super(DegradingRedisCache, self).set_many(data, timeout, version), list(data))

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        _guarded(lambda: super(DegradingRedisCache, self).delete_many(keys, version), None)

    def clear(self) -> bool:
        return _guarded(lambda: super(DegradingRedisCache, self).clear(), False)

    def probe(self) -> bool:
        """Write, read back and delete a key, past the breaker: whether the value came back.

        Raises when Redis does not answer. A success closes the breaker at once (Redis is
        back), a failure opens it.
        """
        key, token = f"omm:health:{uuid.uuid4().hex}", uuid.uuid4().hex
        try:
            super().set(key, token, 10)
            ok = super().get(key) == token
            super().delete(key)
        except CACHE_ERRORS as exc:
            cache_breaker.failed(exc)
            raise
        if ok:
            cache_breaker.succeeded()
        return ok
