"""The one error answer of the pages and the few plain Django endpoints."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from .api.exceptions import error_body


def error_response(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    """An error as the caller reads it: the API's JSON format, or the error page."""
    if request.path.startswith("/api/") or request.path in ("/metrics", "/health"):
        return JsonResponse(error_body(status, code, message), status=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)
