"""Evaluation API serializers: the request, the list row, and the seed's EvaluationResult.

The result serializers read the plain dicts of ``selectors.evaluation_result`` and
``selectors.evaluation_compare``; they type every field so the OpenAPI document says
exactly what comes back.
"""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework import serializers

from apps.core.api.seed import alias_of, take_aliases
from apps.core.api.serializers import StrictSerializer
from apps.models import selectors as model_selectors
from apps.tasks.models import Priority

from ..models import Evaluation, EvaluationStatus, Objective


def _number(**kwargs) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, **kwargs)


class EvaluationOptionsSerializer(StrictSerializer):
    permutation_importance = serializers.BooleanField(
        required=False, help_text="Also measure permutation importance (slower). Default false."
    )
    bins = serializers.IntegerField(
        required=False, help_text="Buckets of the lift table and the PSI (2-100). Default 10 (deciles)."
    )


class EvaluationRequestSerializer(StrictSerializer):
    """``POST /api/evaluation``: evaluate a model version on a dataset (as a task).

    The seed design names what to evaluate as its EvaluationResult does: ``modelId`` with
    ``modelVersion``, that model's version number (default: its active version, else its
    newest), and ``datasetId``."""

    model_version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="A model version id; with `modelId`, that model's version number.",
    )
    model_id = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text=(
            "The model whose version `modelVersion` (a number) to evaluate; without "
            "`modelVersion`, its active version, else its newest."
        ),
    )
    dataset = serializers.IntegerField(min_value=1, required=False, help_text="A tabular dataset id.")
    dataset_id = serializers.IntegerField(min_value=1, required=False, help_text=alias_of("dataset"))
    dataset_version = serializers.IntegerField(
        min_value=1, required=False, help_text="Default: the newest validated version."
    )
    threshold = serializers.FloatField(
        required=False,
        help_text="Binary models only: predicted bad when score >= threshold, in [0, 1]. Default 0.5.",
    )
    label = serializers.CharField(
        max_length=200, required=False, help_text="Default: the version's label, else the dataset's."
    )
    options = EvaluationOptionsSerializer(required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.MEDIUM)

    def validate(self, attrs):
        attrs = take_aliases(attrs, {"dataset_id": "dataset"})
        if "model_id" in attrs:
            attrs["model_version"] = _version_of(attrs.pop("model_id"), attrs.get("model_version"))
        missing = [name for name in ("model_version", "dataset") if name not in attrs]
        if missing:
            raise serializers.ValidationError(
                {name: [gettext("This field is required.")] for name in missing}
            )
        return attrs


def _version_of(model_id: int, number: int | None) -> int:
    """The id of version ``number`` of model ``model_id`` (default: active, else newest)."""
    model = model_selectors.models_with_latest().filter(pk=model_id).first()
    if model is None:
        raise serializers.ValidationError(
            {"model_id": [gettext("No model with id %(id)s.") % {"id": model_id}]}
        )
    number = number or model.current_version
    version = model.versions.filter(version=number).first() if number else None
    if version is None:
        if number is None:
            raise serializers.ValidationError(
                {"model_id": [gettext("%(model)s has no version to evaluate.") % {"model": model}]}
            )
        raise serializers.ValidationError(
            {
                "model_version": [
                    gettext("%(model)s has no version %(number)s.") % {"model": model, "number": number}
                ]
            }
        )
    return version.pk


