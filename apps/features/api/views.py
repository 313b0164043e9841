"""Feature center API: the seed's /api/features plus registration from data and feature sets."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from apps.core.api.seed import SeedProfileRenderer
from apps.datasets.models import Dataset
from apps.datasets.selectors import dataset_version
from apps.users.permissions import HasPerms

from .. import services
from ..filters import FeatureFilter, FeatureSetFilter, parse_tags
from ..models import Feature, FeatureSet, Tag
from ..selectors import current_versions, feature_set_feature_ids, feature_versions, features_matching
from ..texts import registered_message
from .serializers import (
    DatasetVersionRefSerializer,
    FeatureDetailSerializer,
    FeatureSerializer,
    FeatureSetSerializer,
    FeatureVersionSerializer,
    RegisterSerializer,
)


def _dataset_version(data: dict):
    dataset = Dataset.objects.filter(pk=data["dataset"]).first()
    if dataset is None:
        raise ValidationError({"dataset": [_("No such dataset.")]})
    version = dataset_version(dataset, data.get("version") or data.get("dataset_version"))
    if version is None:
        raise ValidationError({"version": [_("No such version of this dataset.")]})
    return version


class FeatureViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Features. ``tags`` (repeat, comma-separate, or ``tags[]`` as a browser's query
    builder writes an array) keeps features carrying all of them. With `Accept:
    application/json; profile=seed` ids and version numbers are text, as the seed design
    types them."""

    filterset_class = FeatureFilter  # ``search`` is a filter here: one indexed column, see selectors
    ordering_fields = ["name", "created_at", "updated_at", "type"]
    ordering = ["name"]
    renderer_classes = [SeedProfileRenderer]
    extra_query_params = ("tags[]",)

    def get_queryset(self):
        # Each tag filter joins one (feature, tag) row, unique: no DISTINCT needed.
        return Feature.objects.select_related("created_by").prefetch_related(
            Prefetch("tags", queryset=Tag.objects.only("name"))
        )

    def get_serializer_class(self):
        # A PUT may send back the whole detail it read (statistics and sets are read-only).
        if self.action in ("retrieve", "update", "partial_update"):
            return FeatureDetailSerializer
        return FeatureSerializer

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        bracketed = self.request.query_params.getlist("tags[]") if self.action == "list" else []
        return features_matching(queryset, tags=parse_tags(bracketed)) if bracketed else queryset

    def get_permissions(self):
        if self.action in ("propose", "register"):
            return [HasPerms.of("features.add_feature")()]
        if self.action == "versions":
            return [HasPerms.of("features.view_feature")()]
        return super().get_permissions()

    def perform_create(self, serializer):
        serializer.instance = services.feature_create(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        tags = data.pop("tags", None)
        serializer.instance = services.feature_update(
            feature=serializer.instance, user=self.request.user, tags=tags, **data
        )

    def update(self, request, *args, **kwargs):
        response = super().update(request, *args, **kwargs)
        response.message = _("Saved; version %(version)s.") % {"version": response.data["version"]}
        return response

    @extend_schema(responses=FeatureVersionSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filterset_class=None)
    def versions(self, request, pk=None):
        feature = Feature.objects.filter(pk=pk).first()
        if feature is None:
            raise NotFound()
        page = self.paginate_queryset(feature_versions(feature))
        return self.get_paginated_response(FeatureVersionSerializer(page, many=True).data)

    @extend_schema(request=DatasetVersionRefSerializer, responses={200: dict}, filters=False)
    @action(detail=False, methods=["post"], filterset_class=None)
    def propose(self, request):
        """What registering a dataset version's columns would create: names, types, statistics, IV."""
        serializer = DatasetVersionRefSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = _dataset_version(serializer.validated_data)
        proposals = services.features_propose(dataset_version=version)
        response = Response(
            {
                "dataset": version.dataset_id,
                "version": version.version,
                "labelColumn": version.label_column,
                "columns": proposals,
            }
        )
        response.message = ngettext(
            "%(count)d column can be registered.", "%(count)d columns can be registered.", len(proposals)
        ) % {"count": len(proposals)}
        return response

    @extend_schema(request=RegisterSerializer, responses={201: FeatureSerializer(many=True)}, filters=False)
    @action(detail=False, methods=["post"], filterset_class=None)
    def register(self, request):
        """Register chosen columns as features (with statistics) and optionally a feature set."""
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        version = _dataset_version(data)
        spec = data.get("feature_set") or {}
        features, feature_set = services.features_register(
            dataset_version=version,
            columns=data["columns"],
            user=request.user,
            tags=data["tags"],
            feature_set_name=spec.get("name", ""),
            feature_set_description=spec.get("description", ""),
        )
        body = {
            "features": FeatureSerializer(features, many=True).data,
            "featureSet": FeatureSetSerializer(feature_set).data if feature_set else None,
        }
        response = Response(body, status=status.HTTP_201_CREATED)
        response.message = registered_message(len(features), feature_set)
        return response


class FeatureSetViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Named, versioned lists of features drawn from a dataset version."""

    serializer_class = FeatureSetSerializer
    filterset_class = FeatureSetFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "version", "created_at"]
    queryset = FeatureSet.objects.select_related("created_by", "dataset_version")

    def get_permissions(self):
        if self.action == "new_version":
            return [HasPerms.of("features.add_featureset")()]
        return super().get_permissions()

    def _write(self, serializer, feature_set=None):
        data = dict(serializer.validated_data)
        features = data.pop("features", None)
        version = _dataset_version(data) if "dataset" in data else None
        data.pop("dataset", None)
        data.pop("dataset_version", None)
        if feature_set is None:
            return services.feature_set_create(
                dataset_version=version,
                feature_versions=current_versions(features or []),
                user=self.request.user,
                **data,
            )
        if version is not None:
            data["dataset_version"] = version
        return services.feature_set_update(
            feature_set=feature_set,
            user=self.request.user,
            feature_versions=current_versions(features) if features is not None else None,
            **data,
        )

    def perform_create(self, serializer):
        serializer.instance = self._write(serializer)

    def perform_update(self, serializer):
        serializer.instance = self._write(serializer, serializer.instance)

    @extend_schema(request=FeatureSetSerializer, responses={201: FeatureSetSerializer}, filters=False)
    @action(detail=True, methods=["post"], url_path="new-version", filterset_class=None)
    def new_version(self, request, pk=None):
        """A new version of this set with the given changes (the way to change a locked set)."""
        base = self.get_object()
        payload = {
            "name": base.name,
            "description": base.description,
            "label_column": base.label_column,
            "dataset": base.dataset_version.dataset_id,
            "dataset_version": base.dataset_version.version,
            "features": feature_set_feature_ids(base),
        }
        serializer = FeatureSetSerializer(data={**payload, **request.data})
        serializer.is_valid(raise_exception=True)
        created = self._write(serializer)
        response = Response(FeatureSetSerializer(created).data, status=status.HTTP_201_CREATED)
        response.message = _("Created %(feature_set)s.") % {"feature_set": created}
        return response
