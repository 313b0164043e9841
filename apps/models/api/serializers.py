"""Registry API serializers (the seed's Model and ModelVersion shapes, camelCase)."""

from __future__ import annotations

import re

from django.urls import reverse
from django.utils.translation import gettext
from djangorestframework_camel_case.util import camelize
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.seed import (
    JSONObjectField,
    VersionNumberField,
    alias_of,
    split_requested_resources,
    take_aliases,
)
from apps.core.api.serializers import StrictSerializer
from apps.tasks.engines import ENGINES
from apps.tasks.models import Priority

from ..models import (
    BatchPrediction,
    Model,
    ModelType,
    ModelVersion,
    PromotionRequest,
    VersionEvent,
)
from ..selectors import lineage
from ..training import ALGORITHMS, OBJECTIVES, SPLITS


class ModelSerializer(serializers.ModelSerializer):
    """The seed's Model: ``version`` and ``metrics`` are those of the current version (the
    active one, else the newest); ``version`` is text, "" before the first version."""

    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    version = serializers.SerializerMethodField()
    metrics = serializers.SerializerMethodField()
    version_count = serializers.IntegerField(read_only=True, default=0)
    latest_version = serializers.IntegerField(read_only=True, allow_null=True, default=None)
    active_version = serializers.IntegerField(read_only=True, allow_null=True, default=None)
    ab_version = serializers.IntegerField(
        source="ab_version.version", read_only=True, default=None, allow_null=True
    )

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
            "version",
            "metrics",
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

    def get_version(self, model: Model) -> str:
        number = getattr(model, "current_version", None)
        return "" if number is None else str(number)

    @extend_schema_field(serializers.DictField(help_text="The current version's validation metrics."))
    def get_metrics(self, model: Model) -> dict:
        return getattr(model, "current_metrics", None) or {}


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


class ReasonRequiredSerializer(StrictSerializer):
    reason = serializers.CharField(
        max_length=2000, help_text="Why: kept in the model's audit trail with who and when."
    )


class RollbackSerializer(ReasonRequiredSerializer):
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="Default: the previous active one."
    )


class VersionEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)
    version = serializers.IntegerField(source="version.version", read_only=True)
    version_id = serializers.IntegerField(read_only=True)
    previous_active = serializers.IntegerField(
        source="previous_active.version", read_only=True, default=None, allow_null=True
    )

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
    """``POST /api/models``, as JSON, or as a multipart form when it carries ``file``."""

    name = serializers.RegexField(r"^[\w.\-]{1,100}$", help_text="Letters, digits, _ . - (up to 100).")
    type = serializers.ChoiceField(choices=ModelType.choices)
    algorithm = serializers.CharField(max_length=50)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    parameters = JSONObjectField(
        required=False, default=dict, help_text="An object (in a multipart form: its JSON text)."
    )
    version = VersionNumberField(
        required=False,
        help_text=(
            'The number of the version `file` becomes (default 1): 3, "3" or "v3". '
            "Without a file it is checked and not kept: the upload names the version."
        ),
    )
    file = serializers.FileField(
        required=False,
        help_text="A model file registered at once as a version (as POST /api/models/upload).",
    )


class UploadSerializer(StrictSerializer):
    model = serializers.CharField(max_length=100, required=False, help_text="The model's id or name.")
    model_id = serializers.CharField(max_length=100, required=False, help_text=alias_of("model"))
    version = VersionNumberField(required=False, help_text='Default: the next number. 3, "3" or "v3".')
    file = serializers.FileField(help_text="A LightGBM text model or a skops file; never a pickle.")
    features = serializers.JSONField(required=False, help_text="Feature names, in the model's order.")
    changelog = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")

    def validate_features(self, value):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise serializers.ValidationError(gettext("A JSON list of feature names."))
        return value

    def validate(self, attrs):
        attrs = take_aliases(attrs, {"model_id": "model"})
        if "model" not in attrs:
            raise serializers.ValidationError({"model": [gettext("This field is required.")]})
        return attrs


class UploadedVersionSerializer(ModelVersionSerializer):
    """The version an upload made, with the seed's answer to an upload (``fileId``, ``url``, ``size``)."""

    file_id = serializers.SerializerMethodField(help_text="The stored file's id (its version's), as text.")
    url = serializers.SerializerMethodField(help_text="Where the version made from the file is read.")

    class Meta(ModelVersionSerializer.Meta):
        fields = [*ModelVersionSerializer.Meta.fields, "file_id", "url"]
        read_only_fields = fields

    def get_file_id(self, version: ModelVersion) -> str:
        return str(version.pk)

    def get_url(self, version: ModelVersion) -> str:
        return reverse("model-version-detail", args=[version.pk])


class PredictRequestSerializer(StrictSerializer):
    """One ``record`` or a list of ``records`` (keys are feature names, as trained)."""

    record = serializers.DictField(required=False)
    records = serializers.ListField(child=serializers.JSONField(), required=False)
    entity_key = serializers.CharField(
        max_length=200, required=False, help_text="A/B: the same key always gets the same version."
    )
    entity_keys = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text="One key per record of `records`, kept with its decision (A/B follows `entityKey`).",
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


class ABSideSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    version_id = serializers.IntegerField()
    count = serializers.IntegerField()


class ABStateSerializer(serializers.Serializer):
    """The A/B split as GET and PUT /api/models/{id}/ab answer it (``selectors.ab_state``)."""

    model_id = serializers.IntegerField()
    active_version = serializers.IntegerField(allow_null=True)
    ab_version = serializers.IntegerField(allow_null=True)
    ab_percent = serializers.IntegerField()
    requests = ABSideSerializer(many=True)


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


class BatchRequestSerializer(StrictSerializer):
    dataset = serializers.IntegerField(min_value=1)
    dataset_version = serializers.IntegerField(
        min_value=1, required=False, help_text="Default: newest validated."
    )
    version = serializers.IntegerField(min_value=1, required=False, help_text="Default: the active version.")
    priority = serializers.CharField(max_length=10, required=False, default="medium")
    engine = serializers.ChoiceField(
        choices=ENGINES,
        required=False,
        help_text=(
            "Where the scoring runs: `local` (default, inside the worker), `dask` (each Parquet "
            "partition scored on a Dask worker, for datasets larger than one machine's memory) or "
            "`auto` (dask from the setting engine-dask-auto-rows)."
        ),
    )


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


class AlgorithmField(serializers.ChoiceField):
    """An algorithm as OMM names it, or in another spelling of the same name (RandomForest)."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            folded = _folded(data)
            data = next((choice for choice in self.choices if _folded(choice) == folded), data)
        return super().to_internal_value(data)


def _folded(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


class TrainingRequestSerializer(StrictSerializer):
    """``POST /api/tasks/training``. Either a feature set or feature columns (or neither:
    every numeric and categorical column but the label, time and key columns)."""

    name = serializers.CharField(
        max_length=100,
        required=False,
        help_text=(
            "Model name; a new version is added if it exists. With `modelId` (the seed design's "
            "way to name the model), the task's name."
        ),
    )
    model_id = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The model to add a version to, by id (then `name` names the task).",
    )
    task_name = serializers.CharField(max_length=200, required=False)
    dataset = serializers.IntegerField(min_value=1, required=False)
    dataset_id = serializers.IntegerField(min_value=1, required=False, help_text=alias_of("dataset"))
    dataset_version = serializers.IntegerField(
        min_value=1, required=False, help_text="Default: the newest validated version."
    )
    feature_set = serializers.IntegerField(min_value=1, required=False)
    features = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=5000, allow_empty=False
    )
    label = serializers.CharField(max_length=200, required=False)
    algorithm = AlgorithmField(
        choices=ALGORITHMS,
        default="lightgbm",
        help_text="Also spelt as the seed design's samples do: LightGBM, RandomForest, LogisticRegression.",
    )
    objective = serializers.ChoiceField(
        choices=OBJECTIVES, required=False, help_text="Default: from the label."
    )
    params = serializers.DictField(required=False)
    parameters = serializers.DictField(required=False, help_text=alias_of("params"))
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
    engine = serializers.ChoiceField(
        choices=ENGINES,
        required=False,
        help_text=(
            "Where the training runs: `local` (default, inside the worker), `dask` (LightGBM sharded "
            "over the Dask cluster's workers, which read the data as Parquet partitions) or `auto` "
            "(dask from the setting engine-dask-auto-rows)."
        ),
    )
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.MEDIUM)
    resource_config = serializers.DictField(
        required=False,
        default=dict,
        help_text=(
            "`threads`, `memoryMb`, `timeoutSeconds` (each optional). The seed design's `cpu`, "
            "`memory` and `gpu` (numbers) are accepted too: OMM does not schedule by them, so they "
            "are kept on the task's `parameters` as `requestedResources` and not applied."
        ),
    )

    def validate_resource_config(self, value: dict) -> dict:
        # The JSON parser snake-cases nested keys; OMM's resource keys are spelt camelCase.
        return camelize(value)

    def validate(self, attrs):
        attrs = take_aliases(attrs, {"dataset_id": "dataset", "parameters": "params"})
        attrs.setdefault("params", {})
        if "model_id" in attrs:
            model_id = attrs.pop("model_id")
            model = Model.objects.filter(pk=model_id).first()
            if model is None:
                raise serializers.ValidationError(
                    {"model_id": [gettext("No model with id %(id)s.") % {"id": model_id}]}
                )
            if "name" in attrs:
                attrs.setdefault("task_name", attrs["name"])
            attrs["name"] = model.name
        elif "name" not in attrs:
            raise serializers.ValidationError({"name": [gettext("This field is required.")]})
        if "dataset" not in attrs and "feature_set" not in attrs:
            raise serializers.ValidationError(
                {"dataset": [gettext("A dataset (or a feature set) is required.")]}
            )
        resources, requested = split_requested_resources(attrs.get("resource_config") or {})
        attrs["resource_config"] = resources
        if requested:
            attrs["requested_resources"] = requested
        return attrs
