"""Analyst pages: dataset list + upload, a dataset's versions, the quality report."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from . import selectors, texts
from .forms import UploadForm, upload_from_form
from .models import Dataset, DatasetKind, DatasetStatus


@login_required
@permission_required("datasets.view_dataset", raise_exception=True)
def dataset_list(request: HttpRequest) -> HttpResponse:
    can_upload = request.user.has_perm("datasets.add_dataset")
    form = UploadForm(request.POST or None, request.FILES or None) if can_upload else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            version, _created = upload_from_form(request, form)
            if version is not None:
                return redirect("dataset-detail", version.dataset_id)
    datasets = selectors.datasets_with_latest().filter(is_archived=False).order_by("-updated_at")
    query = request.GET.get("q", "").strip()
    if query:
        datasets = datasets.filter(name__icontains=query)
    page = Paginator(datasets, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "datasets/list.html",
        {"page": page, "form": form, "query": query},
        status=400 if form is not None and form.errors else 200,
    )


@login_required
@permission_required("datasets.view_dataset", raise_exception=True)
def dataset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = get_object_or_404(Dataset.objects.select_related("created_by"), pk=pk)
    versions = selectors.versions_of(dataset)
    number = request.GET.get("version")
    version = selectors.dataset_version(dataset, int(number) if number and number.isdigit() else None)
    kind = request.GET.get("kind", "")
    kind = kind if kind in texts.KIND_LABELS else ""
    context = {"dataset": dataset, "versions": versions, "version": version, "kind": kind}
    if version is not None:
        result = version.validation_result or {}
        context |= {
            "running": version.status in (DatasetStatus.UPLOADED, DatasetStatus.VALIDATING),
            "error_text": texts.version_error_text(version),
            "problems": [
                {"line": p.get("line"), "message": texts.problem_text(p)} for p in result.get("problems", [])
            ],
            "kind_counts": texts.kind_counts(result),
            "scheme_counts": texts.scheme_counts(result),
            "warned_count": result.get("warnedCount", 0),
            "invalid_records": [] if kind else selectors.invalid_records(version),
            "flagged_records": selectors.flagged_records(version, kind),
        }
    return render(request, "datasets/detail.html", context)


@login_required
@permission_required("datasets.view_dataset", raise_exception=True)
def dataset_quality(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = get_object_or_404(Dataset, pk=pk, kind=DatasetKind.TABULAR)
    number = request.GET.get("version")
    version = selectors.dataset_version(dataset, int(number) if number and number.isdigit() else None)
    if version is None or version.status != DatasetStatus.VALIDATED or not version.quality:
        raise Http404(_("This version has no quality report."))
    return render(
        request,
        "datasets/quality.html",
        {"dataset": dataset, "version": version, "q": texts.quality_shown(version.quality)},
    )
