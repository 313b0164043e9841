"""Registry API: the seed's /api/models, upload, versions with lineage, lifecycle and
approvals, A/B, predictions and batch predictions, traceability and reproduction."""

from __future__ import annotations

import datetime

from django.http import FileResponse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from apps.core.api.renderers import AsBuiltRenderer
from apps.core.api.seed import SeedProfileRenderer
from apps.core.errors import Conflict
from apps.tasks.serializers import TaskSerializer
from apps.users.authentication import RoleClaimJWTAuthentication
from apps.users.permissions import HasPerms

from .. import batch, selectors, services, serving, training, training_tasks
from ..filters import ModelFilter, ModelVersionFilter
from ..models import LIFECYCLE_PERM, Model, ModelVersion, VersionStatus
from .decisions import BoundedPagination, DecisionReaders, DecisionSerializer, decisions
from .registration import RegistrationMixin
from .scorecards import VersionRiskActionsMixin
from .serializers import (
    ABSerializer,
    ABStateSerializer,
    BatchPredictionSerializer,
    BatchRequestSerializer,
    ModelSerializer,
    ModelVersionSerializer,
    PredictRequestSerializer,
    PredictResponseSerializer,
    PromotionRequestSerializer,
    ReasonRequiredSerializer,
    ReasonSerializer,
    RollbackSerializer,
    VersionEventSerializer,
)


def _changed(version: ModelVersion, message: str) -> Response:
    """The version a lifecycle change left, with ``message`` (translated, formatted with ``version``)."""
    version = selectors.versions().get(pk=version.pk)
    response = Response(ModelVersionSerializer(version).data)
    response.message = message % {"version": version}
    return response


def _numbered(model: Model, number: int) -> ModelVersion:
    """The model's version ``number``; a request naming one it lacks is invalid."""
    version = model.versions.filter(version=number).first()
    if version is None:
        raise ValidationError(
            {
                "version": [
                    gettext("%(model)s has no version %(number)s.") % {"model": model, "number": number}
                ]
            }
        )
    return version


def _entity_keys(keys, records) -> list[str]:
    """``entityKeys`` of a predict request: one string or integer of at most 200 characters per
    record of ``records``."""
    ok = isinstance(keys, list) and all(
        isinstance(k, str | int) and not isinstance(k, bool) and 0 < len(str(k)) <= 200 for k in keys
    )
    if not ok:
        raise ValidationError(
            {"entityKeys": [gettext("A list of strings or integers of at most 200 characters.")]}
        )
    if isinstance(records, list) and len(keys) != len(records):
        raise ValidationError(
            {
                "entityKeys": [
                    gettext("%(keys)s keys for %(records)s records: give one per record.")
                    % {"keys": len(keys), "records": len(records)}
                ]
            }
        )
    return [str(k) for k in keys]


