"""Registry API: the seed's /api/models and versions with their lineage (read side)."""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.core.api.exceptions import Conflict
from apps.users.permissions import HasPerms

from .. import selectors, services
from ..filters import ModelFilter, ModelVersionFilter
from ..models import ModelVersion, VersionEvent
from .serializers import (
    ModelSerializer,
    ModelVersionSerializer,
    ReasonSerializer,
    RollbackSerializer,
    VersionEventSerializer,
)

_LIFECYCLE_PERM = "models.change_modelversion"


def _lifecycle(change, message: str) -> Response:
    try:
        version = change()
    except (services.LifecycleError, services.ConcurrentChange) as exc:
        raise Conflict(str(exc)) from None
    version = selectors.versions().get(pk=version.pk)
    response = Response(ModelVersionSerializer(version).data)
    response.message = message.format(version=version)
    return response


class ModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Registered models; their versions are under ``/versions``."""

    serializer_class = ModelSerializer
    filterset_class = ModelFilter
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]
    lookup_value_regex = r"\d+"

    extra_query_params = ("at",)

    def get_queryset(self):
        return selectors.models_with_latest()

    def get_permissions(self):
        if self.action == "rollback":
            return [HasPerms.of(_LIFECYCLE_PERM)()]
        return super().get_permissions()

    @extend_schema(request=RollbackSerializer, responses=ModelVersionSerializer, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def rollback(self, request, pk=None):
        """Re-activate the previously active version (or ``version``); 409 when there is none."""
        model = self.get_object()
        serializer = RollbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target = None
        if "version" in serializer.validated_data:
            target = ModelVersion.objects.filter(
                model=model, version=serializer.validated_data["version"]
            ).first()
            if target is None:
                raise ValidationError(
                    {"version": [f"{model} has no version {serializer.validated_data['version']}."]}
                )
        return _lifecycle(
            lambda: services.model_rollback(
                model=model, user=request.user, reason=serializer.validated_data["reason"], to_version=target
            ),
            "Rolled back to {version}.",
        )

    @extend_schema(responses=VersionEventSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filterset_class=None)
    def events(self, request, pk=None):
        """The model's append-only lifecycle trail, oldest first."""
        model = self.get_object()
        events = VersionEvent.objects.filter(model=model).select_related(
            "version", "previous_active", "actor"
        )
        page = self.paginate_queryset(events)
        return self.get_paginated_response(VersionEventSerializer(page, many=True).data)

    @extend_schema(
        responses=ModelVersionSerializer,
        filters=False,
        parameters=[OpenApiParameter("at", str, required=True, description="ISO 8601 time")],
    )
    @action(detail=True, methods=["get"], url_path="active-at", filterset_class=None)
    def active_at(self, request, pk=None):
        """Which version was active at time ``at``; 404 when none was."""
        model = self.get_object()
        raw = request.query_params.get("at", "")
        when = parse_datetime(raw)
        if when is None or when.tzinfo is None:
            raise ValidationError(
                {"at": ["An ISO 8601 time with a timezone is required, e.g. 2026-01-31T12:00:00Z."]}
            )
        version = services.active_version_at(model, when)
        if version is None:
            from rest_framework.exceptions import NotFound

            raise NotFound(f"No version of {model} was active at {raw}.")
        return Response(ModelVersionSerializer(selectors.versions().get(pk=version.pk)).data)

    @extend_schema(responses=ModelVersionSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filterset_class=None)
    def versions(self, request, pk=None):
        model = self.get_object()
        page = self.paginate_queryset(selectors.versions().filter(model=model).order_by("-version"))
        return self.get_paginated_response(ModelVersionSerializer(page, many=True).data)


class ModelVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every model version with metrics and lineage (task, data hash, feature set, seed)."""

    serializer_class = ModelVersionSerializer
    filterset_class = ModelVersionFilter
    ordering_fields = ["created_at", "version"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return selectors.versions()

    def get_permissions(self):
        if self.action in ("promote", "deprecate"):
            return [HasPerms.of(_LIFECYCLE_PERM)()]
        return super().get_permissions()

    @extend_schema(request=ReasonSerializer, responses=ModelVersionSerializer, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def promote(self, request, pk=None):
        """Make this version active (the previous active one becomes inactive); 409 on conflict."""
        version = self.get_object()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        return _lifecycle(
            lambda: services.version_activate(version=version, user=request.user, reason=reason),
            "Promoted {version}.",
        )

    @extend_schema(request=ReasonSerializer, responses=ModelVersionSerializer, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def deprecate(self, request, pk=None):
        """Retire a version that is not active."""
        version = self.get_object()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        return _lifecycle(
            lambda: services.version_deprecate(version=version, user=request.user, reason=reason),
            "Deprecated {version}.",
        )