class EvaluationSerializer(serializers.ModelSerializer):
    """An evaluation in a list, and the answer to its creation (status pending + its task)."""

    status = serializers.ChoiceField(choices=EvaluationStatus.choices, read_only=True)
    task_id = serializers.IntegerField(read_only=True)
    progress = serializers.FloatField(source="task.progress", read_only=True)
    error = serializers.CharField(source="task.error", read_only=True)
    model_id = serializers.IntegerField(source="model_version.model_id", read_only=True)
    model_name = serializers.CharField(source="model_version.model.name", read_only=True)
    model_version = serializers.IntegerField(source="model_version.version", read_only=True)
    model_version_id = serializers.IntegerField(read_only=True)
    dataset_id = serializers.IntegerField(source="dataset_version.dataset_id", read_only=True)
    dataset_name = serializers.CharField(source="dataset_version.dataset.name", read_only=True)
    dataset_version = serializers.IntegerField(source="dataset_version.version", read_only=True)
    dataset_version_id = serializers.IntegerField(read_only=True)
    objective = serializers.ChoiceField(choices=Objective.choices, read_only=True)
    metrics = serializers.DictField(child=_number(), read_only=True, help_text="Headline figures.")
    alerts = serializers.ListField(child=serializers.DictField(), read_only=True)
    options = serializers.DictField(read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "status",
            "task_id",
            "progress",
            "error",
            "model_id",
            "model_name",
            "model_version",
            "model_version_id",
            "dataset_id",
            "dataset_name",
            "dataset_version",
            "dataset_version_id",
            "objective",
            "label",
            "threshold",
            "options",
            "metrics",
            "rows",
            "is_monitor",
            "alerts",
            "metrics_version",
            "created_by",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields


class RocPointSerializer(serializers.Serializer):
    fpr = serializers.FloatField()
    tpr = serializers.FloatField()
    population = serializers.FloatField(help_text="Share of rows predicted bad (the KS chart's x).")
    threshold = _number(help_text="Null at the start point (nothing predicted bad).")


class PrPointSerializer(serializers.Serializer):
    recall = serializers.FloatField()
    precision = serializers.FloatField()
    threshold = _number()


class DecileSerializer(serializers.Serializer):
    bucket = serializers.IntegerField(help_text="1 = the riskiest (highest scores).")
    min_score = serializers.FloatField()
    max_score = serializers.FloatField()
    count = serializers.IntegerField()
    bads = serializers.IntegerField()
    goods = serializers.IntegerField()
    bad_rate = serializers.FloatField()
    population_share = serializers.FloatField()
    cum_population_share = serializers.FloatField()
    cum_bad_share = _number()
    cum_good_share = _number()
    ks = _number()
    lift = _number()
    cum_lift = _number()


class PsiBinSerializer(serializers.Serializer):
    label = serializers.CharField()
    lower = _number()
    upper = _number()
    baseline_count = serializers.IntegerField()
    current_count = serializers.IntegerField()
    baseline_share = serializers.FloatField()
    current_share = serializers.FloatField()
    contribution = serializers.FloatField()


class NoteSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class PsiSerializer(serializers.Serializer):
    psi = serializers.FloatField()
    level = serializers.ChoiceField(choices=["stable", "moderate", "significant"])
    epsilon = serializers.FloatField()
    baseline_n = serializers.IntegerField()
    current_n = serializers.IntegerField()
    edges = serializers.ListField(child=serializers.FloatField())
    rows = PsiBinSerializer(many=True, help_text="The score distribution, baseline vs current, per bin.")
    notes = NoteSerializer(many=True)


class CsiSerializer(serializers.Serializer):
    feature = serializers.CharField()
    psi = serializers.FloatField()
    level = serializers.CharField()
    kind = serializers.ChoiceField(choices=["numeric", "categorical"])


class ImportanceSerializer(serializers.Serializer):
    feature = serializers.CharField()
    importance = serializers.FloatField()
    importance_share = serializers.FloatField()
    gain = serializers.FloatField(required=False)
    split = serializers.FloatField(required=False)
    coefficient = serializers.FloatField(required=False)
    importance_std = serializers.FloatField(required=False)


class PermutationSerializer(serializers.Serializer):
    metric = serializers.CharField()
    rows = ImportanceSerializer(many=True)
    note = serializers.CharField()


class EvaluationResultSerializer(serializers.Serializer):
    """The seed's EvaluationResult (id, modelId, modelVersion, datasetId, metrics,
    confusionMatrix, rocCurve, featureImportance, createdAt) and what a risk report adds."""

    id = serializers.IntegerField()
    model_id = serializers.IntegerField()
    model_name = serializers.CharField()
    model_version = serializers.IntegerField(help_text="The version number.")
    model_version_id = serializers.IntegerField()
    dataset_id = serializers.IntegerField()
    dataset_name = serializers.CharField()
    dataset_version = serializers.IntegerField()
    dataset_version_id = serializers.IntegerField()
    task_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=EvaluationStatus.choices)
    progress = serializers.FloatField()
    error = serializers.CharField()
    objective = serializers.ChoiceField(choices=Objective.choices)
    label = serializers.CharField()
    threshold = _number()
    options = serializers.DictField()
    is_monitor = serializers.BooleanField()
    alerts = serializers.ListField(child=serializers.DictField())
    rows = serializers.IntegerField(allow_null=True)
    metrics = serializers.DictField(
        child=_number(),
        help_text="accuracy, precision, recall, f1Score, auc, ks, ksThreshold, gini, psi, "
        "averagePrecision, logLoss (binary); mse, rmse, mae, r2, psi (regression).",
    )
    confusion_matrix = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        allow_null=True,
        help_text="Rows: actual class; columns: predicted class (binary: good, bad).",
    )
    confusion = serializers.DictField(child=serializers.IntegerField(), allow_null=True)
    roc_curve = RocPointSerializer(many=True, allow_null=True)
    pr_curve = PrPointSerializer(many=True, allow_null=True)
    deciles = DecileSerializer(many=True, allow_null=True)
    psi = PsiSerializer(allow_null=True)
    csi = CsiSerializer(many=True, allow_null=True)
    classes = serializers.ListField(child=serializers.JSONField(), allow_null=True)
    per_class = serializers.ListField(child=serializers.DictField(), allow_null=True)
    feature_importance = ImportanceSerializer(many=True, allow_null=True)
    importance_method = serializers.CharField(allow_null=True)
    importance_note = serializers.CharField(allow_null=True)
    permutation_importance = PermutationSerializer(allow_null=True)
    positives = serializers.IntegerField(allow_null=True)
    negatives = serializers.IntegerField(allow_null=True)
    base_rate = _number()
    n_dropped = serializers.IntegerField(allow_null=True)
    notes = NoteSerializer(many=True)
    metrics_version = serializers.CharField()
    definitions = serializers.DictField(child=serializers.CharField())
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class ComparedEvaluationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    model_id = serializers.IntegerField()
    model_name = serializers.CharField()
    model_version = serializers.IntegerField()
    model_version_id = serializers.IntegerField()
    threshold = _number()
    rows = serializers.IntegerField(allow_null=True)
    metrics = serializers.DictField(child=_number())
    roc_curve = RocPointSerializer(many=True, allow_null=True)
    pr_curve = PrPointSerializer(many=True, allow_null=True)
    deciles = DecileSerializer(many=True, allow_null=True)
    created_at = serializers.DateTimeField()


class ComparedMetricSerializer(serializers.Serializer):
    name = serializers.CharField()
    definition = serializers.CharField()
    values = serializers.ListField(child=_number(), help_text="One per evaluation, in order.")
    best = serializers.IntegerField(allow_null=True, help_text="Index of the best value.")
    larger_is_better = serializers.BooleanField()


class EvaluationCompareSerializer(serializers.Serializer):
    dataset_id = serializers.IntegerField()
    dataset_name = serializers.CharField()
    dataset_version = serializers.IntegerField()
    objective = serializers.ChoiceField(choices=Objective.choices)
    evaluations = ComparedEvaluationSerializer(many=True)
    metrics = ComparedMetricSerializer(many=True)
