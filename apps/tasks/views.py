"""Analyst pages of the work queue: the task list with schedules and a task's page (the
training form is the registry's, ``apps.models.views``)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError

from . import selectors, services
from .errors import IllegalTransition
from .models import Priority, Task, TaskStatus, TaskType

PAGE_SIZE = 25
# How a task's page lists its parameters; keys not named here follow, by name.
PARAMETER_ORDER = [
    "model_name",
    "dataset",
    "dataset_version",
    "dataset_version_id",
    "feature_set",
    "label",
    "features",
    "algorithm",
    "objective",
    "params",
    "split",
    "time_column",
    "validation_share",
    "seed",
]


@login_required
@permission_required("tasks.view_task", raise_exception=True)
def task_list(request: HttpRequest) -> HttpResponse:
    choices = {"status": TaskStatus.values, "type": TaskType.values, "priority": Priority.values}
    filters = {k: v for k, allowed in choices.items() if (v := request.GET.get(k, "")) in allowed}
    page = Paginator(selectors.tasks_for_list().filter(**filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # The live refresh asks the API for the same page the server rendered.
    api_query = urlencode({**filters, "page": page.number, "pageSize": PAGE_SIZE})
    return render(
        request,
        "tasks/list.html",
        {
            "page": page,
            "filters": filters,
            "filter_query": urlencode(filters),
            "api_query": api_query,
            "statuses": TaskStatus.choices,
            "types": TaskType.choices,
            "priorities": Priority.choices,
            "schedules": selectors.schedules_for_list(),
            "can_create": request.user.has_perms(["tasks.add_task", "models.add_modelversion"]),
        },
    )


@login_required
@permission_required("tasks.view_task", raise_exception=True)
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(selectors.tasks_for_list().select_related("rerun_of"), pk=pk)
    logs = selectors.log_for_page(task)
    last_round = next((row for row in reversed(logs) if row.step is not None), None)
    return render(
        request,
        "tasks/detail.html",
        {
            "task": task,
            "parameters": _parameters(task.parameters),
            "metrics": sorted(((task.result or {}).get("metrics") or {}).items()),
            "logs": logs,
            "last_round": last_round,
            "can_cancel": not task.is_final and _may_cancel(request.user, task),
            "can_rerun": request.user.has_perm("tasks.add_task"),
        },
    )


def _parameters(parameters: dict) -> list[tuple[str, object]]:
    """A task's parameters in reading order (JSONB keeps none); lists and objects as JSON."""
    rank = {key: i for i, key in enumerate(PARAMETER_ORDER)}
    shown = []
    for key in sorted(parameters, key=lambda k: (rank.get(k, len(rank)), k)):
        value = parameters[key]
        shown.append((key, json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value))
    return shown


def _may_cancel(user, task: Task) -> bool:
    # As in the API: the creator, or whoever may change tasks.
    return user.has_perm("tasks.add_task") and (
        task.created_by_id == user.pk or user.has_perm("tasks.change_task")
    )


@require_POST
@login_required
@permission_required("tasks.add_task", raise_exception=True)
def task_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(Task, pk=pk)
    if not _may_cancel(request.user, task):
        raise PermissionDenied
    try:
        task = services.task_cancel(task=task)
    except IllegalTransition as exc:
        messages.error(request, str(exc))
    else:
        done = task.status == TaskStatus.CANCELLED
        messages.success(
            request,
            gettext("Cancelled.") if done else gettext("Cancel requested; it stops at the next round."),
        )
    return redirect("task-page", pk)


@require_POST
@login_required
@permission_required("tasks.add_task", raise_exception=True)
def task_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(Task, pk=pk)
    try:
        new = services.task_rerun(task=task, user=request.user)
    except ApplicationError as exc:  # finished state, request no longer valid, not allowed, no broker
        messages.error(
            request, gettext("Could not re-run task #%(id)s: %(error)s") % {"id": task.pk, "error": exc}
        )
        return redirect("task-page", pk)
    messages.success(request, gettext("Task #%(new)s re-runs task #%(id)s.") % {"new": new.pk, "id": task.pk})
    return redirect("task-page", new.pk)
