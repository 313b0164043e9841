"""Registry API serializers (the seed's Model and ModelVersion shapes, camelCase)."""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.serializers import StrictSerializer
from apps.tasks.models import Priority

from ..models import (
    BatchPrediction,
    Model,
    ModelType,
    ModelVersion,
    PredictionLog,
    PromotionRequest,
    VersionEvent,
)
from ..selectors import lineage
from ..training import ALGORITHMS, OBJECTIVES, SPLITS


class ModelSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    version_count = serializers.IntegerField(read_only=True, default=0)
    latest_version = serializers.IntegerField(read_only=True, allow_null=True, default=None)
    active_version = serializers.IntegerField(read_only=True, allow_null=True, default=None)
    ab_version = serializers.IntegerField(source="ab_version.version", read_only=True, default=None)

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
            "active_version",
            "ab_version",
            "ab_percent",
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
            "source",
            "review_required",
            "review_reason",
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
            "details",
            "actor",
            "created_at",
        ]


class ModelCreateSerializer(StrictSerializer):
    name = serializers.RegexField(r"^[\w.\-]{1,100}$", help_text="Letters, digits, _ . - (up to 100).")
    type = serializers.ChoiceField(choices=ModelType.choices)
    algorithm = serializers.CharField(max_length=50)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    parameters = serializers.DictField(required=False, default=dict)


class UploadSerializer(StrictSerializer):
    model = serializers.CharField(max_length=100, help_text="The model's id or name.")
    version = serializers.IntegerField(min_value=1, required=False, help_text="Default: the next number.")
    file = serializers.FileField(help_text="A LightGBM text model or a skops file; never a pickle.")
    features = serializers.JSONField(required=False, help_text="Feature names, in the model's order.")
    changelog = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")

    def validate_features(self, value):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise serializers.ValidationError(gettext("A JSON list of feature names."))
        return value


class PredictRequestSerializer(StrictSerializer):
    """One ``record`` or a list of ``records`` (keys are feature names, as trained)."""

    record = serializers.DictField(required=False)
    records = serializers.ListField(child=serializers.JSONField(), required=False)
    entity_key = serializers.CharField(
        max_length=200, required=False, help_text="A/B: the same key always gets the same version."
    )
    top_reasons = serializers.IntegerField(
        min_value=0,
        max_value=20,
        required=False,
        help_text=(
            "Reasons per record (0: none), for models that give them. Default: 4 for one `record`, "
            "0 for `records` (a LightGBM's TreeSHAP costs about 1 ms a record)."
        ),
    )


class DecisionReasonSerializer(serializers.Serializer):
    feature = serializers.CharField()
    value = serializers.JSONField(allow_null=True)
    code = serializers.CharField(
        allow_blank=True, help_text="From the reason dictionary; blank when it has none."
    )
    text = serializers.CharField(help_text="In the request's language.")
    contribution = serializers.FloatField(
        required=False, help_text="Towards the event, in log-odds (a regression: in the label's unit)."
    )
    bin = serializers.CharField(required=False, help_text="Scorecards: the record's bin.")
    points = serializers.FloatField(required=False, help_text="Scorecards: the points of that bin.")
    lost = serializers.FloatField(required=False, help_text="Scorecards: points lost against the best bin.")


class PredictResponseSerializer(serializers.Serializer):
    request_id = serializers.CharField()
    model_id = serializers.IntegerField()
    model = serializers.CharField()
    version = serializers.IntegerField()
    version_id = serializers.IntegerField()
    arm = serializers.CharField()
    scores = serializers.ListField(child=serializers.JSONField())
    labels = serializers.ListField(child=serializers.JSONField(), required=False)
    points = serializers.ListField(
        child=serializers.FloatField(), required=False, help_text="Scorecards: each record's points."
    )
    reasons = serializers.ListField(
        child=DecisionReasonSerializer(many=True),
        required=False,
        help_text="Per record, the features that pushed it towards the event the most, largest first.",
    )
    cached = serializers.BooleanField()
    latency_ms = serializers.FloatField()


class ABSerializer(StrictSerializer):
    version = serializers.IntegerField(
        min_value=1, allow_null=True, help_text="Version number of B; null ends it."
    )
    percent = serializers.IntegerField(min_value=0, max_value=100)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReasonRequiredSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


