"""Datasets API serializers."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.serializers import StrictSerializer
from apps.tasks.engines import ENGINES, LOCAL

from .. import texts
from ..models import CodeScheme, Dataset, DatasetKind, DatasetRecord, DatasetVersion, WarningRule

ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "gb18030", "gb2312", "big5", "latin-1"]


ENGINE_HELP = _(
    "Where the quality profile is computed: local (the worker), dask (the Dask cluster, for "
    "tables larger than one machine's memory) or auto (dask from the size in the settings)."
)


class DatasetUploadSerializer(StrictSerializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    name = serializers.RegexField(
        r"^[^\x00-\x1f/\\]{1,100}$",
        max_length=100,
        error_messages={"invalid": _("1-100 characters, without slashes or control characters.")},
    )
    kind = serializers.ChoiceField(choices=DatasetKind.choices, default=DatasetKind.TABULAR)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    label_column = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    time_column = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    key_columns = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list, max_length=20
    )
    encoding = serializers.ChoiceField(choices=ENCODINGS, required=False, allow_blank=True, default="")
    code_scheme = serializers.ChoiceField(
        choices=CodeScheme.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Bank records: how the codes are read (default: detected per line)."),
    )
    engine = serializers.ChoiceField(choices=ENGINES, required=False, default=LOCAL, help_text=ENGINE_HELP)

    def validate_name(self, value: str) -> str:
        return value.strip()

    def validate(self, attrs):
        if attrs["kind"] == DatasetKind.BANK_RECORDS and (
            attrs["label_column"] or attrs["time_column"] or attrs["key_columns"]
        ):
            raise serializers.ValidationError(
                {"labelColumn": [gettext("Bank-records datasets take no label, time or key columns.")]}
            )
        if attrs["kind"] != DatasetKind.BANK_RECORDS and attrs["code_scheme"] not in ("", CodeScheme.AUTO):
            raise serializers.ValidationError(
                {"codeScheme": [gettext("Only bank-records datasets have a code scheme.")]}
            )
        return attrs


class ValidateRequestSerializer(StrictSerializer):
    """What POST /api/datasets/{id}/versions/{number}/validate may say (all optional)."""

    engine = serializers.ChoiceField(choices=ENGINES, required=False, default=LOCAL, help_text=ENGINE_HELP)


class DatasetSettingsSerializer(StrictSerializer):
    """What PATCH /api/datasets/{id} may change."""

    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    code_scheme = serializers.ChoiceField(choices=CodeScheme.choices, required=False)
    error_rules = serializers.ListField(
        child=serializers.ChoiceField(choices=WarningRule.choices),
        required=False,
        max_length=len(WarningRule.values),
        help_text=_("Warning kinds that make a line invalid (admins); validate a version again to apply."),
    )


class DatasetVersionSerializer(serializers.ModelSerializer):
    dataset_name = serializers.CharField(source="dataset.name", read_only=True)
    error_message = serializers.SerializerMethodField(
        help_text=_("Why validation failed, in the request's language.")
    )
    kind = serializers.CharField(source="dataset.kind", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    task_id = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="The ingestion task validating the version (/api/tasks/{id}).",
    )
    validation_started_at = serializers.DateTimeField(
        source="task.started_at", read_only=True, allow_null=True
    )

    class Meta:
        model = DatasetVersion
        fields = [
            "id",
            "dataset",
            "dataset_name",
            "kind",
            "version",
            "status",
            "progress",
            "format",
            "original_filename",
            "file_size",
            "sha256",
            "encoding",
            "delimiter",
            "label_column",
            "time_column",
            "key_columns",
            "row_count",
            "column_count",
            "valid_count",
            "invalid_count",
            "quality_score",
            "error_message",
            "task_id",
            "is_archived",
            "created_by",
            "created_at",
            "validation_started_at",
            "validated_at",
        ]

    def get_error_message(self, obj) -> str:
        return texts.version_error_text(obj)


class DatasetVersionDetailSerializer(DatasetVersionSerializer):
    validation_result = serializers.SerializerMethodField()

    class Meta(DatasetVersionSerializer.Meta):
        fields = [*DatasetVersionSerializer.Meta.fields, "validation_result"]

    @extend_schema_field({"type": "object", "nullable": True})
    def get_validation_result(self, obj) -> dict | None:
        return texts.validation_result_shown(obj.validation_result)


class DatasetLatestSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="latest_version_id")
    version = serializers.IntegerField(source="latest_number")
    status = serializers.CharField(source="latest_status")


class DatasetSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    latest_version = serializers.SerializerMethodField()

    class Meta:
        model = Dataset
        fields = [
            "id",
            "name",
            "kind",
            "description",
            "code_scheme",
            "error_rules",
            "is_archived",
            "created_by",
            "created_at",
            "updated_at",
            "latest_version",
        ]

    @extend_schema_field(DatasetLatestSerializer(allow_null=True))
    def get_latest_version(self, obj) -> dict | None:
        if getattr(obj, "latest_version_id", None) is None:
            return None
        return DatasetLatestSerializer(obj).data


class DatasetDetailSerializer(DatasetSerializer):
    versions = DatasetVersionSerializer(many=True, read_only=True)

    class Meta(DatasetSerializer.Meta):
        fields = [*DatasetSerializer.Meta.fields, "versions"]


class IssueSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=_("Machine-readable kind, e.g. bank_code_format."))
    message = serializers.CharField(help_text=_("What it means, in the request's language."))


class DatasetRecordSerializer(serializers.ModelSerializer):
    error_message = serializers.SerializerMethodField(help_text=_("The problems, in the request's language."))
    problems = serializers.SerializerMethodField(help_text=_("What makes the line invalid."))
    warnings = serializers.SerializerMethodField(help_text=_("Findings that do not make the line invalid."))

    class Meta:
        model = DatasetRecord
        fields = [
            "line_number",
            "bank_name",
            "bank_code",
            "clearing_code",
            "scheme",
            "country",
            "city",
            "bic",
            "address",
            "fields",
            "is_valid",
            "error_message",
            "problems",
            "warnings",
        ]

    def get_error_message(self, obj) -> str:
        return texts.record_error_text(obj)

    @extend_schema_field(IssueSerializer(many=True))
    def get_problems(self, obj) -> list[dict]:
        return texts.issues(obj.problems)

    @extend_schema_field(IssueSerializer(many=True))
    def get_warnings(self, obj) -> list[dict]:
        return texts.issues(obj.warnings)


class ArchiveSerializer(StrictSerializer):
    archived = serializers.BooleanField(default=True)
