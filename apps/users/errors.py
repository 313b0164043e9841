"""The users domain's errors, in the platform's hierarchy (``apps.core.errors``)."""

from __future__ import annotations

from apps.core.errors import ApplicationError, Invalid


class PasswordInvalid(Invalid):
    """The password fails the configured password validators."""

    def __init__(self, messages: list[str]):
        super().__init__(errors={"password": list(messages)})


class TokenInvalid(ApplicationError):
    """A refresh token that cannot be revoked (malformed, expired, already revoked): a 400.

    Not an ``Invalid``: the API has always answered with the token library's own words as
    the message (``Invalid`` would rephrase it as "Invalid input: refresh: ...").
    """

    default_code = "token_invalid"

    def __init__(self, message: str):
        super().__init__(message, errors={"refresh": [message]})
