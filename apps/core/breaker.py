"""A per-process circuit breaker around the cache (Redis).

The cache only saves work: settings, cached answers, counters and throttle history can
all be done without it. When a cache call fails, the breaker opens and every cache call
in this process is skipped for ``OMM_CACHE_BREAKER_SECONDS``; the next call after that
tries Redis again (closing the breaker when it answers, opening it again when not). So a
dead Redis costs one short socket timeout per process per window, not one per call.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

try:  # the errors that mean "the cache is not answering" (redis is absent in some installs)
    from redis.exceptions import RedisError

    CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)
except ImportError:  # pragma: no cover - redis is in requirements.txt
    CACHE_ERRORS = (OSError,)


class Breaker:
    """Open after a failure, skip calls while open, try again once the window has passed."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._opened_at: float | None = None  # monotonic time of the last failure
        self._last_error = ""
        self._openings = 0

    @staticmethod
    def window() -> float:
        return float(settings.OMM_CACHE_BREAKER_SECONDS)

    def allow(self) -> bool:
        """Whether a call may go to the cache now (closed, or open past its window)."""
        opened = self._opened_at
        return opened is None or time.monotonic() - opened >= self.window()

    def failed(self, exc: BaseException) -> None:
        """Record a failed call: the breaker (re)opens; a warning is logged per opening."""
        with self._lock:
            was_closed = self._opened_at is None or time.monotonic() - self._opened_at >= self.window()
            self._opened_at = time.monotonic()
            self._last_error = f"{type(exc).__name__}: {exc}"
            if was_closed:
                self._openings += 1
        if was_closed:
            logger.warning(
                "%s unreachable (%s); skipped in this process for %.1f s",
                self.name,
                self._last_error,
                self.window(),
            )

    def succeeded(self) -> None:
        """Record a call that worked: the breaker closes."""
        if self._opened_at is not None:
            with self._lock:
                if self._opened_at is not None:
                    self._opened_at = None
                    logger.warning("%s answers again; used again in this process", self.name)

    def reset(self) -> None:
        """Close the breaker and forget its history (a test starting afresh)."""
        with self._lock:
            self._opened_at, self._last_error, self._openings = None, "", 0

    def state(self) -> dict[str, Any]:
        """``open``, seconds until the next try, the last error and how often it opened."""
        opened = self._opened_at
        remaining = 0.0 if opened is None else max(0.0, self.window() - (time.monotonic() - opened))
        return {
            "name": self.name,
            "open": opened is not None and remaining > 0,
            "retryInSeconds": round(remaining, 3),
            "lastError": self._last_error,
            "openings": self._openings,
        }


cache_breaker = Breaker("cache")
