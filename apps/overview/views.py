"""The dashboard: what every domain and the platform report, on one page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.health import LABELS, run_checks

from .selectors import dashboard_figures


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    health = run_checks()
    for name, check in health["checks"].items():
        check["label"] = LABELS.get(name, name)
    context = {
        **dashboard_figures(),
        "health": health,
        "can_ping": request.user.has_perm("core.add_workerping"),
        "queues": settings.QUEUES,
    }
    return render(request, "overview/dashboard.html", context)
