"""Analyst pages: the feature list, a feature's page, registering features from a dataset."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from apps.datasets.models import Dataset
from apps.datasets.selectors import dataset_version

from . import services
from .errors import NotReady
from .filters import TAG_RE
from .models import Feature, FeatureType, Tag
from .selectors import feature_sets_using, feature_versions, features_matching, registrable_datasets
from .texts import BINNING_METHODS, IV_STRENGTHS, registered_message


@login_required
@permission_required("features.view_feature", raise_exception=True)
def feature_list(request: HttpRequest) -> HttpResponse:
    features = Feature.objects.select_related("created_by").prefetch_related("tags").order_by("name")
    query = request.GET.get("q", "").strip()
    kind = request.GET.get("type", "")
    tags = [t for t in request.GET.getlist("tag") if TAG_RE.match(t)]
    if kind in FeatureType.values:
        features = features.filter(type=kind)
    features = features_matching(features, search=query, tags=tags)
    page = Paginator(features, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "features/list.html",
        {
            "page": page,
            "query": query,
            "type": kind,
            "tags": tags,
            "types": FeatureType.choices,
            "all_tags": Tag.objects.order_by("name")[:200],
            "datasets": registrable_datasets(),
            "can_register": request.user.has_perm("features.add_feature"),
        },
    )


@login_required
@permission_required("features.view_feature", raise_exception=True)
def feature_detail(request: HttpRequest, pk: int) -> HttpResponse:
    feature = get_object_or_404(Feature.objects.select_related("created_by").prefetch_related("tags"), pk=pk)
    versions = feature_versions(feature)
    current = next((v for v in versions if v.version == feature.version), None)
    stats = (current.statistics if current else None) or {}
    iv = stats.get("iv") or {}
    return render(
        request,
        "features/detail.html",
        {
            "feature": feature,
            "versions": versions,
            "current": current,
            "feature_sets": feature_sets_using(feature),
            "stats": stats,
            "iv_strength": IV_STRENGTHS.get(iv.get("strength"), iv.get("strength")),
            "binning_method": BINNING_METHODS.get((iv.get("binning") or {}).get("method"), ""),
        },
    )


@login_required
@permission_required("features.add_feature", raise_exception=True)
def feature_register(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("dataset") or request.POST.get("dataset") or ""
    if not raw.isdigit():
        raise Http404(_("No such dataset."))
    dataset = get_object_or_404(Dataset, pk=raw)
    version = dataset_version(dataset, None)
    if version is None:
        raise Http404(_("This dataset has no version."))
    try:
        proposals = services.features_propose(dataset_version=version)
    except NotReady as exc:
        messages.error(request, str(exc))
        return redirect("features")
    if request.method == "POST":
        chosen = request.POST.getlist("column")
        columns = [{"column": c, "name": request.POST.get(f"name-{c}", "").strip() or None} for c in chosen]
        tags = [t for t in request.POST.get("tags", "").replace(",", " ").split() if TAG_RE.match(t)]
        if not columns:
            messages.error(request, _("Choose at least one column."))
        else:
            try:
                features, feature_set = services.features_register(
                    dataset_version=version,
                    columns=columns,
                    user=request.user,
                    tags=tags,
                    feature_set_name=request.POST.get("feature_set", "").strip(),
                    proposals=proposals,
                )
            except NotReady as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, registered_message(len(features), feature_set))
                return redirect("features")
    shown = [
        {
            **p,
            "type_label": FeatureType(p["type"]).label if p["type"] in FeatureType.values else p["type"],
            "strength": IV_STRENGTHS.get((p["statistics"].get("iv") or {}).get("strength"), ""),
        }
        for p in proposals
    ]
    return render(
        request, "features/register.html", {"dataset": dataset, "version": version, "proposals": shown}
    )
