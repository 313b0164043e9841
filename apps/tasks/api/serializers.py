"""Work-queue API serializers (the seed's task shapes, camelCase)."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.core.api.serializers import StrictModelSerializer

from ..kinds import schedulable_kinds
from ..models import Task, TaskLog, TaskSchedule, TaskType


class TaskLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaskLog
        fields = ["id", "created_at", "level", "message", "step", "loss", "valid_loss", "metrics"]


class TaskStatusSerializer(serializers.ModelSerializer):
    logs = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = ["id", "status", "progress", "result", "error", "cancel_requested", "attempts", "logs"]

    def get_logs(self, task: Task) -> list[dict]:
        return TaskLogSerializer(self.context["logs"], many=True).data


class ScheduleSerializer(StrictModelSerializer):
    type = serializers.ChoiceField(
        choices=[
            (TaskType.TRAINING.value, TaskType.TRAINING.label),
            (TaskType.EVALUATION.value, TaskType.EVALUATION.label),
        ],
        default=TaskType.TRAINING.value,
        help_text=_("What each run is: a training (the default) or an evaluation."),
    )
    request = serializers.DictField(
        write_only=True,
        help_text=_(
            "The task each run creates: a training request (as POST /api/tasks/training) or an "
            "evaluation request (as POST /api/evaluation); priority is the schedule's."
        ),
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
        kind = schedulable_kinds().get(attrs.get("type", TaskType.TRAINING))
        if kind is None:
            raise serializers.ValidationError({"type": [gettext("Tasks of this type cannot be scheduled.")]})
        checked = kind.serializer(data=attrs.get("request") or {})
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
