"""Alert API: alerts (list, acknowledge, resolve), alert rules, and for admins webhooks and
their deliveries (with replay)."""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.users.permissions import HasPerms

from .. import selectors, services
from ..filters import AlertFilter, DeliveryFilter
from ..models import AlertRule, Webhook, WebhookDelivery
from .serializers import (
    AlertActionSerializer,
    AlertRuleSerializer,
    AlertSerializer,
    WebhookDeliverySerializer,
    WebhookSerializer,
)

WEBHOOK_ADMIN = HasPerms.of("alerts.change_webhook")


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Alerts opened by alert rules on monitored periods, newest first, with their history."""

    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    ordering_fields = ["opened_at", "period_start", "severity"]
    ordering = ["-opened_at", "-id"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.alert_list().prefetch_related("events__actor")

    def get_permissions(self):
        if self.action in ("acknowledge", "resolve"):
            return [HasPerms.of("alerts.change_alert")()]
        return super().get_permissions()

    def _act(self, request, service, message: str):
        body = AlertActionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        alert = service(alert=self.get_object(), user=request.user, note=body.validated_data["note"])
        response = Response(
            AlertSerializer(selectors.alert_list().prefetch_related("events").get(pk=alert.pk)).data
        )
        response.message = message
        return response

    @extend_schema(request=AlertActionSerializer, responses=AlertSerializer, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def acknowledge(self, request, pk=None):
        """Acknowledge an open alert (someone is on it); the note goes into its history."""
        return self._act(request, services.alert_acknowledge, gettext("Alert acknowledged."))

    @extend_schema(request=AlertActionSerializer, responses=AlertSerializer, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def resolve(self, request, pk=None):
        """Resolve an open or acknowledged alert; the note goes into its history."""
        return self._act(request, services.alert_resolve, gettext("Alert resolved."))


class AlertRuleViewSet(viewsets.ModelViewSet):
    """Alert rules: a metric of the catalogue compared with a threshold over a window of
    monitored periods. A rule without a model watches every model."""

    serializer_class = AlertRuleSerializer
    queryset = AlertRule.objects.select_related("model")
    ordering_fields = ["name", "created_at"]
    ordering = ["name", "id"]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = services.alert_rule_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.alert_rule_update(
            rule=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.alert_rule_delete(rule=instance)


class WebhookViewSet(viewsets.ModelViewSet):
    """Webhooks (admins only). The secret is write-only and stored encrypted."""

    serializer_class = WebhookSerializer
    queryset = Webhook.objects.all()
    ordering_fields = ["name", "created_at"]
    ordering = ["name", "id"]
    lookup_value_regex = r"\d+"
    permission_classes = [WEBHOOK_ADMIN]

    def perform_create(self, serializer):
        serializer.instance = services.webhook_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.webhook_update(
            webhook=serializer.instance, **serializer.validated_data
        )


class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The delivery log of webhooks (admins only); ``replay`` sends a delivery again."""

    serializer_class = WebhookDeliverySerializer
    filterset_class = DeliveryFilter
    ordering_fields = ["created_at", "status", "attempts"]
    ordering = ["-created_at", "-id"]
    lookup_value_regex = r"\d+"
    permission_classes = [WEBHOOK_ADMIN]

    def get_queryset(self):
        return WebhookDelivery.objects.select_related("webhook")

    @extend_schema(request=None, responses=WebhookDeliverySerializer, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def replay(self, request, pk=None):
        d = services.delivery_replay(delivery=self.get_object())
        response = Response(WebhookDeliverySerializer(d).data)
        response.message = gettext("Delivery queued again.")
        return response
