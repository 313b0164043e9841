"""Analyst pages of the model registry: the model list, a model with its versions, lineage,
serving state and audit trail, metrics across versions, and traceability with reproduce."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError
from apps.tasks.errors import QueueUnavailable
from apps.tasks.models import TaskSchedule

from . import selectors, training_tasks
from .display import metric_table
from .forms import ActiveAtForm, TracePickForm, TrainingForm, training_from_form
from .models import LIFECYCLE_PERM, Model, ModelVersion
from .training import DEFAULT_PARAMS
from .views_actions import actions_context

# A model page shows this many of the newest lifecycle events and batch predictions.
EVENT_LIMIT = 100
BATCH_LIMIT = 50


@login_required
@permission_required("models.view_model", raise_exception=True)
def model_list(request: HttpRequest) -> HttpResponse:
    models = selectors.models_with_latest().order_by("name")
    query = request.GET.get("q", "").strip()
    if query:
        models = models.filter(name__icontains=query)
    page = Paginator(models, 50).get_page(request.GET.get("page"))
    return render(request, "models/list.html", {"page": page, "query": query})


@login_required
@permission_required("models.view_model", raise_exception=True)
def model_detail(request: HttpRequest, pk: int) -> HttpResponse:
    model = get_object_or_404(Model.objects.select_related("created_by", "ab_version"), pk=pk)
    at_form = ActiveAtForm(request.GET if "active_at" in request.GET else None)
    return render(
        request,
        "models/detail.html",
        {
            **selectors.model_overview(model, event_limit=EVENT_LIMIT, batch_limit=BATCH_LIMIT),
            "model": model,
            "event_limit": EVENT_LIMIT,
            "at_form": at_form,
            "at_answer": at_form.answer(model) if at_form.is_valid() else None,
            "can_manage": request.user.has_perm(LIFECYCLE_PERM),
            **actions_context(request.user, model),
        },
        status=400 if at_form.errors else 200,
    )


@login_required
@permission_required("models.view_model", raise_exception=True)
def model_versions(request: HttpRequest, pk: int) -> HttpResponse:
    model = get_object_or_404(Model, pk=pk)
    versions = list(model.versions.select_related("created_by").order_by("-version"))
    return render(
        request,
        "models/versions.html",
        {"model": model, "versions": versions, "table": metric_table(versions)},
    )


# --------------------------------------------------------------------------- traceability


@login_required
@permission_required("models.view_modelversion", raise_exception=True)
def traceability(request: HttpRequest) -> HttpResponse:
    """Pick a version to trace: a model then one of its versions, or a pasted version id."""
    form = TracePickForm(request.GET or None)
    listed = None
    if form.is_bound and form.is_valid():
        if form.cleaned_data["target"] is not None:
            return redirect("trace-page", form.cleaned_data["target"].pk)
        listed = selectors.versions().filter(model=form.cleaned_data["model"]).order_by("-version")
    return render(
        request,
        "models/traceability.html",
        {"form": form, "listed": listed},
        status=400 if form.errors else 200,
    )


@login_required
@permission_required("models.view_modelversion", raise_exception=True)
def trace_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(selectors.versions(), pk=version_id)
    trace = selectors.trace(version)
    forward = trace["forward"]
    return render(
        request,
        "models/trace.html",
        {
            "version": version,
            "trace": trace,
            "parameters": sorted((trace["back"]["parameters"] or {}).items()),
            "batches": _dated(forward["batchPredictions"]),
            "reproductions": _dated(forward["reproductions"]),
            "evaluations": _dated(forward["evaluations"]),
            "events": _dated(trace["events"]),
            "can_reproduce": version.task_id is not None and request.user.has_perm("tasks.add_task"),
            "form": TracePickForm(initial={"model": version.model_id, "version": version.version}),
        },
    )


def _dated(rows: list[dict]) -> list[dict]:
    """Trace rows with ``created``: their ISO ``createdAt`` as a datetime, for display."""
    return [{**row, "created": parse_datetime(row["createdAt"])} for row in rows]


@require_POST
@login_required
@permission_required("tasks.add_task", raise_exception=True)
def trace_reproduce(request: HttpRequest, version_id: int) -> HttpResponse:
    """Re-run the training that made the version; the new task's page shows how it compares."""
    version = get_object_or_404(ModelVersion.objects.select_related("model", "task"), pk=version_id)
    try:
        task = training_tasks.version_reproduce(version=version, user=request.user)
    except QueueUnavailable as exc:
        messages.error(
            request,
            gettext("The task queue is unreachable; the reproduction failed: %(detail)s")
            % {"detail": exc.detail},
        )
        return redirect("trace-page", version.pk)
    except ApplicationError as exc:  # uploaded, or its training can no longer run as it did
        messages.error(request, str(exc))
        return redirect("trace-page", version.pk)
    messages.success(
        request,
        gettext("Reproduction of %(version)s queued as task #%(id)s.") % {"version": version, "id": task.pk},
    )
    return redirect("task-page", task.pk)


@login_required
# A training registers a model version: integrators need an admin's grant for it.
@permission_required(["tasks.add_task", "models.add_modelversion"], raise_exception=True)
def task_create(request: HttpRequest) -> HttpResponse:
    datasets = selectors.trainable_datasets()
    columns = selectors.training_columns(datasets)
    initial = _initial(request, datasets, columns)
    form = TrainingForm(request.POST or None, datasets=datasets, columns=columns, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            created = training_from_form(request.user, form)
        except QueueUnavailable as exc:
            messages.error(
                request,
                gettext("The task queue is unreachable; the task failed: %(detail)s")
                % {"detail": exc.detail},
            )
            return redirect("tasks")
        if isinstance(created, TaskSchedule):
            messages.success(request, gettext("Scheduled %(name)s.") % {"name": created.name})
            return redirect("tasks")
        if created is not None:
            messages.success(request, gettext("Task #%(id)s is queued.") % {"id": created.pk})
            return redirect("task-page", created.pk)
    return render(
        request,
        "tasks/create.html",
        {"form": form, "datasets_columns": columns, "default_params": DEFAULT_PARAMS},
        status=400 if form.errors else 200,
    )


def _initial(request: HttpRequest, datasets, columns: dict[str, dict]) -> dict:
    """Preselect ``?dataset=<id>`` (else the first dataset) and its label column."""
    wanted = request.GET.get("dataset", "")
    dataset = (datasets.filter(pk=wanted).first() if wanted.isdigit() else None) or datasets.first()
    if dataset is None:
        return {}
    return {"dataset": dataset, "label": columns.get(str(dataset.pk), {}).get("label", "")}
