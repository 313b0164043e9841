"""Question answering's errors, in the platform's hierarchy (``apps.core.errors``).

The pure retrieval package raises ``retrieval.EmptyQuestionError`` (a ``ValueError``); the
ask service turns it into ``QuestionInvalid``. These also subclass ``ValueError``, as the
service's callers have always caught them.
"""

from __future__ import annotations

from apps.core.errors import Conflict, Invalid


class QuestionInvalid(Invalid, ValueError):
    """The question cannot be asked (not text, too long, nothing to look up)."""

    def __init__(self, message: str):
        super().__init__(message, errors={"question": [message]})


class NoActiveVersion(Conflict):
    """No retrieval version is active for the QA model (or it cannot be loaded)."""

    default_code = "no_active_version"


class FeedbackInvalid(Invalid, ValueError):
    """Feedback other than +1/-1, or a correct code that is not a 12-digit code."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for ms in errors.values() for m in ms), errors=errors)


class NoCorrections(Invalid, ValueError):
    """None of the answers to export was marked wrong with a correct code."""

    default_code = "no_corrections"
