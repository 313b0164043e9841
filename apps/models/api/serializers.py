"""Registry API serializers (the seed's Model and ModelVersion shapes, camelCase)."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.serializers import StrictSerializer

from ..models import Model, ModelVersion, VersionEvent
from ..selectors import lineage


class ModelSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    version_count = serializers.IntegerField(read_only=True, default=0)
    latest_version = serializers.IntegerField(read_only=True, allow_null=True, default=None)

    class Meta:
        model = Model
        fields = [
            "id",
            "name",
            "type",
            "algorithm",
            "description",
            "parameters",
            "status",
            "version_count",
            "latest_version",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ModelVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    model_name = serializers.CharField(source="model.name", read_only=True)
    lineage = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "model",
            "model_name",
            "version",
            "status",
            "changelog",
            "algorithm",
            "objective",
            "metrics",
            "parameters",
            "test_results",
            "artifact_format",
            "size",
            "checksum",
            "signature",
            "feature_schema",
            "lineage",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_lineage(self, version: ModelVersion) -> dict:
        return lineage(version)


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RollbackSerializer(ReasonSerializer):
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="Default: the previous active one."
    )


class VersionEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)
    version = serializers.IntegerField(source="version.version", read_only=True)
    version_id = serializers.IntegerField(read_only=True)
    previous_active = serializers.IntegerField(source="previous_active.version", read_only=True, default=None)

    class Meta:
        model = VersionEvent
        fields = [
            "id",
            "action",
            "version",
            "version_id",
            "from_status",
            "to_status",
            "previous_active",
            "reason",
            "actor",
            "created_at",
        ]
