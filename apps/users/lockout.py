"""What a locked-out login attempt gets: the API error format or the login page."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import ngettext

from apps.core.api.exceptions import error_body

STATUS = 429


def lockout_response(request, credentials=None, *args, **kwargs):
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = ngettext(
        "Too many failed login attempts. Try again in %(minutes)s minute.",
        "Too many failed login attempts. Try again in %(minutes)s minutes.",
        minutes,
    ) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(STATUS, "locked_out", message), status=STATUS)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=STATUS)
    response["Retry-After"] = str(minutes * 60)
    return response
