"""Datasets API: upload, list, versions, quality report, records, archive, delete."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from apps.users.permissions import HasPerms

from .. import selectors, services, texts
from ..errors import FileTooLarge
from ..filters import DatasetFilter, DatasetRecordFilter
from ..models import DatasetKind, DatasetStatus
from .serializers import (
    ArchiveSerializer,
    DatasetDetailSerializer,
    DatasetRecordSerializer,
    DatasetSerializer,
    DatasetSettingsSerializer,
    DatasetUploadSerializer,
    DatasetVersionDetailSerializer,
    DatasetVersionSerializer,
    ValidateRequestSerializer,
)

VERSION_PARAM = OpenApiParameter(
    "version", {"type": "integer", "minimum": 1}, description="Version number (default: newest validated)."
)
KIND_PARAM = OpenApiParameter(
    "kind",
    str,
    enum=sorted(texts.KIND_LABELS),
    description="Only lines with a problem or warning of this kind.",
)


def _version_number(request) -> int | None:
    raw = request.query_params.get("version")
    if raw in (None, ""):
        return None
    try:
        number = int(raw)
    except ValueError:
        raise ValidationError({"version": [_("Must be an integer.")]}) from None
    if number < 1:
        raise ValidationError({"version": [_("Must be 1 or more.")]})
    return number


class DatasetViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Datasets and their versions. Upload with multipart POST; validation runs as a task.
    PATCH changes a dataset's settings (description, code scheme; admins: the warnings
    treated as errors)."""

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    serializer_class = DatasetSerializer
    filterset_class = DatasetFilter
    extra_query_params = ("version",)
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]

    def get_queryset(self):
        queryset = selectors.datasets_with_latest()
        if self.action == "list" and "archived" not in self.request.query_params:
            queryset = queryset.filter(is_archived=False)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                "versions__created_by", "versions__dataset", "versions__task"
            )
        return queryset

    def get_serializer_class(self):
        if self.action == "retrieve":
            return DatasetDetailSerializer
        if self.action == "create":
            return DatasetUploadSerializer
        if self.action == "partial_update":
            return DatasetSettingsSerializer
        return DatasetSerializer

    def get_permissions(self):
        if self.action in ("archive", "partial_update"):
            return [HasPerms.of("datasets.change_dataset")()]
        if self.action == "validate":
            return [HasPerms.of("datasets.change_dataset", "tasks.add_task")()]
        if self.action in ("versions", "version_detail", "quality", "records"):
            return [HasPerms.of("datasets.view_dataset")()]
        return super().get_permissions()

    @extend_schema(
        request={"multipart/form-data": DatasetUploadSerializer},
        responses={201: DatasetVersionSerializer, 200: DatasetVersionSerializer, 413: OpenApiTypes.OBJECT},
        description="Upload CSV/TXT/XLSX. The same bytes again answer the existing version (200).",
    )
    def create(self, request, *args, **kwargs):
        limit = settings.OMM_MAX_UPLOAD_BYTES
        # Refuse before the body is read when the client says how big it is.
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit + 64 * 1024:
            raise FileTooLarge(limit=limit)
        serializer = DatasetUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        version, created = services.dataset_upload(
            name=data["name"],
            kind=data["kind"],
            file=data["file"],
            original_name=data["file"].name,
            user=request.user,
            description=data["description"],
            label_column=data["label_column"],
            time_column=data["time_column"],
            key_columns=data["key_columns"],
            declared_encoding=data["encoding"],
            code_scheme=data["code_scheme"],
            engine=data["engine"],
        )
        response = Response(
            DatasetVersionSerializer(version).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
        names = {"name": version.dataset.name, "number": version.version}
        response.message = (
            _("Uploaded as %(name)s v%(number)s; validation queued.") % names
            if created
            else _("These bytes were already uploaded as %(name)s v%(number)s.") % names
        )
        return response

    @extend_schema(request=DatasetSettingsSerializer, responses=DatasetSerializer)
    def partial_update(self, request, *args, **kwargs):
        serializer = DatasetSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "error_rules" in data and not (
            request.user.is_superuser or getattr(request.user, "is_admin_role", False)
        ):
            raise PermissionDenied(_("Only admins choose which warnings count as errors."))
        dataset = services.dataset_settings_update(dataset=self.get_object(), **data)
        response = Response(DatasetSerializer(selectors.datasets_with_latest().get(pk=dataset.pk)).data)
        response.message = _("Saved. Validate a version again to apply the settings to its lines.")
        return response

    def _dataset(self):
        """The dataset of a detail action, without running the action's own filters on it."""
        dataset = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, dataset)
        return dataset

    def destroy(self, request, *args, **kwargs):
        services.dataset_delete(dataset=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ArchiveSerializer, responses=DatasetSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        serializer = ArchiveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dataset = services.dataset_set_archived(
            dataset=self.get_object(), archived=serializer.validated_data["archived"]
        )
        response = Response(DatasetSerializer(selectors.datasets_with_latest().get(pk=dataset.pk)).data)
        response.message = _("Archived.") if dataset.is_archived else _("Restored.")
        return response

    @extend_schema(responses=DatasetVersionSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filterset_class=None)
    def versions(self, request, pk=None):
        versions = selectors.versions_of(self._dataset())
        page = self.paginate_queryset(versions)
        return self.get_paginated_response(DatasetVersionSerializer(page, many=True).data)

    @extend_schema(responses=DatasetVersionDetailSerializer, filters=False)
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>\d+)", filterset_class=None)
    def version_detail(self, request, pk=None, number=None):
        version = selectors.version_numbered(self._dataset(), int(number))
        if version is None:
            raise NotFound()
        return Response(DatasetVersionDetailSerializer(version).data)

    @extend_schema(
        request=ValidateRequestSerializer,
        responses={
            201: inline_serializer(
                "QueuedValidation",
                {"task_id": serializers.IntegerField(), "dataset_version_id": serializers.IntegerField()},
            )
        },
        filters=False,
        description="Validate a stored version again under the dataset's current settings (a new task).",
    )
    @action(
        detail=True, methods=["post"], url_path=r"versions/(?P<number>\d+)/validate", filterset_class=None
    )
    def validate(self, request, pk=None, number=None):
        version = selectors.version_numbered(self._dataset(), int(number))
        if version is None:
            raise NotFound()
        serializer = ValidateRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = services.dataset_version_revalidate(
            version=version, user=request.user, engine=serializer.validated_data["engine"]
        )
        response = Response(
            {"taskId": task.pk, "datasetVersionId": version.pk}, status=status.HTTP_201_CREATED
        )
        response.message = _("Validation of %(version)s queued (task #%(task)s).") % {
            "version": version,
            "task": task.pk,
        }
        return response

    @extend_schema(parameters=[VERSION_PARAM], responses=OpenApiTypes.OBJECT, filters=False)
    @action(detail=True, methods=["get"], filterset_class=None)
    def quality(self, request, pk=None):
        """Tabular: the data quality report. Bank records: lines valid, invalid and with
        warnings, per problem and warning kind and per code scheme."""
        dataset = self._dataset()
        version = selectors.dataset_version(dataset, _version_number(request))
        if version is None:
            raise NotFound(_("No such version."))
        if version.status != DatasetStatus.VALIDATED:
            raise NotFound(
                _("Version %(number)s is %(status)s; its report is not available.")
                % {"number": version.version, "status": version.get_status_display()}
            )
        if dataset.kind == DatasetKind.BANK_RECORDS:
            return Response(
                {"dataset": dataset.pk, "version": version.version, **selectors.records_quality(version)}
            )
        return Response(
            {"dataset": dataset.pk, "version": version.version, **texts.quality_shown(version.quality)}
        )

    @extend_schema(
        responses=DatasetRecordSerializer(many=True),
        filters=False,
        parameters=[
            VERSION_PARAM,
            OpenApiParameter("isValid", bool, description="Only valid (true) or invalid (false) lines."),
            KIND_PARAM,
            OpenApiParameter(
                "hasWarnings", bool, description="Only lines with (true) or without (false) warnings."
            ),
            OpenApiParameter(
                "scheme", str, enum=["cnaps", "bic", "national"], description="Only lines in this scheme."
            ),
            OpenApiParameter("search", str, description="Search bank name, codes and error message."),
            OpenApiParameter("ordering", str, enum=["line_number", "-line_number"]),
            OpenApiParameter("page", int),
            OpenApiParameter("pageSize", int),
        ],
    )
    @action(
        detail=True,
        methods=["get"],
        filterset_class=DatasetRecordFilter,
        search_fields=["bank_name", "bank_code", "clearing_code", "bic", "city", "error_message"],
        ordering_fields=["line_number"],
    )
    def records(self, request, pk=None):
        dataset = self._dataset()
        if dataset.kind != DatasetKind.BANK_RECORDS:
            raise ValidationError({"kind": [_("Only bank-records datasets have records.")]})
        version = selectors.dataset_version(dataset, _version_number(request))
        if version is None:
            raise NotFound(_("No such version."))
        queryset = self.filter_queryset(version.records.order_by("line_number"))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(DatasetRecordSerializer(page, many=True).data)
