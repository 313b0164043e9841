"""Alert API serializers (camelCase on the wire)."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.serializers import StrictModelSerializer, StrictSerializer
from apps.core.errors import Invalid

from ..models import Alert, AlertEvent, AlertRule, Webhook, WebhookDelivery, WebhookEvent
from ..services import metric_clean


class AlertRuleSerializer(StrictModelSerializer):
    # Checked against the catalogue by the service's rule, so the API and the admin agree.
    metric = serializers.CharField(max_length=50)

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "model",
            "metric",
            "comparison",
            "threshold",
            "window",
            "severity",
            "enabled",
            "email_recipients",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_metric(self, value: str) -> str:
        try:
            return metric_clean(value)
        except Invalid as exc:
            raise serializers.ValidationError(exc.errors["metric"]) from None


class AlertEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = AlertEvent
        fields = ["kind", "actor", "note", "created_at"]


class AlertSerializer(serializers.ModelSerializer):
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    metric = serializers.CharField(source="rule.metric", read_only=True)
    model = serializers.IntegerField(source="version.model_id", read_only=True)
    model_name = serializers.CharField(source="version.model.name", read_only=True)
    version_number = serializers.IntegerField(source="version.version", read_only=True)
    events = AlertEventSerializer(many=True, read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "rule_name",
            "metric",
            "model",
            "model_name",
            "version",
            "version_number",
            "period_start",
            "value",
            "severity",
            "status",
            "message",
            "opened_at",
            "resolved_at",
            "events",
        ]


class AlertActionSerializer(StrictSerializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class WebhookSerializer(StrictModelSerializer):
    # Write-only: the secret is never shown again; omit it on update to keep the stored one.
    secret = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=500)
    has_secret = serializers.BooleanField(read_only=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices), max_length=20)

    class Meta:
        model = Webhook
        fields = ["id", "name", "url", "secret", "has_secret", "events", "enabled", "created_at"]
        read_only_fields = ["created_at"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    webhook_name = serializers.CharField(source="webhook.name", read_only=True)
    # Plain text here: the event names are the schema's enum of WebhookSerializer.events.
    event = serializers.CharField(read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook",
            "webhook_name",
            "event",
            "payload",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]
