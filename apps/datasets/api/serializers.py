"""Datasets API serializers."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.serializers import StrictSerializer

from ..models import Dataset, DatasetKind, DatasetRecord, DatasetVersion

ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "gb18030", "gb2312", "big5", "latin-1"]


class DatasetUploadSerializer(StrictSerializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    name = serializers.RegexField(
        r"^[^\x00-\x1f/\\]{1,100}$",
        max_length=100,
        error_messages={"invalid": "1-100 characters, without slashes or control characters."},
    )
    kind = serializers.ChoiceField(choices=DatasetKind.choices, default=DatasetKind.TABULAR)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    label_column = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    time_column = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    key_columns = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list, max_length=20
    )
    encoding = serializers.ChoiceField(choices=ENCODINGS, required=False, allow_blank=True, default="")

    def validate_name(self, value: str) -> str:
        return value.strip()

    def validate(self, attrs):
        if attrs["kind"] == DatasetKind.BANK_RECORDS and (
            attrs["label_column"] or attrs["time_column"] or attrs["key_columns"]
        ):
            raise serializers.ValidationError(
                {"labelColumn": ["Bank-records datasets take no label, time or key columns."]}
            )
        return attrs


class DatasetVersionSerializer(serializers.ModelSerializer):
    dataset_name = serializers.CharField(source="dataset.name", read_only=True)
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


class DatasetVersionDetailSerializer(DatasetVersionSerializer):
    class Meta(DatasetVersionSerializer.Meta):
        fields = [*DatasetVersionSerializer.Meta.fields, "validation_result"]


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


class DatasetRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = DatasetRecord
        fields = [
            "line_number",
            "bank_name",
            "bank_code",
            "clearing_code",
            "fields",
            "is_valid",
            "error_message",
        ]


class ArchiveSerializer(StrictSerializer):
    archived = serializers.BooleanField(default=True)
