"""One error format for every API failure.

{"success": false, "status": 400, "code": "validation_error",
 "message": "...", "errors": {"fieldName": ["..."]}}
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from apps.core.errors import ApplicationError, Invalid, TooLarge, http_status_of

logger = logging.getLogger(__name__)

# DRF's codes, renamed where a clearer one exists.
CODE_NAMES = {"invalid": "validation_error", "token_not_valid": "token_invalid"}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the resource.")
    default_code = "conflict"


def error_body(status_code: int, code: str, message: str, errors: dict | None = None) -> dict:
    return {
        "success": False,
        "status": status_code,
        "code": code,
        "message": message,
        "errors": errors or {},
    }


def invalid_input_message(field: str, messages: list[str]) -> str:
    """The headline of a validation error: its first field and that field's first message.

    Field names stay as the API spells them (they are keys, not words); the rest follows the
    request's language.
    """
    if not messages:
        return gettext("Invalid input.")
    return gettext("Invalid input: %(field)s: %(message)s") % {"field": field, "message": messages[0]}


def flat_messages(detail, prefix: str = "") -> list[str]:
    """A field's messages as a flat list of text: a nested serializer's or a list item's
    errors are prefixed by their key or position (``edits: 2: feature: This field is required.``)."""
    if isinstance(detail, dict):
        return [
            message
            for key, value in detail.items()
            for message in flat_messages(value, prefix if key == "non_field_errors" else f"{prefix}{key}: ")
        ]
    if isinstance(detail, list):
        if any(isinstance(item, dict | list) for item in detail):
            return [
                message
                for n, item in enumerate(detail, start=1)
                for message in flat_messages(item, f"{prefix}{n}: ")
            ]
        return [f"{prefix}{item}" for item in detail]
    return [f"{prefix}{detail}"]


def _message_and_errors(exc: exceptions.APIException) -> tuple[str, str, dict]:
    detail, codes = exc.detail, exc.get_codes()
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(detail, dict):
            errors = {k: flat_messages(v) for k, v in detail.items()}
            field, messages = next(iter(errors.items()), ("", []))
            return "validation_error", invalid_input_message(field, messages), errors
        messages = flat_messages(detail)
        return (
            "validation_error",
            messages[0] if messages else gettext("Invalid input."),
            {"non_field_errors": messages},
        )
    if isinstance(detail, dict):
        # simplejwt answers {"detail": ..., "code": ..., "messages": [...]}.
        code = str(detail.get("code") or exc.default_code)
        return CODE_NAMES.get(code, code), str(detail.get("detail", exc.default_detail)), {}
    code = codes if isinstance(codes, str) else exc.default_code
    return CODE_NAMES.get(code, code), str(detail), {}


def camel_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Field names as the API spells them (services know them in snake_case)."""
    from djangorestframework_camel_case.util import camelize

    return {next(iter(camelize({k: None}))): [str(m) for m in v] for k, v in errors.items()}


def application_error_response(exc: ApplicationError) -> Response:
    """A service's error in the API's format, with the status its class maps to."""
    status_code = http_status_of(exc)
    errors = camel_errors(exc.errors)
    message = exc.message
    if isinstance(exc, Invalid):
        if errors:
            field, messages = next(iter(errors.items()))
            message = invalid_input_message(field, messages)
        else:
            errors = {"non_field_errors": [exc.message]}
    set_rollback()
    return Response(error_body(status_code, exc.code, message, errors), status=status_code)


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return application_error_response(exc)
    # Raised by Django while DRF reads the body: past DATA_UPLOAD_MAX_MEMORY_SIZE, too many
    # fields or files. A client's mistake, not the server's.
    if isinstance(exc, RequestDataTooBig):
        return application_error_response(TooLarge())
    if isinstance(exc, SuspiciousOperation):
        return application_error_response(Invalid())
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if not isinstance(exc, exceptions.APIException):
        logger.exception("unhandled API error", exc_info=exc)
        set_rollback()
        body = error_body(500, "server_error", gettext("An unexpected error occurred."))
        return Response(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    code, message, errors = _message_and_errors(exc)
    set_rollback()
    return Response(
        error_body(exc.status_code, code, message, errors), status=exc.status_code, headers=headers
    )
