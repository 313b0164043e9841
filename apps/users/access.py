"""An account's current access (role, active) as the hot paths read it on every request.

Predictions and QA authenticate from the signed token without reading the user row
(``apps.users.authentication``). The token says who the caller is; what they may do comes
from here, so a role change or a deactivation takes effect on their next request rather
than when the token expires.

The state is one small cache entry per account, read in one cache round trip (which also
carries this process's pending cache writes, so the prediction's own round trip that
follows has less to send). A miss (first request, eviction, or Redis unreachable, when the
cache is skipped) reads the row from the database and caches it at once. Every save of a user
writes the entry once its transaction commits; ``ACCESS_TTL`` bounds how long an entry
written before a cache outage (and not replaced because the cache was down when the
account changed) can outlive the change.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction

from apps.core.hotpath import cache_round_trip

ACCESS_PREFIX = "users:access:"
# Seconds an entry lives. Normally it is replaced at the change; the TTL only bounds a change
# made while the cache was unreachable.
ACCESS_TTL = 60


def access_key(user_id: int) -> str:
    return f"{ACCESS_PREFIX}{user_id}"


def _state(user: Any) -> list:
    # A superuser acts as an admin whatever role they were given.
    return ["admin" if user.is_superuser else user.role, bool(user.is_active)]


def current_access(user_id: int) -> tuple[str, bool] | None:
    """(role, active) of the account now; None when it no longer exists."""
    key = access_key(user_id)
    found = cache_round_trip(key)
    if found is None:
        # The user model is looked up, not imported: its module imports this one.
        user = get_user_model().objects.filter(pk=user_id).only("role", "is_active", "is_superuser").first()
        if user is None:
            return None
        found = _state(user)
        # Written now, not with the next round trip: a write held back could land after a
        # later change's and bring the old role back.
        cache.set(key, found, ACCESS_TTL)
    return found[0], found[1]


def access_changed(user: Any) -> None:
    """Write ``user``'s entry once the change is committed (now, outside a transaction)."""
    key, state = access_key(user.pk), _state(user)
    # With the cache down the write is dropped (apps.core.cache_backend): readers miss and
    # read the database meanwhile.
    transaction.on_commit(lambda: cache.set(key, state, ACCESS_TTL))


def access_remember(user: Any) -> None:
    """Cache ``user``'s entry now (at login: their first prediction reads no user row)."""
    cache.set(access_key(user.pk), _state(user), ACCESS_TTL)


def access_forgotten(user_id: int) -> None:
    """Drop a deleted account's entry (the next request finds no row and is refused)."""
    transaction.on_commit(lambda: cache.delete(access_key(user_id)))
