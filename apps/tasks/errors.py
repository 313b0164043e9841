"""The work queue's errors, in the platform's hierarchy (``apps.core.errors``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ApplicationError, Conflict, Invalid, Unavailable


class RequestInvalid(Invalid):
    """A request that cannot become a task; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors=errors)


class IllegalTransition(Conflict):
    """The task is not in a status that allows the requested change."""


class QueueUnavailable(Unavailable):
    """The broker refused the message; the task was marked failed."""

    default_code = "queue_unavailable"
    default_message = _("The task queue is unreachable; the task was not started.")

    def __init__(self, detail: str = ""):
        self.detail = detail
        super().__init__()


class RunFailed(ApplicationError):
    """The work cannot be done as requested; the message is shown on the failed task."""

    default_code = "run_failed"


class RunCancelled(Exception):
    """A run stops because a cancel was requested (raised between chunks of work)."""
