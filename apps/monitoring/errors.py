"""Monitoring's errors, in the platform's hierarchy (``apps.core.errors``)."""

from __future__ import annotations

from apps.core.errors import Conflict, Invalid


class MonitoringInvalid(Invalid):
    """A monitoring request or outcome list that cannot be used; the message says why."""


class BaselineMissing(Conflict):
    """The version has no training baseline and none can be computed (no data, no artifact)."""
