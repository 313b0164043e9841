"""Core API: settings, audit log, governance trail, live processes and worker pings."""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from .. import services
from ..filters import ApiAuditLogFilter, TrailFilter
from ..models import ApiAuditLog, SystemConfig, TrailEntry, WorkerHeartbeat, WorkerPing
from ..selectors import live_processes, trail_entries
from .serializers import (
    ApiAuditLogSerializer,
    SystemConfigSerializer,
    TrailEntrySerializer,
    WorkerHeartbeatSerializer,
    WorkerPingCreateSerializer,
    WorkerPingSerializer,
)


class SystemConfigViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """Typed platform settings (admins). Secret values are masked on the way out."""

    queryset = SystemConfig.objects.select_related("updated_by")
    serializer_class = SystemConfigSerializer
    lookup_field = "key"
    http_method_names = ["get", "put", "head", "options"]
    search_fields = ["key", "description"]
    ordering_fields = ["key", "updated_at"]

    def perform_update(self, serializer):
        serializer.instance = services.system_config_update(
            config=serializer.instance, value=serializer.validated_data["value"], user=self.request.user
        )


class ApiAuditLogViewSet(viewsets.ReadOnlyModelViewSet):
    """Every API call, newest first (admins)."""

    queryset = ApiAuditLog.objects.all()
    serializer_class = ApiAuditLogSerializer
    filterset_class = ApiAuditLogFilter
    ordering_fields = ["created_at", "duration_ms", "status_code"]


class TrailViewSet(viewsets.ReadOnlyModelViewSet):
    """The governance trail (admins): every change made to accounts and roles, settings,
    datasets, features, schedules, aliases and models, newest first: who, when, from where,
    the values before and after, and the reason where one was given."""

    queryset = TrailEntry.objects.all()
    serializer_class = TrailEntrySerializer
    filterset_class = TrailFilter
    search_fields = ["object_repr", "object_pk", "actor__username", "additional_data__reason"]
    ordering_fields = ["timestamp"]

    def get_queryset(self):
        return trail_entries()


class WorkerViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Celery workers and beat processes that reported in recently."""

    queryset = WorkerHeartbeat.objects.all()
    serializer_class = WorkerHeartbeatSerializer
    pagination_class = None

    def get_queryset(self):
        return live_processes()


class WorkerPingViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Send a ping through the broker to a worker and read back when it was answered."""

    queryset = WorkerPing.objects.select_related("requested_by")
    serializer_class = WorkerPingSerializer

    def get_serializer_class(self):
        return WorkerPingCreateSerializer if self.action == "create" else WorkerPingSerializer

    @extend_schema(request=WorkerPingCreateSerializer, responses={201: WorkerPingSerializer})
    def create(self, request, *args, **kwargs):
        serializer = WorkerPingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ping = services.worker_ping_request(user=request.user, queue=serializer.validated_data["queue"])
        response = Response(WorkerPingSerializer(ping).data, status=status.HTTP_201_CREATED)
        response.message = gettext("Ping enqueued.")
        return response
