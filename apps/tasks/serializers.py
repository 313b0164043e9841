"""How a task reads in the API: shared by the queue's endpoints and the domains' endpoints
that queue tasks (an app's ``api/`` imports no other app's ``api/``)."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.serializers import StrictModelSerializer

from .models import Task


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
        mv = task.produced_version
        if mv is None:
            return None
        return {
            "id": mv["id"],
            "model": mv["model_id"],
            "modelName": mv["model_name"],
            "version": mv["version"],
        }
