"""Alert list filters: by status, model, version, severity, rule."""

from __future__ import annotations

import django_filters

from .models import Alert, AlertStatus, DeliveryStatus, Severity, WebhookDelivery, WebhookEvent


class AlertFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    model = django_filters.NumberFilter(field_name="version__model_id", help_text="A model id.")
    version = django_filters.NumberFilter(field_name="version_id", help_text="A model version id.")
    rule = django_filters.NumberFilter(field_name="rule_id")

    class Meta:
        model = Alert
        fields = []


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    event = django_filters.ChoiceFilter(choices=WebhookEvent.choices)
    webhook = django_filters.NumberFilter(field_name="webhook_id")

    class Meta:
        model = WebhookDelivery
        fields = []
