"""Serializer base classes shared by every app, and core's own serializers."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from rest_framework import serializers

from ..config import described
from ..models import (
    ApiAuditLog,
    SystemConfig,
    TrailAction,
    TrailEntry,
    WorkerHeartbeat,
    WorkerPing,
    coerce_config_value,
)


class StrictFieldsMixin:
    """Refuse input keys the serializer does not declare (a typo must not pass silently)."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: [gettext("Unknown field.")] for key in unknown})
        return super().to_internal_value(data)


class StrictFieldsSchema(OpenApiSerializerExtension):
    """In the OpenAPI document, a strict serializer's request allows no other property, as the
    server refuses them (defined here so that it is registered before any schema is built)."""

    target_class = StrictFieldsMixin
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


def _nullable_source(field) -> bool:
    """Whether the model path a serializer field reads (``created_by``, ``version.model``)
    crosses a nullable column or relation."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    for attr in field.source_attrs:
        if model is None:
            return False
        try:
            model_field = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return False
        if model_field.null:
            return True
        model = model_field.related_model
    return False


class NullableRelationSchema(OpenApiSerializerFieldExtension):
    """A related field reads null where the relation is nullable (a creator deleted, a request
    not decided yet), even when declared by hand: the document's answers say so."""

    target_class = serializers.RelatedField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "response" and _nullable_source(self.target):
            schema["nullable"] = True
        return schema


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    pass


class SystemConfigSerializer(StrictModelSerializer):
    value = serializers.JSONField(allow_null=True)
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

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


class TrailChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field's name in the record.")
    label = serializers.CharField(help_text="The field's name in the reader's language.")
    operation = serializers.ChoiceField(
        choices=["set", "add", "remove"],
        help_text="set: a value changed (before, after); add or remove: members of a many-to-many field.",
    )
    before = serializers.JSONField(allow_null=True, help_text="The value before (set); null for none.")
    after = serializers.JSONField(allow_null=True, help_text="The value after (set); null for none.")
    objects = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="The members added or removed (add, remove).",
    )


class TrailEntrySerializer(serializers.ModelSerializer):
    action = serializers.ChoiceField(choices=TrailAction.choices, source="action_code", read_only=True)
    model = serializers.CharField(
        source="model_label", read_only=True, help_text="The kind of record, as app_label.model."
    )
    model_name = serializers.SerializerMethodField()
    object_id = serializers.CharField(source="object_pk", read_only=True)
    actor = serializers.SerializerMethodField(
        help_text="The username; null for the system (tasks, commands)."
    )
    reason = serializers.CharField(read_only=True, help_text="Why, where the change was given a reason.")
    changes = TrailChangeSerializer(source="changed_fields", many=True, read_only=True)

    class Meta:
        model = TrailEntry
        fields = [
            "id",
            "timestamp",
            "action",
            "model",
            "model_name",
            "object_id",
            "object_repr",
            "actor",
            "actor_email",
            "remote_addr",
            "reason",
            "changes",
        ]
        read_only_fields = fields

    def get_model_name(self, entry: TrailEntry) -> str:
        model = entry.content_type.model_class()
        return str(model._meta.verbose_name) if model else entry.model_label

    def get_actor(self, entry: TrailEntry) -> str | None:
        return entry.actor.get_username() if entry.actor is not None else None
