"""Request middleware: the API audit trail (rows are written by ``apps.core.audit``), the
request the governance trail's entries are attributed to (``apps.core.trail``) and the
answer to a service's refusal that no view caught."""

from __future__ import annotations

import logging
import time

from django.conf import settings

from .audit import audit_record
from .errors import ApplicationError, http_status_of
from .responses import error_response
from .trail import trail_request

logger = logging.getLogger(__name__)


def client_ip(request) -> str | None:
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


class ApiAuditMiddleware:
    """Record every call under /api/ (user, method, path, status, duration, IP, agent)."""

    prefix = "/api/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(self.prefix):
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = (time.perf_counter() - started) * 1000
        # DRF copies the token-authenticated user onto the Django request.
        user = getattr(request, "user", None)
        authenticated = bool(user is not None and user.is_authenticated)
        try:
            audit_record(
                # A stateless token user (hot paths) is not a row: record its id.
                user_id=user.pk if authenticated else None,
                username=user.get_username() if authenticated else "",
                method=request.method[:10],
                path=request.path[:500],
                query=request.META.get("QUERY_STRING", "")[:1000],
                status_code=response.status_code,
                duration_ms=round(duration_ms, 3),
                ip_address=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:500],
            )
        except Exception:
            logger.exception("could not write the API audit log")
        return response


class ApplicationErrorMiddleware:
    """A service's refusal (``apps.core.errors``) that a page did not handle answers with its
    status and message (403, 409, 503...) instead of a server error. The API has its own
    handler (``apps.core.api.exceptions``); this covers the pages and the admin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ApplicationError):
            return None
        logger.info("refused: %s %s: %s", request.method, request.path, exception.message)
        return error_response(request, http_status_of(exception), exception.code, exception.message)


class TrailMiddleware:
    """Governance-trail entries written while a request is served name its user and address.

    The user is read when an entry is written, not here: an API caller is authenticated by
    DRF inside the view, later than any middleware runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with trail_request(request, remote_addr=client_ip(request)):
            return self.get_response(request)
