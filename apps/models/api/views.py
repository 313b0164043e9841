"""Registry API: the seed's /api/models and versions with their lineage (read side)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action

from .. import selectors
from ..filters import ModelFilter, ModelVersionFilter
from .serializers import ModelSerializer, ModelVersionSerializer


class ModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Registered models; their versions are under ``/versions``."""

    serializer_class = ModelSerializer
    filterset_class = ModelFilter
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.models_with_latest()

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
