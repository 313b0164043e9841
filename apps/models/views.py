"""Analyst pages of the model registry: the model list, a model with its versions and lineage."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from . import selectors
from .models import Model, ModelVersion


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
    model = get_object_or_404(Model.objects.select_related("created_by"), pk=pk)
    versions = list(selectors.versions().filter(model=model).order_by("-version"))
    return render(
        request,
        "models/detail.html",
        {
            "model": model,
            "versions": [_with_lineage(v) for v in versions],
            "metric_rows": _metric_rows(versions),
        },
    )


def _with_lineage(version: ModelVersion) -> tuple[ModelVersion, dict, list[tuple[str, object]]]:
    """The version, its lineage, and its parameters by name (JSONB does not keep their order)."""
    lin = selectors.lineage(version)
    return version, lin, sorted((lin["parameters"] or {}).items())


def _metric_rows(versions: list[ModelVersion]) -> list[dict]:
    """One row per metric with each version's value (None where a version lacks it)."""
    names = sorted({name for v in versions for name in (v.metrics or {})})
    return [{"name": n, "values": [(v.metrics or {}).get(n) for v in versions]} for n in names]
