"""Feature center API serializers (the seed's Feature shape, camelCase)."""

from __future__ import annotations

import json

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.serializers import StrictModelSerializer, StrictSerializer

from ..filters import TAG_RE
from ..models import FEATURE_NAME_RE, Feature, FeatureSet, FeatureType, FeatureVersion

MAX_METADATA_BYTES = 32 * 1024


class TagListField(serializers.ListField):
    child = serializers.RegexField(
        TAG_RE.pattern,
        max_length=50,
        error_messages={"invalid": gettext_lazy("Tags are 1-50 letters, digits, _ - . or :.")},
    )

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def to_representation(self, data) -> list[str]:
        # A feature's tags arrive as a (prefetched) related manager of Tag rows.
        names = [t.name for t in data.all()] if hasattr(data, "all") else list(data)
        return sorted(names)


class FeatureSerializer(StrictModelSerializer):
    name = serializers.RegexField(
        FEATURE_NAME_RE,
        max_length=100,
        error_messages={
            "invalid": gettext_lazy("Start with a letter; then letters, digits or _ (at most 100).")
        },
    )
    version = serializers.SerializerMethodField()
    tags = TagListField(required=False, default=list)
    shape = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=8, required=False, default=list
    )
    metadata = serializers.DictField(required=False, default=dict)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Feature
        fields = [
            "id",
            "name",
            "display_name",
            "description",
            "type",
            "data_type",
            "shape",
            "version",
            "tags",
            "metadata",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_version(self, obj) -> str:
        return str(obj.version)

    def validate_metadata(self, value: dict) -> dict:
        if len(json.dumps(value, ensure_ascii=False)) > MAX_METADATA_BYTES:
            raise serializers.ValidationError(
                _("At most %(size)d KiB of metadata.") % {"size": MAX_METADATA_BYTES // 1024}
            )
        return value


class FeatureVersionSerializer(serializers.ModelSerializer):
    dataset = serializers.IntegerField(source="dataset_version.dataset_id", read_only=True, allow_null=True)
    dataset_version = serializers.IntegerField(
        source="dataset_version.version", read_only=True, allow_null=True
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = FeatureVersion
        fields = [
            "id",
            "version",
            "type",
            "data_type",
            "shape",
            "metadata",
            "statistics",
            "dataset",
            "dataset_version",
            "source_column",
            "change_note",
            "created_by",
            "created_at",
        ]


class FeatureSetRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = FeatureSet
        fields = ["id", "name", "version", "locked_at"]


class FeatureDetailSerializer(FeatureSerializer):
    statistics = serializers.SerializerMethodField()
    feature_sets = serializers.SerializerMethodField()

    class Meta(FeatureSerializer.Meta):
        fields = [*FeatureSerializer.Meta.fields, "statistics", "feature_sets"]

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_statistics(self, obj) -> dict | None:
        current = obj.current_version()
        return current.statistics if current else None

    @extend_schema_field(FeatureSetRefSerializer(many=True))
    def get_feature_sets(self, obj) -> list[dict]:
        sets = FeatureSet.objects.filter(items__feature_version__feature=obj).distinct()
        return FeatureSetRefSerializer(sets, many=True).data


class DatasetVersionRefSerializer(StrictSerializer):
    dataset = serializers.IntegerField(min_value=1)
    version = serializers.IntegerField(min_value=1, required=False, help_text="Default: newest validated.")


class ColumnChoiceSerializer(StrictSerializer):
    column = serializers.CharField(max_length=200)
    name = serializers.RegexField(FEATURE_NAME_RE, max_length=100, required=False)
    display_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    type = serializers.ChoiceField(choices=FeatureType.choices, required=False)
    tags = TagListField(required=False, default=list)


class FeatureSetSpecSerializer(StrictSerializer):
    name = serializers.RegexField(r"^[\w\-.]{1,100}$", max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class RegisterSerializer(DatasetVersionRefSerializer):
    columns = ColumnChoiceSerializer(many=True, allow_empty=False, max_length=2000)
    tags = TagListField(required=False, default=list)
    feature_set = FeatureSetSpecSerializer(required=False)

    def validate_columns(self, value):
        names = [c.get("name") or c["column"] for c in value]
        if len(set(names)) != len(names):
            raise serializers.ValidationError(_("Each column may be registered once, under a distinct name."))
        return value


class FeatureSetSerializer(StrictModelSerializer):
    features = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Feature.objects.all(),
        write_only=True,
        help_text="Feature ids (current versions).",
    )
    items = serializers.SerializerMethodField()
    dataset = serializers.IntegerField(write_only=True, min_value=1)
    dataset_version = serializers.IntegerField(write_only=True, min_value=1, required=False)
    source = serializers.SerializerMethodField()
    is_locked = serializers.BooleanField(read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = FeatureSet
        fields = [
            "id",
            "name",
            "version",
            "description",
            "label_column",
            "features",
            "items",
            "dataset",
            "dataset_version",
            "source",
            "is_locked",
            "locked_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "version", "locked_at", "created_at", "updated_at"]
        extra_kwargs = {"name": {"validators": []}}
        validators = []  # the service numbers versions: (name, version) is unique by construction

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_items(self, obj) -> list[dict]:
        return [
            {
                "feature": item.feature_version.feature_id,
                "name": item.feature_version.feature.name,
                "version": str(item.feature_version.version),
                "type": item.feature_version.type,
            }
            for item in obj.items.select_related("feature_version__feature")
        ]

    @extend_schema_field(serializers.DictField())
    def get_source(self, obj) -> dict:
        return {"dataset": obj.dataset_version.dataset_id, "version": obj.dataset_version.version}
