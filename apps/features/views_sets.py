"""Analyst pages of feature sets: the list (search, by dataset) and a set's page with its
features in order, its other versions and the model versions trained on it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from .models import FeatureSet
from .selectors import (
    feature_set_items,
    feature_set_users,
    feature_set_versions,
    feature_sets_for_list,
    registrable_datasets,
)

PAGE_SIZE = 50
# Longest search text read (longer is cut: a search box, not a document).
MAX_QUERY_CHARS = 200


@login_required
@permission_required("features.view_featureset", raise_exception=True)
def feature_set_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:MAX_QUERY_CHARS]
    raw = request.GET.get("dataset", "")
    dataset_id = int(raw) if raw.isdigit() and len(raw) < 19 else None
    sets = feature_sets_for_list(search=query, dataset_id=dataset_id)
    page = Paginator(sets, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "features/sets.html",
        {"page": page, "query": query, "dataset_id": dataset_id, "datasets": registrable_datasets()},
    )


@login_required
@permission_required("features.view_featureset", raise_exception=True)
def feature_set_detail(request: HttpRequest, pk: int) -> HttpResponse:
    feature_set = get_object_or_404(
        FeatureSet.objects.select_related("dataset_version__dataset", "created_by"), pk=pk
    )
    return render(
        request,
        "features/set_detail.html",
        {
            "feature_set": feature_set,
            "items": feature_set_items(feature_set),
            "versions": feature_set_versions(feature_set),
            "model_versions": feature_set_users(feature_set),
        },
    )
