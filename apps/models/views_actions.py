"""The model page's actions: upload a version, try a prediction, set the A/B split, score a
dataset and download the scores. Each checks its role, calls the service the API calls,
and answers a refusal with the form and its errors (nothing stored)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError
from apps.tasks.errors import QueueUnavailable, RequestInvalid

from . import batch, selectors, services, serving
from .errors import PredictionRefused
from .forms_actions import ABForm, BatchForm, TryForm, UploadVersionForm
from .models import LIFECYCLE_PERM, Model, ModelType, ModelVersion, VersionStatus

UPLOAD_PERM = "models.add_modelversion"
TRY_PERM = "models.add_predictionlog"
BATCH_PERM = "models.add_batchprediction"
# The model page lists this many of the model's newest batch-prediction tasks.
BATCH_TASKS_SHOWN = 10
# Request errors of a batch prediction, by service field -> form field.
BATCH_FIELDS = {
    "model_version": "version",
    "dataset": "dataset",
    "dataset_version": "dataset_version",
    "engine": "engine",
}


def trial_version(model: Model, number: str | None = None) -> ModelVersion | None:
    """The version to try: number ``number``, else the active one, else the newest."""
    versions = model.versions.select_related("model")
    if number and number.isdigit():
        return versions.filter(version=int(number)).first()
    return versions.filter(status=VersionStatus.ACTIVE).first() or versions.order_by("-version").first()


def actions_context(user, model: Model) -> dict:
    """What the model page's action sections show this user (a section per permission)."""
    scoring = model.type != ModelType.RETRIEVAL
    context: dict = {"model_actions": True}
    if scoring and user.has_perm(UPLOAD_PERM):
        context["upload_form"] = UploadVersionForm()
    version = trial_version(model) if scoring and user.has_perm(TRY_PERM) else None
    if version is not None:
        context["try_form"] = TryForm(version=version)
        context["try_versions"] = model.versions.order_by("-version")
    if scoring and user.has_perm(LIFECYCLE_PERM):
        context["ab_form"] = ABForm(model=model)
    if scoring and user.has_perm(BATCH_PERM):
        context["batch_form"] = BatchForm(model=model)
    if scoring:
        context["batch_tasks"] = selectors.batch_tasks(model)[:BATCH_TASKS_SHOWN]
    return context


def _model(pk: int) -> Model:
    return get_object_or_404(Model.objects.select_related("ab_version"), pk=pk)


def _refused(request: HttpRequest, model: Model, form, title: str, section: str) -> HttpResponse:
    """The action's form again with its errors (HTTP 400): nothing was stored."""
    return render(
        request,
        "models/action.html",
        {"model": model, "form": form, "title": title, "section": section},
        status=400,
    )


@require_POST
@login_required
@permission_required(UPLOAD_PERM, raise_exception=True)
def version_upload(request: HttpRequest, pk: int) -> HttpResponse:
    model = _model(pk)
    form = UploadVersionForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            version = services.version_upload(
                model=model,
                data=data["file"].read(),
                filename=data["file"].name,
                user=request.user,
                version_number=data["version"],
                features=data["features"],
                changelog=data["changelog"],
            )
        except ApplicationError as exc:  # refused file or schema, number taken, model archived
            _add_errors(form, exc, ("file", "version", "features"))
        else:
            messages.success(request, _("Uploaded %(version)s.") % {"version": version})
            return redirect(reverse("model-page", args=[model.pk]) + f"#v{version.version}")
    return _refused(request, model, form, _("Upload a model version"), "models/_upload.html")


@login_required
@permission_required(TRY_PERM, raise_exception=True)
def version_try(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the form for ``?version=N`` (default: active, else newest); POST: its score."""
    model = _model(pk)
    if model.type == ModelType.RETRIEVAL:
        raise Http404
    version = trial_version(model, request.POST.get("version") or request.GET.get("version"))
    if version is None:
        raise Http404
    form = TryForm(request.POST if request.method == "POST" else None, version=version)
    answer = None
    if request.method == "POST" and form.is_valid():
        try:
            answer = serving.try_version(version=version, record=form.record())
            if answer["objective"] == "multiclass":
                answer["classes"] = list(zip(answer["labels"], answer["score"], strict=False))
        except PredictionRefused as exc:  # unloadable artifact, a value the schema refuses
            _add_errors(form, exc, ())
    return render(
        request,
        "models/try.html",
        {
            "model": model,
            "version": version,
            "form": form,
            "answer": answer,
            "versions": model.versions.order_by("-version"),
            "event_class": _event_class(version),
        },
        status=400 if form.errors else 200,
    )


def _event_class(version: ModelVersion):
    """The class a binary version's probability is of (the second of its label classes)."""
    classes = (version.feature_schema or {}).get("labelClasses") or []
    return classes[1] if len(classes) == 2 else None


@require_POST
@login_required
@permission_required(LIFECYCLE_PERM, raise_exception=True)
def ab_set(request: HttpRequest, pk: int) -> HttpResponse:
    model = _model(pk)
    form = ABForm(request.POST, model=model)
    if form.is_valid():
        try:
            services.ab_set(
                model=model,
                version=form.chosen(),
                percent=form.cleaned_data["percent"],
                user=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:  # no active version, archived, B is the active one...
            _add_errors(form, exc, ())
        else:
            messages.success(request, _("A/B split updated."))
            return redirect(reverse("model-page", args=[model.pk]) + "#serving")
    return _refused(request, model, form, _("A/B split"), "models/_ab.html")


@require_POST
@login_required
@permission_required(BATCH_PERM, raise_exception=True)
def batch_start(request: HttpRequest, pk: int) -> HttpResponse:
    model = _model(pk)
    form = BatchForm(request.POST, model=model)
    if form.is_valid():
        try:
            task = batch.batch_create(
                user=request.user, request=form.request(), priority=form.cleaned_data["priority"]
            )
        except RequestInvalid as exc:
            _add_errors(form, exc, tuple(BATCH_FIELDS))
        except QueueUnavailable as exc:
            form.add_error(
                None,
                _("The task queue is unreachable; nothing was started: %(detail)s") % {"detail": exc.detail},
            )
        else:
            messages.success(request, _("Batch prediction queued as task #%(id)s.") % {"id": task.pk})
            return redirect("task-page", task.pk)
    return _refused(request, model, form, _("Batch prediction"), "models/_batch.html")


@login_required
@permission_required("models.view_batchprediction", raise_exception=True)
def batch_download(request: HttpRequest, pk: int) -> FileResponse:
    """A finished batch prediction's CSV, by its id (never by a path)."""
    row = get_object_or_404(selectors.batch_predictions(), pk=pk)
    try:
        handle = batch.batch_file_open(row)
    except FileNotFoundError:
        raise Http404(_("The file of this batch prediction is gone.")) from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=batch.batch_file_name(row),
        content_type="text/csv",
    )


def _add_errors(form, exc: ApplicationError, fields: tuple[str, ...]) -> None:
    """A service's refusal on the form: under the field it names, else above the form."""
    if not exc.errors:
        form.add_error(None, exc.message)
        return
    for name, problems in exc.errors.items():
        field = BATCH_FIELDS.get(name, name) if isinstance(form, BatchForm) else name
        target = field if field in fields and field in form.fields else None
        for problem in problems:
            form.add_error(target, problem)
