"""Work-queue API serializers (the seed's task shapes, camelCase)."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.serializers import StrictModelSerializer, StrictSerializer
from apps.models.training import ALGORITHMS, OBJECTIVES, SPLITS

from ..models import Priority, Task, TaskLog, TaskSchedule, TaskType


class TaskLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaskLog
        fields = ["id", "created_at", "level", "message", "step", "loss", "valid_loss", "metrics"]


class TaskSerializer(StrictModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    model_version = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id",
            "name",
            "type",
            "status",
            "priority",
            "parameters",
            "resource_config",
            "progress",
            "result",
            "error",
            "cancel_requested",
            "attempts",
            "worker",
            "celery_task_id",
            "schedule",
            "rerun_of",
            "model_version",
            "created_by",
            "created_at",
            "queued_at",
            "started_at",
            "completed_at",
        ]
        read_only_fields = fields

    def get_model_version(self, task: Task) -> dict | None:
        mv = getattr(task, "model_version", None)
        if mv is None:
            return None
        return {"id": mv.pk, "model": mv.model_id, "modelName": mv.model.name, "version": mv.version}


class TaskStatusSerializer(serializers.ModelSerializer):
    logs = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = ["id", "status", "progress", "result", "error", "cancel_requested", "attempts", "logs"]

    def get_logs(self, task: Task) -> list[dict]:
        return TaskLogSerializer(self.context["logs"], many=True).data


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
    split = serializers.ChoiceField(choices=SPLITS, required=False)
    time_column = serializers.CharField(max_length=200, required=False)
    validation_share = serializers.FloatField(min_value=0.05, max_value=0.5, default=0.2)
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=42)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.MEDIUM)
    resource_config = serializers.DictField(required=False, default=dict)

    def validate(self, attrs):
        if "dataset" not in attrs and "feature_set" not in attrs:
            raise serializers.ValidationError({"dataset": ["A dataset (or a feature set) is required."]})
        return attrs


class TaskCreateSerializer(TrainingRequestSerializer):
    """``POST /api/tasks``: a training task. Evaluations and batch predictions are
    requested from their own endpoints (``/api/evaluation``, ``/api/models/{id}/batch-predictions``)."""

    type = serializers.ChoiceField(
        choices=[(TaskType.TRAINING.value, TaskType.TRAINING.label)],
        error_messages={
            "invalid_choice": "Only training tasks are created here; evaluations are requested "
            "at /api/evaluation and batch predictions at /api/models/{{id}}/batch-predictions."
        },
    )


def schedule_request_serializers() -> dict[str, type[serializers.Serializer]]:
    """The request each schedulable task type takes (read when first needed: evaluations
    build on the work queue, not the other way round)."""
    from apps.evaluations.api.serializers import EvaluationRequestSerializer

    return {TaskType.TRAINING: TrainingRequestSerializer, TaskType.EVALUATION: EvaluationRequestSerializer}


class ScheduleSerializer(StrictModelSerializer):
    type = serializers.ChoiceField(
        choices=[(TaskType.TRAINING.value, "Training"), (TaskType.EVALUATION.value, "Evaluation")],
        default=TaskType.TRAINING,
        help_text="What each run is: a training (the default) or an evaluation.",
    )
    request = serializers.DictField(
        write_only=True,
        help_text="The task each run creates: a training request (as POST /api/tasks/training) or an "
        "evaluation request (as POST /api/evaluation); priority is the schedule's.",
    )
    every_minutes = serializers.IntegerField(min_value=1, max_value=525_600, required=False, write_only=True)
    cron = serializers.CharField(max_length=100, required=False, write_only=True)
    enabled = serializers.BooleanField(default=True)
    timing = serializers.SerializerMethodField()
    last_run_at = serializers.DateTimeField(source="periodic_task.last_run_at", read_only=True)
    total_run_count = serializers.IntegerField(source="periodic_task.total_run_count", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TaskSchedule
        fields = [
            "id",
            "name",
            "type",
            "parameters",
            "priority",
            "resource_config",
            "request",
            "every_minutes",
            "cron",
            "enabled",
            "timing",
            "last_run_at",
            "total_run_count",
            "periodic_task",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "parameters", "periodic_task", "created_by", "created_at"]

    def validate(self, attrs):
        request_serializer = schedule_request_serializers()[attrs.get("type", TaskType.TRAINING)]
        checked = request_serializer(data=attrs.get("request") or {})
        if not checked.is_valid():
            raise serializers.ValidationError({"request": checked.errors})
        attrs["request"] = checked.validated_data
        return attrs

    def get_timing(self, schedule: TaskSchedule) -> str:
        periodic = schedule.periodic_task
        if periodic.interval_id:
            return f"every {periodic.interval.every} {periodic.interval.period}"
        c = periodic.crontab
        return f"cron {c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week}"

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["enabled"] = instance.periodic_task.enabled
        return data
