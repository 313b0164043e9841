"""Version endpoints for risk models: a scorecard's card and its refit with bins edited, and
the portable exports (ONNX, SQL) checked against OMM's own scores."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from apps.core.api.negotiation import FormatIsData
from apps.core.api.renderers import AsBuiltRenderer
from apps.core.api.serializers import StrictSerializer
from apps.tasks.serializers import TaskSerializer

from .. import scorecards, version_exports


class RefitSerializer(StrictSerializer):
    edits = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=200,
        help_text=(
            "{feature, breaks: [..]}, {feature, merge: [i, i+1]}, {feature, split: {bin, at}}, "
            "{feature, groups: [[..], ..]}, {feature, include: true|false}; bins by their index in the card."
        ),
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class VersionRiskActionsMixin:
    """Mixed into the model-version viewset: ``card``, ``refit``, ``export``."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, filters=False)
    @action(detail=True, methods=["get"], filterset_class=None, renderer_classes=[AsBuiltRenderer])
    def card(self, request, pk=None):
        """The scorecard: every feature's bins with count, event rate, WOE, IV and points,
        the candidates with why each was kept or dropped, and the scaling (as stored: feature
        names and levels are data, never re-cased)."""
        version = self.get_object()
        if not version.card:
            raise NotFound(gettext("%(version)s is not a scorecard.") % {"version": version})
        return Response(version.card)

    @extend_schema(request=RefitSerializer, responses={201: TaskSerializer}, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def refit(self, request, pk=None):
        """Refit this scorecard with bins merged, split, set or regrouped (or features forced
        in or out) as a new version; the edits go into its lineage. Edits that break the
        trend the card was built with are refused, naming the bins."""
        version = self.get_object()
        serializer = RefitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = scorecards.scorecard_refit(
            version=version, edits=serializer.validated_data["edits"], user=request.user
        )
        response = Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)
        response.message = gettext("Refit of %(version)s queued as task #%(id)s.") % {
            "version": version,
            "id": task.pk,
        }
        return response

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=list(version_exports.FORMATS), required=True),
            OpenApiParameter(
                "dialect", str, enum=["postgresql", "mysql", "hive", "sqlite"], description="SQL only."
            ),
        ],
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY, description="ONNX, zipped with its schema"
            ),
            (200, "application/sql"): OpenApiResponse(OpenApiTypes.STR, description="SQL"),
        },
        filters=False,
    )
    @action(detail=True, methods=["get"], filterset_class=None, content_negotiation_class=FormatIsData)
    def export(self, request, pk=None):
        """The version in a portable format, checked on its holdout rows against OMM's own
        scores when made (``X-OMM-Max-Abs-Diff``); 400 for a kind with no converter."""
        unknown = sorted(set(request.query_params) - {"format", "dialect"})
        if unknown:
            raise ValidationError({k: [gettext("Unknown query parameter.")] for k in unknown})
        version = get_object_or_404(self.get_queryset(), pk=pk)
        self.check_object_permissions(request, version)
        made = version_exports.version_export(
            version=version,
            fmt=request.query_params.get("format", ""),
            dialect=request.query_params.get("dialect", "postgresql"),
        )
        response = HttpResponse(made.content, content_type=made.content_type)
        response["Content-Disposition"] = f'attachment; filename="{made.filename}"'
        response["X-OMM-Max-Abs-Diff"] = repr(made.check["maxAbsDiff"])
        response["X-OMM-Rows-Checked"] = str(made.check["rowsChecked"])
        return response
