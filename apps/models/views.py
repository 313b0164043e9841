"""Analyst pages of the model registry: the model list, a model with its versions, lineage,
serving state and audit trail, metrics across versions, and traceability with reproduce."""

from __future__ import annotations

import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from apps.tasks.errors import IllegalTransition, QueueUnavailable, RequestInvalid
from apps.tasks.models import TaskSchedule

from . import selectors, services, serving, training_tasks
from .admin import HEADLINE_METRICS
from .forms import ActiveAtForm, TracePickForm, TrainingForm, training_from_form
from .models import Model, ModelVersion, PromotionRequest, RequestStatus, VersionEvent, VersionStatus
from .training import DEFAULT_PARAMS

# A model page shows this many of the newest lifecycle events and batch predictions.
EVENT_LIMIT = 100
BATCH_LIMIT = 50
# Metrics where a smaller value is better, by name or by the last part of the name
# (``valid_binary_logloss``); every other metric is better when larger.
LOWER_IS_BETTER = services.LOWER_IS_BETTER | {"l1", "l2", "mse", "error"}
LIFECYCLE_PERM = "models.change_modelversion"


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
    versions = list(selectors.versions().filter(model=model).order_by("-version"))
    requests = serving.counts(model.pk, [v.pk for v in versions])
    for v in versions:
        v.requests = requests[v.pk]
    active = next((v for v in versions if v.status == VersionStatus.ACTIVE), None)
    at_form = ActiveAtForm(request.GET if "active_at" in request.GET else None)
    events = VersionEvent.objects.filter(model=model).select_related("version", "previous_active", "actor")
    return render(
        request,
        "models/detail.html",
        {
            "model": model,
            "versions": [_with_lineage(v) for v in versions],
            "metric_rows": _metric_rows(versions),
            "active": active,
            "ab_split": _ab_split(model, active, requests),
            "flagged": [v for v in versions if v.review_required],
            "events": events.order_by("-created_at", "-id")[:EVENT_LIMIT],
            "event_count": events.count(),
            "event_limit": EVENT_LIMIT,
            "pending": PromotionRequest.objects.filter(version__model=model, status=RequestStatus.PENDING)
            .select_related("version", "requested_by")
            .order_by("requested_at"),
            "batches": selectors.batch_predictions().filter(version__model=model)[:BATCH_LIMIT],
            "at_form": at_form,
            "at_answer": at_form.answer(model) if at_form.is_valid() else None,
            "can_manage": request.user.has_perm(LIFECYCLE_PERM),
        },
        status=400 if at_form.errors else 200,
    )


def _with_lineage(version: ModelVersion) -> tuple[ModelVersion, dict, list[tuple[str, object]]]:
    """The version, its lineage, and its parameters by name (JSONB does not keep their order)."""
    lin = selectors.lineage(version)
    return version, lin, sorted((lin["parameters"] or {}).items())


def _ab_split(model: Model, active: ModelVersion | None, requests: dict[int, int]) -> list[dict]:
    """Each serving side (active, then B when a split is set) with its share and request count."""
    percent = model.ab_percent if model.ab_version_id else 0
    sides = []
    if active is not None:
        sides.append({"arm": "active", "version": active, "percent": 100 - percent})
    if model.ab_version_id and percent:
        sides.append({"arm": "B", "version": model.ab_version, "percent": percent})
    for side in sides:
        side["requests"] = requests.get(side["version"].pk, 0)
    return sides


def _numeric(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def metric_names(versions: list[ModelVersion]) -> list[str]:
    """The numeric metrics any of ``versions`` has: the headline ones first, then by name."""
    names = {name for v in versions for name, value in (v.metrics or {}).items() if _numeric(value)}
    headline = [n for n in HEADLINE_METRICS if n in names]
    return headline + sorted(names - set(headline))


def lower_is_better(name: str) -> bool:
    """Whether a smaller value of metric ``name`` is the better one (losses, errors)."""
    return name in LOWER_IS_BETTER or name.rsplit("_", 1)[-1] in LOWER_IS_BETTER


def _metric_rows(versions: list[ModelVersion]) -> list[dict]:
    """One row per metric with each version's value (None where a version lacks it)."""
    return [
        {"name": n, "values": [(v.metrics or {}).get(n) for v in versions]} for n in metric_names(versions)
    ]


def metric_table(versions: list[ModelVersion]) -> dict:
    """Versions side by side: ``columns``, (metric name, lower is better) each, and ``rows``,
    one per version, of (version, [(value or None, is the best value of its column)]).
    Ties are all best."""
    names = metric_names(versions)
    best = {}
    for name in names:
        values = [v.metrics[name] for v in versions if _numeric((v.metrics or {}).get(name))]
        best[name] = (min if lower_is_better(name) else max)(values)
    rows = []
    for v in versions:
        cells = []
        for name in names:
            value = (v.metrics or {}).get(name)
            value = value if _numeric(value) else None
            cells.append((value, value is not None and value == best[name]))
        rows.append((v, cells))
    return {"columns": [(n, lower_is_better(n)) for n in names], "rows": rows}


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
    except IllegalTransition as exc:
        messages.error(request, str(exc))
        return redirect("trace-page", version.pk)
    except RequestInvalid as exc:
        messages.error(request, f"The training can no longer run as it did: {exc}")
        return redirect("trace-page", version.pk)
    except QueueUnavailable as exc:
        messages.error(request, f"The task queue is unreachable; the reproduction failed: {exc.detail}")
        return redirect("trace-page", version.pk)
    messages.success(request, f"Reproduction of {version} queued as task #{task.pk}.")
    return redirect("task-page", task.pk)


@login_required
@permission_required("tasks.add_task", raise_exception=True)
def task_create(request: HttpRequest) -> HttpResponse:
    datasets = selectors.trainable_datasets()
    columns = selectors.training_columns(datasets)
    initial = _initial(request, datasets, columns)
    form = TrainingForm(request.POST or None, datasets=datasets, columns=columns, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            created = training_from_form(request.user, form)
        except QueueUnavailable as exc:
            messages.error(request, f"The task queue is unreachable; the task failed: {exc.detail}")
            return redirect("tasks")
        if isinstance(created, TaskSchedule):
            messages.success(request, f"Scheduled {created.name}.")
            return redirect("tasks")
        if created is not None:
            messages.success(request, f"Task #{created.pk} is queued.")
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