class ModelViewSet(
    RegistrationMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Registered models; their versions are under ``/versions``; scoring under ``/predict``.
    With `Accept: application/json; profile=seed` ids and version numbers are text, as the
    seed design types them."""

    serializer_class = ModelSerializer
    renderer_classes = [SeedProfileRenderer]
    filterset_class = ModelFilter
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]
    lookup_value_regex = r"\d+"

    extra_query_params = ("at",)

    def get_queryset(self):
        return selectors.models_with_latest()

    def get_permissions(self):
        if self.action in ("rollback", "archive") or (self.action == "ab" and self.request.method == "PUT"):
            return [HasPerms.of(LIFECYCLE_PERM)()]
        if self.action == "upload":
            return [HasPerms.of("models.add_modelversion")()]
        if self.action == "batch_predictions" and self.request.method == "POST":
            return [HasPerms.of("models.add_batchprediction")()]
        return super().get_permissions()

    @extend_schema(
        request=PredictRequestSerializer,
        responses=PredictResponseSerializer,
        filters=False,
        operation_id="models_predict",
    )
    @action(
        detail=True,
        methods=["post"],
        filterset_class=None,
        parser_classes=[JSONParser],  # feature names are data: never re-cased
        renderer_classes=[AsBuiltRenderer],
        authentication_classes=[RoleClaimJWTAuthentication, SessionAuthentication],
        permission_classes=[HasPerms.of("models.add_predictionlog")],
    )
    def predict(self, request, pk=None):
        """Score one ``record`` or a batch of ``records`` with the active version (or its A/B split)."""
        body = request.data
        if not isinstance(body, dict):
            raise ValidationError({"records": [gettext("Send an object with record or records.")]})
        unknown = set(body) - {"record", "records", "entityKey", "entityKeys", "topReasons"}
        if unknown:
            raise ValidationError({name: [gettext("Unknown field.")] for name in sorted(unknown)})
        if ("record" in body) == ("records" in body):
            raise ValidationError(
                {"records": [gettext("Give either record (one object) or records (a list).")]}
            )
        records = [body["record"]] if "record" in body else body["records"]
        key = body.get("entityKey")
        if key is not None and (
            not isinstance(key, str | int) or isinstance(key, bool) or len(str(key)) > 200
        ):
            raise ValidationError({"entityKey": [gettext("A string or integer of at most 200 characters.")]})
        keys = body.get("entityKeys")
        if keys is not None:
            keys = _entity_keys(keys, records)
        # One record gets its reasons unless told otherwise; a list only when asked (TreeSHAP
        # costs about a millisecond a record for a 200-tree LightGBM).
        top = body.get("topReasons", training.DEFAULT_TOP_REASONS if "record" in body else 0)
        if not isinstance(top, int) or isinstance(top, bool) or not 0 <= top <= training.MAX_TOP_REASONS:
            raise ValidationError(
                {"topReasons": [gettext("An integer from 0 to %(max)s.") % {"max": training.MAX_TOP_REASONS}]}
            )
        answer = serving.predict(
            model_id=int(pk),
            records=records,
            entity_key=None if key is None else str(key),
            user=request.user,
            top_reasons=top,
            entity_keys=keys,
        )
        response = Response(answer)
        response.message = gettext("Scored.")
        return response

    @extend_schema(request=ABSerializer, responses=ABStateSerializer, filters=False)
    @action(detail=True, methods=["get", "put"], filterset_class=None)
    def ab(self, request, pk=None):
        """The A/B split (B's version and share) and requests answered per version; PUT sets it."""
        model = self.get_object()
        if request.method == "PUT":
            serializer = ABSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            number = serializer.validated_data["version"]
            model = services.ab_set(
                model=model,
                version=None if number is None else _numbered(model, number),
                percent=serializer.validated_data["percent"],
                user=request.user,
                reason=serializer.validated_data["reason"],
            )
        response = Response(selectors.ab_state(model))
        response.message = gettext("A/B split updated.") if request.method == "PUT" else ""
        return response

    @extend_schema(request=ReasonRequiredSerializer, responses=ModelSerializer, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def archive(self, request, pk=None):
        """Retire the model: its active version stops serving and nothing can be promoted."""
        model = self.get_object()
        serializer = ReasonRequiredSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.model_archive(model=model, user=request.user, reason=serializer.validated_data["reason"])
        response = Response(ModelSerializer(selectors.models_with_latest().get(pk=model.pk)).data)
        response.message = gettext("Archived %(model)s.") % {"model": model.name}
        return response

    @extend_schema(responses=DecisionSerializer(many=True), filters=False)
    @action(
        detail=True,
        methods=["get"],
        filterset_class=None,
        permission_classes=[DecisionReaders],
        pagination_class=BoundedPagination,
    )
    def predictions(self, request, pk=None):
        """This model's decision log (every scored record), newest first, with the version
        that answered; search it at /api/decisions."""
        model = self.get_object()
        page = self.paginate_queryset(decisions().filter(model_id=model.pk))
        return self.get_paginated_response(DecisionSerializer(page, many=True).data)

    @extend_schema(methods=["GET"], responses=BatchPredictionSerializer(many=True), filters=False)
    @extend_schema(
        methods=["POST"], request=BatchRequestSerializer, responses={201: TaskSerializer}, filters=False
    )
    @action(detail=True, methods=["get", "post"], url_path="batch-predictions", filterset_class=None)
    def batch_predictions(self, request, pk=None):
        """GET: this model's batch predictions. POST: score a whole dataset version as a task."""
        model = self.get_object()
        if request.method == "GET":
            rows = selectors.batch_predictions().filter(version__model=model)
            page = self.paginate_queryset(rows)
            return self.get_paginated_response(BatchPredictionSerializer(page, many=True).data)
        serializer = BatchRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "version" in data:
            version = _numbered(model, data["version"])
        else:
            version = model.versions.filter(status=VersionStatus.ACTIVE).first()
            if version is None:
                raise Conflict(
                    gettext("%(model)s has no active version; name one with version.") % {"model": model}
                )
        task = batch.batch_create(
            user=request.user,
            request={
                "model_version": version.pk,
                "dataset": data["dataset"],
                "dataset_version": data.get("dataset_version"),
                "engine": data.get("engine"),
            },
            priority=data["priority"],
        )
        response = Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)
        response.message = gettext("Batch prediction queued as task #%(id)s.") % {"id": task.pk}
        return response

    @extend_schema(request=RollbackSerializer, responses=ModelVersionSerializer, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def rollback(self, request, pk=None):
        """Re-activate the previously active version (or ``version``); 409 when there is none."""
        model = self.get_object()
        serializer = RollbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        number = serializer.validated_data.get("version")
        version = services.model_rollback(
            model=model,
            user=request.user,
            reason=serializer.validated_data["reason"],
            to_version=None if number is None else _numbered(model, number),
        )
        return _changed(version, gettext("Rolled back to %(version)s."))

    @extend_schema(responses=VersionEventSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filterset_class=None)
    def events(self, request, pk=None):
        """The model's append-only lifecycle trail, oldest first."""
        model = self.get_object()
        page = self.paginate_queryset(selectors.events(model))
        return self.get_paginated_response(VersionEventSerializer(page, many=True).data)

    @extend_schema(
        responses=ModelVersionSerializer,
        filters=False,
        parameters=[
            OpenApiParameter("at", OpenApiTypes.DATETIME, required=True, description="ISO 8601 time")
        ],
    )
    @action(detail=True, methods=["get"], url_path="active-at", filterset_class=None)
    def active_at(self, request, pk=None):
        """Which version was active at time ``at``; 404 when none was."""
        model = self.get_object()
        raw = request.query_params.get("at", "")
        try:
            when = parse_datetime(raw)  # ValueError: well formed, not a date (month 13)
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise ValidationError(
                {"at": [gettext("An ISO 8601 time with a timezone is required, e.g. 2026-01-31T12:00:00Z.")]}
            )
        # In UTC: PostgreSQL refuses an offset past ±15:59, which Python reads.
        version = selectors.active_version_at(model=model, when=when.astimezone(datetime.UTC))
        if version is None:
            raise NotFound(
                gettext("No version of %(model)s was active at %(at)s.") % {"model": model, "at": raw}
            )
        return Response(ModelVersionSerializer(selectors.versions().get(pk=version.pk)).data)

    @extend_schema(responses=ModelVersionSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filterset_class=None)
    def versions(self, request, pk=None):
        model = self.get_object()
        page = self.paginate_queryset(selectors.versions().filter(model=model).order_by("-version"))
        return self.get_paginated_response(ModelVersionSerializer(page, many=True).data)


class ModelVersionViewSet(
    VersionRiskActionsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Every model version with metrics and lineage (task, data hash, feature set, seed)."""

    serializer_class = ModelVersionSerializer
    filterset_class = ModelVersionFilter
    ordering_fields = ["created_at", "version"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return selectors.versions()

    def get_permissions(self):
        if self.action in ("promote", "deprecate", "clear_review"):
            return [HasPerms.of(LIFECYCLE_PERM)()]
        if self.action in ("reproduce", "refit"):
            return [HasPerms.of("tasks.add_task")()]
        return super().get_permissions()

    @extend_schema(request=ReasonRequiredSerializer, responses=ModelVersionSerializer, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def promote(self, request, pk=None):
        """Make this version active (the previous active one becomes inactive); 409 on conflict.

        With maker-checker on (``models-promotion-approval``) this files a request instead
        (202) that a different admin approves at ``/api/promotion-requests/{id}/approve``.
        """
        version = self.get_object()
        serializer = ReasonRequiredSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        if services.approval_required():
            filed = services.promotion_request(version=version, user=request.user, reason=reason)
            response = Response(PromotionRequestSerializer(filed).data, status=status.HTTP_202_ACCEPTED)
            response.message = gettext(
                "Promotion of %(version)s requested; another admin must approve it."
            ) % {"version": version}
            return response
        version = services.version_activate(version=version, user=request.user, reason=reason)
        return _changed(version, gettext("Promoted %(version)s."))

    @extend_schema(request=ReasonRequiredSerializer, responses=ModelVersionSerializer, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def deprecate(self, request, pk=None):
        """Retire a version that is not active."""
        version = self.get_object()
        serializer = ReasonRequiredSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        version = services.version_deprecate(version=version, user=request.user, reason=reason)
        return _changed(version, gettext("Deprecated %(version)s."))

    @extend_schema(request=ReasonRequiredSerializer, responses=ModelVersionSerializer, filters=False)
    @action(detail=True, methods=["post"], url_path="clear-review", filterset_class=None)
    def clear_review(self, request, pk=None):
        """Clear the review flag monitoring set, with what was found."""
        version = self.get_object()
        serializer = ReasonRequiredSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = services.version_review_clear(
            version=version, user=request.user, reason=serializer.validated_data["reason"]
        )
        return _changed(version, gettext("Review of %(version)s cleared."))

    @extend_schema(responses=OpenApiTypes.OBJECT, filters=False)
    # Not named ``trace``: DRF would route the HTTP TRACE method to it and list it in Allow.
    @action(detail=True, methods=["get"], url_path="trace", url_name="trace", filterset_class=None)
    def lineage(self, request, pk=None):
        """Back to the task, data (hash), features, parameters, seed, libraries and creator;
        forward to evaluations, batch predictions, decisions on record and reproductions."""
        return Response(selectors.trace(self.get_object()))

    @extend_schema(request=None, responses={201: TaskSerializer}, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def reproduce(self, request, pk=None):
        """Re-run the training that made this version; the task's result says whether it matches."""
        version = self.get_object()
        task = training_tasks.version_reproduce(version=version, user=request.user)
        response = Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)
        response.message = gettext("Reproduction of %(version)s queued as task #%(id)s.") % {
            "version": version,
            "id": task.pk,
        }
        return response


class PromotionRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Maker-checker promotions: pending, approved, rejected; a different admin decides."""

    serializer_class = PromotionRequestSerializer
    filterset_class = None
    extra_query_params = ("status",)

    def get_queryset(self):
        return selectors.promotion_requests(self.request.query_params.get("status"))

    def get_permissions(self):
        if self.action in ("approve", "reject"):
            return [HasPerms.of(LIFECYCLE_PERM)()]
        return super().get_permissions()

    @extend_schema(request=ReasonSerializer, responses=ModelVersionSerializer, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def approve(self, request, pk=None):
        filed = self.get_object()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = services.promotion_approve(
            request=filed, user=request.user, reason=serializer.validated_data["reason"]
        )
        return _changed(version, gettext("Approved: %(version)s is active."))

    @extend_schema(request=ReasonRequiredSerializer, responses=PromotionRequestSerializer, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def reject(self, request, pk=None):
        filed = self.get_object()
        serializer = ReasonRequiredSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        filed = services.promotion_reject(
            request=filed, user=request.user, reason=serializer.validated_data["reason"]
        )
        response = Response(PromotionRequestSerializer(filed).data)
        response.message = gettext("Promotion rejected.")
        return response


class BatchPredictionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Finished batch predictions and their CSV files."""

    serializer_class = BatchPredictionSerializer
    filterset_class = None

    def get_queryset(self):
        return selectors.batch_predictions()

    @extend_schema(responses={(200, "text/csv"): bytes}, filters=False)
    @action(detail=True, methods=["get"], filterset_class=None)
    def download(self, request, pk=None):
        """The scores as CSV (text cells neutralised against spreadsheet formulas)."""
        row = self.get_object()
        try:
            handle = batch.batch_file_open(row)
        except FileNotFoundError:
            raise NotFound(gettext("The file of this batch prediction is gone.")) from None
        return FileResponse(
            handle,
            as_attachment=True,
            filename=batch.batch_file_name(row),
            content_type="text/csv",
        )
