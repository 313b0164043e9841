"""The errors services raise, for every app: one hierarchy, no HTTP.

Services and pure modules raise these (or subclasses named for the domain); the API's one
exception handler (``apps.core.api.exceptions``) turns each into the error format with the
status its class maps to, and the analyst views show ``message``. ``errors`` maps field names
(snake_case, as the services know them) to messages; ``code`` is machine-readable and stays
English.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    """Something a caller asked for cannot be done; ``message`` says why to a person."""

    default_code = "error"
    default_message = _("The request cannot be done.")

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        code: str | None = None,
    ):
        self.errors = errors or {}
        self.code = code or self.default_code
        # Read when raised: the message is in the language of the request being served.
        self.message = str(message or self._message_from_errors() or self.default_message)
        super().__init__(self.message)

    def _message_from_errors(self) -> str:
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items())


class Invalid(ApplicationError):
    """The request is malformed or does not fit the data it names (HTTP 400)."""

    default_code = "validation_error"
    default_message = _("Invalid input.")


class Forbidden(ApplicationError):
    """The caller's role does not allow this (HTTP 403)."""

    default_code = "permission_denied"
    default_message = _("You do not have permission to perform this action.")


class NotFound(ApplicationError):
    """What the request names does not exist (HTTP 404)."""

    default_code = "not_found"
    default_message = _("Not found.")


class Conflict(ApplicationError):
    """The request conflicts with the current state of what it names (HTTP 409)."""

    default_code = "conflict"
    default_message = _("The request conflicts with the current state of the resource.")


class TooLarge(ApplicationError):
    """The request carries more than the platform accepts (HTTP 413)."""

    default_code = "payload_too_large"
    default_message = _("The request is too large.")


class Unavailable(ApplicationError):
    """A component the request needs is unreachable; nothing was done (HTTP 503)."""

    default_code = "unavailable"
    default_message = _("A service the request needs is unavailable.")


# The HTTP status each kind of error answers with; the most specific class wins.
HTTP_STATUS: dict[type[ApplicationError], int] = {
    Invalid: 400,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    Unavailable: 503,
    ApplicationError: 400,
}


def http_status_of(exc: ApplicationError) -> int:
    for cls in type(exc).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 400
