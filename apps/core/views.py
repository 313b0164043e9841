"""Core pages and endpoints: health, metrics, error pages (the dashboard lives in the overview app)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import run_checks
from .middleware import client_ip
from .responses import error_response


@login_required
def placeholder(request: HttpRequest, section: str) -> HttpResponse:
    """A section whose analyst page is not built yet: say so plainly."""
    return render(request, "core/placeholder.html", {"section": section})


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    report = run_checks()
    return JsonResponse(report, status=503 if report["status"] == "unavailable" else 200)


def _metrics_allowed(request: HttpRequest) -> bool:
    if request.user.is_authenticated and request.user.is_staff:
        return True
    ip = client_ip(request)
    if not ip:
        return False
    address = ipaddress.ip_address(ip)
    return any(
        address in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_NETWORKS
    )


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition, for allowed networks and staff only."""
    import prometheus_client

    from .prometheus import exposition

    if not _metrics_allowed(request):
        message = gettext("Metrics are not available from this address.")
        return error_response(request, 403, "permission_denied", message)
    return HttpResponse(exposition(), content_type=prometheus_client.CONTENT_TYPE_LATEST)


def bad_request(request, exception=None):
    return error_response(request, 400, "bad_request", gettext("Bad request."))


def permission_denied(request, exception=None):
    return error_response(
        request, 403, "permission_denied", gettext("You do not have permission to do this.")
    )


def not_found(request, exception=None):
    return error_response(request, 404, "not_found", gettext("Not found."))


def server_error(request):
    return error_response(request, 500, "server_error", gettext("An unexpected error occurred."))


def csrf_failure(request, reason=""):
    message = gettext("CSRF verification failed: %(reason)s") % {"reason": reason}
    return error_response(request, 403, "csrf_failed", message)
