"""Serializer base classes shared by every app, and core's own serializers."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext
from rest_framework import serializers

from ..config import described
from ..models import ApiAuditLog, SystemConfig, WorkerHeartbeat, WorkerPing, coerce_config_value


class StrictFieldsMixin:
    """Refuse input keys the serializer does not declare (a typo must not pass silently)."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: [gettext("Unknown field.")] for key in unknown})
        return super().to_internal_value(data)


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    pass


class SystemConfigSerializer(StrictModelSerializer):
    value = serializers.JSONField(allow_null=True)
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = SystemConfig
        fields = ["id", "key", "value_type", "value", "description", "is_secret", "updated_at", "updated_by"]
        read_only_fields = ["id", "key", "value_type", "description", "is_secret", "updated_at", "updated_by"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["value"] = instance.display_value
        data["description"] = described(instance.key, instance.description)
        return data

    def validate_value(self, value):
        from django.core.exceptions import ValidationError

        try:
            return coerce_config_value(self.instance.value_type, value, key=self.instance.key)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class ApiAuditLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiAuditLog
        fields = [
            "id",
            "created_at",
            "username",
            "method",
            "path",
            "query",
            "status_code",
            "duration_ms",
            "ip_address",
            "user_agent",
        ]


class WorkerHeartbeatSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkerHeartbeat
        fields = ["hostname", "kind", "pid", "queues", "started_at", "last_seen"]


class WorkerPingCreateSerializer(StrictSerializer):
    queue = serializers.ChoiceField(choices=[], default="default")

    def __init__(self, *args, **kwargs):
        from django.conf import settings

        super().__init__(*args, **kwargs)
        self.fields["queue"].choices = list(settings.QUEUES)


class WorkerPingSerializer(serializers.ModelSerializer):
    round_trip_ms = serializers.FloatField(read_only=True, allow_null=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = WorkerPing
        fields = ["id", "queue", "requested_by", "requested_at", "completed_at", "worker", "round_trip_ms"]
