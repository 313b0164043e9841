"""Work-queue API: the seed's /api/tasks, training requests, status, cancel, re-run, schedules."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from apps.core.api.seed import SeedProfileRenderer, seed_profile
from apps.users.permissions import HasPerms

from .. import kinds, schedules, selectors, services
from ..filters import TaskFilter
from ..kinds import TaskKind
from ..models import TaskSchedule, TaskStatus, TaskType
from ..serializers import TaskSerializer
from .serializers import ScheduleSerializer, TaskLogSerializer, TaskStatusSerializer

APART = ("priority", "resource_config", "requested_resources", "type")


def create_from_request(request, kind: TaskKind, data: dict):
    """Queue a task of ``kind`` from its checked request (priority and resources apart)."""
    request_fields = {k: v for k, v in data.items() if k not in APART}
    options = {"requested_resources": data["requested_resources"]} if data.get("requested_resources") else {}
    return kind.create(
        user=request.user,
        request=request_fields,
        priority=data.get("priority", "medium"),
        resource_config=data.get("resource_config"),
        **options,
    )


def created_response(task) -> Response:
    task.refresh_from_db()
    response = Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)
    response.message = gettext("Task #%(id)s is %(status)s.") % {"id": task.pk, "status": task.status_word}
    return response


def _task_create_schema():
    # Read when the schema is generated: the kinds are registered by then.
    return PolymorphicProxySerializer(
        component_name="TaskCreate",
        serializers=lambda: {t: k.serializer for t, k in kinds.kinds_created_at_tasks_endpoint().items()},
        resource_type_field_name="type",
    )


class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Background tasks. Creating one validates it against its data first: nothing is
    queued for a request that cannot run. With `Accept: application/json; profile=seed`
    ids and version numbers are text, as the seed design types them."""

    serializer_class = TaskSerializer
    renderer_classes = [SeedProfileRenderer]
    filterset_class = TaskFilter
    ordering_fields = ["created_at", "started_at", "completed_at", "progress", "priority", "status"]
    ordering = ["-created_at", "-id"]
    lookup_value_regex = r"\d+"
    extra_query_params = ("after", "limit")

    def get_queryset(self):
        return selectors.tasks_for_list()

    def get_permissions(self):
        if self.action in ("create", "training", "rerun", "cancel"):
            return [HasPerms.of("tasks.add_task")()]
        if self.action in ("status", "logs"):
            return [HasPerms.of("tasks.view_task")()]
        return super().get_permissions()

    @extend_schema(request=_task_create_schema(), responses={201: TaskSerializer})
    def create(self, request):
        """Queue a task of the ``type`` given (the seed's shape); its fields are that kind's request."""
        creatable = kinds.kinds_created_at_tasks_endpoint()
        if not isinstance(request.data, Mapping):
            raise ValidationError(gettext("Expected a JSON object."))
        data = request.data.copy()  # a form's QueryDict stays one: its lists are read as lists
        task_type = data.get("type")
        data.pop("type", None)
        if task_type is None:
            raise ValidationError({"type": [gettext("This field is required.")]})
        if not isinstance(task_type, str) or task_type not in creatable:
            raise ValidationError(
                {
                    "type": [
                        gettext(
                            "Only %(types)s tasks are created here; evaluations are requested at "
                            "/api/evaluation and batch predictions at /api/models/{id}/batch-predictions."
                        )
                        % {"types": ", ".join(sorted(creatable))}
                    ]
                }
            )
        kind = creatable[task_type]
        serializer = kind.serializer(data=data)
        serializer.is_valid(raise_exception=True)
        return created_response(create_from_request(request, kind, serializer.validated_data))

    def get_serializer_class(self):
        if self.action == "training":  # the request as the training kind declares it
            return kinds.kind_for(TaskType.TRAINING).serializer
        return super().get_serializer_class()

    @extend_schema(responses={201: TaskSerializer}, filters=False)
    @action(detail=False, methods=["post"], filterset_class=None)
    def training(self, request):
        """Queue a training: dataset, features or feature set, label, algorithm, parameters.

        The seed design's request is accepted as well: `modelId` (the model; `name` then
        names the task), `datasetId`, `parameters` (for `params`) and `resourceConfig`
        `{cpu, memory, gpu}`, which OMM keeps on the task's `parameters` as
        `requestedResources` without applying them."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kind = kinds.kind_for(TaskType.TRAINING)
        return created_response(create_from_request(request, kind, serializer.validated_data))

    @extend_schema(
        responses=TaskStatusSerializer,
        filters=False,
        parameters=[
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": 200},
                description="Recent log rows (default 20).",
            )
        ],
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def status(self, request, pk=None):
        """Status, progress, result, error and the most recent log rows.

        With `Accept: application/json; profile=seed`, `logs` are the rows' messages (the
        seed design's `string[]`) and the id is text."""
        task = self.get_object()
        limit = _int_param(request, "limit", 20, 1, 200)
        logs = selectors.recent_logs(task, limit=limit)
        data = TaskStatusSerializer(task, context={"logs": logs}).data
        if seed_profile(request):
            data["logs"] = [row["message"] for row in data["logs"]]
        return Response(data)

    @extend_schema(
        responses=inline_serializer(
            "TaskLogs",
            {"data": TaskLogSerializer(many=True), "status": serializers.ChoiceField(TaskStatus.choices)},
        ),
        filters=False,
        parameters=[
            OpenApiParameter(
                "after",
                {"type": "integer", "minimum": 0},
                description="Only rows with a larger id (for live curves).",
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": 5000},
                description="At most this many rows (default 1000).",
            ),
        ],
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def logs(self, request, pk=None):
        """Log rows in order; training rounds carry step, loss, validLoss and metrics."""
        task = self.get_object()
        after = _int_param(request, "after", None, 0, None)
        limit = _int_param(request, "limit", 1000, 1, 5000)
        rows = selectors.recent_logs(task, after=after if after is not None else 0, limit=limit)
        return Response({"data": TaskLogSerializer(rows, many=True).data, "status": task.status})

    @extend_schema(request=None, responses=TaskSerializer, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def cancel(self, request, pk=None):
        """Cancel: at once if it has not started, at the next round if it runs. 409 when finished."""
        task = self.get_object()
        if task.created_by_id != request.user.pk and not request.user.has_perm("tasks.change_task"):
            raise PermissionDenied(gettext("Only the task's creator or an analyst can cancel it."))
        task = services.task_cancel(task=task)
        response = Response(TaskSerializer(task).data)
        response.message = (
            gettext("Cancelled.")
            if task.status == "cancelled"
            else gettext("Cancel requested; it stops at the next round.")
        )
        return response

    @extend_schema(request=None, responses={201: TaskSerializer}, filters=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def rerun(self, request, pk=None):
        """Queue a new task with the same request."""
        task = self.get_object()
        return created_response(services.task_rerun(task=task, user=request.user))


def _int_param(request, name: str, default, lo: int, hi: int | None):
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: [gettext("Must be an integer.")]}) from None
    if value < lo or (hi is not None and value > hi):
        raise ValidationError(
            {
                name: [
                    gettext("Must be between %(min)s and %(max)s.") % {"min": lo, "max": hi}
                    if hi
                    else gettext("Must be at least %(min)s.") % {"min": lo}
                ]
            }
        )
    return value


class ScheduleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Trainings or evaluations on a cron or interval schedule (django-celery-beat); each run is a task."""

    serializer_class = ScheduleSerializer
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]
    queryset = TaskSchedule.objects.select_related(
        "created_by", "periodic_task__interval", "periodic_task__crontab"
    )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        req = {k: dict(v) if isinstance(v, dict) else v for k, v in data.pop("request").items()}
        req.pop("priority", None)
        req.pop("requested_resources", None)  # the seed's cpu/memory/gpu: nothing a run applies
        resources = req.pop("resource_config", None) or data.get("resource_config")
        serializer.instance = schedules.schedule_create(
            user=self.request.user,
            name=data["name"],
            request=req,
            every_minutes=data.get("every_minutes"),
            cron=data.get("cron"),
            priority=data.get("priority", "medium"),
            resource_config=resources,
            enabled=data.get("enabled", True),
            type=data.get("type", "training"),
        )

    def update(self, request, *args, **kwargs):
        schedule = self.get_object()
        unknown = set(request.data) - {"enabled"}
        if unknown or "enabled" not in request.data or not isinstance(request.data["enabled"], bool):
            raise ValidationError(
                {
                    "enabled": [
                        gettext(
                            "Only enabled (true or false) can be changed; create a new schedule otherwise."
                        )
                    ]
                }
            )
        schedules.schedule_set_enabled(schedule=schedule, enabled=request.data["enabled"])
        schedule.periodic_task.refresh_from_db()
        response = Response(ScheduleSerializer(schedule).data)
        response.message = gettext("Enabled.") if request.data["enabled"] else gettext("Paused.")
        return response

    def perform_destroy(self, instance):
        schedules.schedule_delete(schedule=instance)
