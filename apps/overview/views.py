"""The dashboard: what every domain and the platform report, on one page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.health import run_checks

from .selectors import dashboard_figures


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        **dashboard_figures(),
        "health": run_checks(),
        "can_ping": request.user.has_perm("core.add_workerping"),
        "queues": settings.QUEUES,
    }
    return render(request, "overview/dashboard.html", context)