class PromotionRequestSerializer(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    model = serializers.CharField(source="version.model.name", read_only=True)
    model_id = serializers.IntegerField(source="version.model_id", read_only=True)
    version_number = serializers.IntegerField(source="version.version", read_only=True)

    class Meta:
        model = PromotionRequest
        fields = [
            "id",
            "model",
            "model_id",
            "version",
            "version_number",
            "status",
            "reason",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_reason",
        ]
        read_only_fields = fields


class PredictionLogSerializer(serializers.ModelSerializer):
    version_number = serializers.IntegerField(source="version.version", read_only=True)
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = PredictionLog
        fields = [
            "id",
            "request_id",
            "version",
            "version_number",
            "arm",
            "entity_key",
            "records",
            "inputs",
            "scores",
            "reasons",
            "latency_ms",
            "user",
            "created_at",
        ]
        read_only_fields = fields


class BatchRequestSerializer(StrictSerializer):
    dataset = serializers.IntegerField(min_value=1)
    dataset_version = serializers.IntegerField(
        min_value=1, required=False, help_text="Default: newest validated."
    )
    version = serializers.IntegerField(min_value=1, required=False, help_text="Default: the active version.")
    priority = serializers.CharField(max_length=10, required=False, default="medium")


class BatchPredictionSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="version.model.name", read_only=True)
    version_number = serializers.IntegerField(source="version.version", read_only=True)
    dataset = serializers.CharField(source="dataset_version.dataset.name", read_only=True)
    dataset_version_number = serializers.IntegerField(source="dataset_version.version", read_only=True)
    download = serializers.SerializerMethodField()

    class Meta:
        model = BatchPrediction
        fields = [
            "id",
            "task",
            "model",
            "version",
            "version_number",
            "dataset",
            "dataset_version",
            "dataset_version_number",
            "rows",
            "size",
            "download",
            "created_at",
        ]
        read_only_fields = fields

    def get_download(self, obj: BatchPrediction) -> str:
        return f"/api/batch-predictions/{obj.pk}/download"


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]})
class EventValueField(serializers.Field):
    """A label value: text, a number or true/false, as the label column holds it."""

    def to_internal_value(self, data):
        if isinstance(data, bool | int | float) or (isinstance(data, str) and 0 < len(data) <= 200):
            return data
        raise serializers.ValidationError(gettext("Give the event value as text, a number or true/false."))

    def to_representation(self, value):
        return value


class TrainingRequestSerializer(StrictSerializer):
    """``POST /api/tasks/training``. Either a feature set or feature columns (or neither:
    every numeric and categorical column but the label, time and key columns)."""

    name = serializers.CharField(max_length=100, help_text="Model name; a new version is added if it exists.")
    task_name = serializers.CharField(max_length=200, required=False)
    dataset = serializers.IntegerField(min_value=1, required=False)
    dataset_version = serializers.IntegerField(
        min_value=1, required=False, help_text="Default: the newest validated version."
    )
    feature_set = serializers.IntegerField(min_value=1, required=False)
    features = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=5000, allow_empty=False
    )
    label = serializers.CharField(max_length=200, required=False)
    algorithm = serializers.ChoiceField(choices=ALGORITHMS, default="lightgbm")
    objective = serializers.ChoiceField(
        choices=OBJECTIVES, required=False, help_text="Default: from the label."
    )
    params = serializers.DictField(required=False, default=dict)
    event_value = EventValueField(
        required=False,
        help_text=(
            "The binary label's event (positive) value, e.g. `bad` or 1: scores are its probability. "
            "Default: 1, true, bad, default, 违约, 逾期... when the label holds one of them, "
            "else the minority class."
        ),
    )
    reference_dataset = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text=(
            "Logistic regression: the dataset whose rows reasons compare each record with (a reference "
            "population, e.g. approved applicants). Default: the training rows."
        ),
    )
    reference_dataset_version = serializers.IntegerField(
        min_value=1, required=False, help_text="Default: the newest validated version."
    )
    base_version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="A scorecard version to refit with `edits` (its params are kept).",
    )
    edits = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        max_length=200,
        help_text=(
            "Bin edits for a scorecard refit: {feature, breaks: [..]}, {feature, merge: [i, i+1]}, "
            "{feature, split: {bin, at}}, {feature, groups: [[..], ..]}, {feature, include: bool}."
        ),
    )
    split = serializers.ChoiceField(choices=SPLITS, required=False)
    time_column = serializers.CharField(max_length=200, required=False)
    validation_share = serializers.FloatField(min_value=0.05, max_value=0.5, default=0.2)
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=42)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.MEDIUM)
    resource_config = serializers.DictField(required=False, default=dict)

    def validate(self, attrs):
        if "dataset" not in attrs and "feature_set" not in attrs:
            raise serializers.ValidationError(
                {"dataset": [gettext("A dataset (or a feature set) is required.")]}
            )
        return attrs
