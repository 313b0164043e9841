"""Signing of webhook deliveries (pure: no Django).

The shape follows MLflow 3.3's webhooks (https://mlflow.org/docs/latest/ml/webhooks,
"Security"/HMAC verification: X-MLflow-Delivery-Id, X-MLflow-Timestamp and
X-MLflow-Signature = "v1," + base64 HMAC-SHA256 of "<delivery id>.<timestamp>.<body>"), with
OMM's header names. The timestamp is signed so a receiver can refuse old replays.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

HEADER_DELIVERY = "X-OMM-Delivery-Id"
HEADER_TIMESTAMP = "X-OMM-Timestamp"
HEADER_SIGNATURE = "X-OMM-Signature"
HEADER_EVENT = "X-OMM-Event"
VERSION = "v1"


def signature(secret: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    """The X-OMM-Signature value of ``body`` sent as delivery ``delivery_id`` at ``timestamp``."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).digest()
    return f"{VERSION},{base64.b64encode(digest).decode('ascii')}"


def headers(*, secret: str, delivery_id: str, timestamp: int, body: bytes, event: str) -> dict[str, str]:
    out = {
        "Content-Type": "application/json",
        "User-Agent": "OMM-Webhooks/1",
        HEADER_DELIVERY: delivery_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_EVENT: event,
    }
    if secret:
        out[HEADER_SIGNATURE] = signature(secret, delivery_id, timestamp, body)
    return out


def verify(
    secret: str, delivery_id: str, timestamp: str, body: bytes, given: str, *, now: int, tolerance: int = 300
) -> bool:
    """True when ``given`` signs ``body`` and ``timestamp`` is within ``tolerance`` seconds of ``now``."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, delivery_id, ts, body), given)
