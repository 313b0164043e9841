"""Secret setting values encrypted at rest (Fernet), for ``SystemConfig`` rows marked secret.

A sealed value is the JSON string ``"fernet:v1:<token>"`` in the row's JSON column: the token
encrypts the JSON text of the value, so a secret of any value type round-trips. The keys come
from ``settings.OMM_SECRETS_KEYS`` (OMM_SECRETS_KEY, comma-separated, else a key generated once
under OMM_DATA_DIR): the first encrypts, every one decrypts, so a new key put first still
reads what the old ones sealed until ``manage.py rotate_secrets`` re-encrypts it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

PREFIX = "fernet:v1:"


class SecretUnreadable(Exception):
    """No configured key decrypts a sealed value (a key was removed or replaced too early)."""


@lru_cache(maxsize=8)
def _ring(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    fernets = [Fernet(key) for key in keys]
    return MultiFernet(fernets), fernets[0]


def _keys() -> tuple[MultiFernet, Fernet]:
    return _ring(tuple(settings.OMM_SECRETS_KEYS))


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def is_empty(value: Any) -> bool:
    """None and "" hold nothing to hide: stored as they are (and shown as empty, not masked)."""
    return value is None or value == ""


def seal(value: Any) -> str:
    """``value`` encrypted with the first key, in its stored form."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return PREFIX + _keys()[0].encrypt(text.encode("utf-8")).decode("ascii")


def unseal(stored: Any) -> Any:
    """The value a stored form holds (a value that is not sealed is returned as it is).

    Raises SecretUnreadable when no configured key decrypts it.
    """
    if not is_sealed(stored):
        return stored
    try:
        text = _keys()[0].decrypt(stored[len(PREFIX) :].encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        raise SecretUnreadable from None
    return json.loads(text)


def reseal(stored: str) -> str | None:
    """``stored`` re-encrypted with the first key, or None when the first key already sealed it.

    Raises SecretUnreadable when no configured key decrypts it.
    """
    multi, first = _keys()
    token = stored[len(PREFIX) :].encode("ascii", errors="replace")
    try:
        first.decrypt(token)
    except InvalidToken:
        pass
    else:
        return None
    try:
        return PREFIX + multi.rotate(token).decode("ascii")
    except InvalidToken:
        raise SecretUnreadable from None


def fingerprint(key: str) -> str:
    """A short, one-way name of a key (to tell keys apart in a backup's manifest)."""
    return hmac.new(key.encode("utf-8"), b"omm-key-fingerprint", hashlib.sha256).hexdigest()[:16]


def key_fingerprints() -> list[str]:
    return [fingerprint(key) for key in settings.OMM_SECRETS_KEYS]
