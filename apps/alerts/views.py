"""Analyst pages of alerts: the list (unresolved first) with acknowledge and resolve."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError

from . import selectors, services
from .models import Alert, AlertStatus, Severity

ACTIONS = {"acknowledge": services.alert_acknowledge, "resolve": services.alert_resolve}


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "unresolved")
    alerts = selectors.alert_list().prefetch_related("events__actor")
    if status == "unresolved":
        alerts = alerts.filter(status__in=selectors.UNRESOLVED)
    elif status in AlertStatus.values:
        alerts = alerts.filter(status=status)
    page = Paginator(alerts, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "statuses": [("unresolved", _("Unresolved")), *AlertStatus.choices, ("all", _("All"))],
        "counts": selectors.open_counts_by_severity(),
        "severities": Severity.choices,
        "can_act": request.user.has_perm("alerts.change_alert"),
    }
    return render(request, "alerts/list.html", context)


@require_POST
@login_required
@permission_required("alerts.change_alert", raise_exception=True)
def alert_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    service = ACTIONS.get(action)
    alert = Alert.objects.filter(pk=pk).first()
    if service is None or alert is None:
        raise Http404
    try:
        service(alert=alert, user=request.user, note=request.POST.get("note", "")[:2000])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Alert acknowledged.") if action == "acknowledge" else _("Alert resolved.")
        )
    return redirect("alerts-page")
