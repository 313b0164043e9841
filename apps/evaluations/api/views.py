"""Evaluation API: the seed's POST/GET /api/evaluation, the list, comparisons and exports, and
the model document of a version."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.negotiation import FormatIsData
from apps.core.api.seed import SeedProfileRenderer
from apps.models import selectors as model_selectors
from apps.users.permissions import HasPerms

from .. import export, selectors, services
from ..document import FORMATS, document_options
from ..errors import NotCompleted
from ..filters import EvaluationFilter
from ..models import Evaluation, EvaluationStatus
from ..views_document import DOCUMENT_PERMS, document_response
from .serializers import (
    EvaluationCompareSerializer,
    EvaluationRequestSerializer,
    EvaluationResultSerializer,
    EvaluationSerializer,
)

TABLE_PARAM = OpenApiParameter(
    "table", str, enum=list(export.CSV_TABLES), required=True, description="Which table of the report."
)


def _completed(evaluation: Evaluation) -> Evaluation:
    if evaluation.status != EvaluationStatus.COMPLETED:
        raise NotCompleted(
            gettext("Evaluation #%(id)s is %(status)s; export it once it has completed.")
            % {"id": evaluation.pk, "status": str(EvaluationStatus(evaluation.status).label).lower()}
        )
    return evaluation


def _filename(evaluation: Evaluation, suffix: str) -> str:
    # Server-made from ids only: a model name cannot put anything odd in the header.
    return f"evaluation-{evaluation.pk}-version-{evaluation.model_version_id}{suffix}"


class EvaluationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Evaluations of model versions on datasets. Creating one checks it against the version
    and the data first: nothing is stored for a request that cannot run. With `Accept:
    application/json; profile=seed` ids and version numbers are text, as the seed design
    types them."""

    serializer_class = EvaluationSerializer
    renderer_classes = [SeedProfileRenderer]
    filterset_class = EvaluationFilter
    search_fields = ["model_version__model__name", "dataset_version__dataset__name"]
    ordering_fields = ["created_at", "completed_at", "rows"]
    ordering = ["-created_at", "-id"]
    lookup_value_regex = r"\d+"
    extra_query_params = ("ids", "table")

    def get_queryset(self):
        return selectors.evaluations_for_list()

    def get_permissions(self):
        if self.action == "create":
            return [HasPerms.of("evaluations.add_evaluation")()]
        return super().get_permissions()

    @extend_schema(request=EvaluationRequestSerializer, responses={201: EvaluationSerializer}, filters=False)
    def create(self, request):
        """Evaluate a model version on a dataset version, as a task on the ``evaluation`` queue."""
        serializer = EvaluationRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        priority = data.pop("priority")
        if "options" in data:
            data["options"] = dict(data["options"])
        evaluation = services.evaluation_create(user=request.user, request=data, priority=priority)
        evaluation = self.get_queryset().get(pk=evaluation.pk)
        response = Response(EvaluationSerializer(evaluation).data, status=status.HTTP_201_CREATED)
        response.message = gettext("Evaluation #%(id)s is queued as task #%(task)s.") % {
            "id": evaluation.pk,
            "task": evaluation.task_id,
        }
        return response

    @extend_schema(responses=EvaluationResultSerializer, filters=False)
    def retrieve(self, request, pk=None):
        """The seed's EvaluationResult: metrics, confusion matrix, ROC and PR curves, lift by
        decile, PSI, CSI, importance, notes, the metrics version and the definitions."""
        evaluation = self.get_object()
        return Response(EvaluationResultSerializer(selectors.evaluation_result(evaluation)).data)

    @extend_schema(
        responses=EvaluationCompareSerializer,
        filters=False,
        parameters=[OpenApiParameter("ids", str, required=True, description="Evaluation ids, e.g. 3,4.")],
    )
    @action(detail=False, methods=["get"], filterset_class=None)
    def compare(self, request):
        """Completed evaluations of one dataset version side by side: metrics and curves."""
        compared = selectors.evaluation_compare(request.query_params.get("ids", ""))
        return Response(EvaluationCompareSerializer(compared).data)

    @extend_schema(responses={(200, "text/html"): OpenApiTypes.STR, 409: None}, filters=False)
    @action(
        detail=True, methods=["get"], url_path=r"export\.html", url_name="export-html", filterset_class=None
    )
    def export_html(self, request, pk=None):
        """The report as one standalone HTML file (inline styles and SVG charts, no fetches)."""
        evaluation = _completed(self.get_object())
        body = export.report_html(selectors.evaluation_result(evaluation))
        response = HttpResponse(body, content_type="text/html; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{_filename(evaluation, ".html")}"'
        return response

    @extend_schema(
        responses={(200, "text/csv"): OpenApiTypes.STR, 409: None}, parameters=[TABLE_PARAM], filters=False
    )
    @action(
        detail=True, methods=["get"], url_path=r"export\.csv", url_name="export-csv", filterset_class=None
    )
    def export_csv(self, request, pk=None):
        """One table of the report as CSV: metrics, deciles, roc, pr, psi, csi or importance."""
        evaluation = _completed(self.get_object())
        table = request.query_params.get("table", "")
        body = export.report_csv(selectors.evaluation_result(evaluation), table)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{_filename(evaluation, f"-{table}.csv")}"'
        return response


class ModelDocumentViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The model document of a version (purpose, data, quality, features, card or parameters,
    training, evaluation, stability, reason codes, approvals), as HTML or PDF."""

    permission_classes = [HasPerms.of(*DOCUMENT_PERMS)]
    content_negotiation_class = FormatIsData
    lookup_value_regex = r"\d+"
    extra_query_params = ("lang",)

    def get_queryset(self):
        return model_selectors.versions()

    @extend_schema(
        operation_id="model_documents_retrieve",
        filters=False,
        parameters=[
            OpenApiParameter("format", str, enum=list(FORMATS), description="html (default) or pdf."),
            OpenApiParameter(
                "lang",
                str,
                enum=[code for code, _name in settings.LANGUAGES],
                description="The document's language; default: the request's (Accept-Language).",
            ),
        ],
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "text/html"): OpenApiTypes.STR,
        },
    )
    def retrieve(self, request, pk=None):
        """The version's model document: an HTML page, or with ``format=pdf`` a PDF attachment
        named ``<model>-v<N>-document-<lang>.pdf``."""
        version = self.get_object()
        fmt, lang = document_options(request.query_params.get("format"), request.query_params.get("lang"))
        return document_response(request._request, version, fmt, lang)
