"""Analyst pages of monitoring: the watched versions, and one version's periods in charts."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from apps.core.config import config_get
from apps.models.models import ModelVersion

from . import selectors
from .models import Granularity

PERM = "monitoring.view_monitoringperiod"  # every role reads monitoring


@login_required
@permission_required(PERM, raise_exception=True)
def monitoring_list(request: HttpRequest) -> HttpResponse:
    return render(request, "monitoring/list.html", {"rows": selectors.versions_overview()})


@login_required
@permission_required(PERM, raise_exception=True)
def monitoring_version(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(ModelVersion.objects.select_related("model"), pk=pk)
    granularity = request.GET.get("granularity") or str(config_get("monitoring-granularity"))
    if granularity not in Granularity.values:
        granularity = Granularity.MONTH
    data = selectors.chart_data(version, granularity)
    return render(
        request,
        "monitoring/version.html",
        {
            "version": version,
            "granularity": granularity,
            "granularities": Granularity.choices,
            "periods": list(reversed(data["periods"])),
            "vintages": data["vintages"],
            "data": data,
        },
    )
