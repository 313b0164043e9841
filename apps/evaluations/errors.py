"""Evaluations' errors, in the platform's hierarchy (``apps.core.errors``).

A request that cannot become an evaluation is the work queue's ``RequestInvalid``; a run
that cannot finish is its ``RunFailed``. These are the rest: reads and exports refused.
"""

from __future__ import annotations

from apps.core.errors import Conflict, Invalid


class CompareInvalid(Invalid):
    """Evaluations that cannot be put side by side; the message says why."""

    def __init__(self, message: str):
        super().__init__(message, errors={"ids": [message]})


class ExportUnavailable(Invalid):
    """The evaluation has no such table (e.g. deciles of a regression)."""

    def __init__(self, message: str):
        super().__init__(message, errors={"table": [message]})


class NotCompleted(Conflict):
    """The evaluation has no report yet: it has not completed."""
