"""Work queue: admin.

Tasks, their logs and their schedules are shown read-only. Every change goes through
the services: cancel and re-run are actions on the task list, a schedule is enabled,
disabled or deleted through ``schedule_set_enabled`` / ``schedule_delete``. A task's
status is never a form field: the change page of a task is a view page.
"""

from __future__ import annotations

import logging

from django.contrib import admin, messages
from django.db.models import Count, Max
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ReadOnlyAdmin, ReadOnlyInlineMixin, json_display

from . import schedules, services
from .errors import IllegalTransition, QueueUnavailable, RequestInvalid
from .kinds import kind_of
from .models import Task, TaskLog, TaskSchedule, TaskStatus

logger = logging.getLogger(__name__)

# The task page shows this many of a task's newest log lines; the rest are in the log list.
INLINE_LOG_LIMIT = 200


def _task_link(task: Task | None):
    if task is None:
        return "-"
    url = reverse("admin:tasks_task_change", args=[task.pk])
    return format_html('<a href="{}">{}</a>', url, task)


def _model_version_link(task: Task):
    version = task.produced_version
    if version is None:
        return "-"
    url = reverse("admin:models_modelversion_change", args=[version["id"]])
    return format_html('<a href="{}">{} v{}</a>', url, version["model_name"], version["version"])


class LatestLogsFormSet(BaseInlineFormSet):
    """The task's newest INLINE_LOG_LIMIT log lines, oldest first."""

    def get_queryset(self):
        if not hasattr(self, "_latest_logs"):
            qs = super().get_queryset()
            cutoff = (
                TaskLog.objects.filter(task=self.instance)
                .order_by("-id")
                .values_list("id", flat=True)[INLINE_LOG_LIMIT - 1 : INLINE_LOG_LIMIT]
            )
            cutoff = next(iter(cutoff), None)
            if cutoff is not None:
                qs = qs.filter(id__gte=cutoff)
            self._latest_logs = qs.order_by("id")
        return self._latest_logs


class TaskLogInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = TaskLog
    formset = LatestLogsFormSet
    fields = ["created_at", "level", "message", "step", "loss", "valid_loss"]
    readonly_fields = fields
    ordering = ["id"]
    verbose_name_plural = lazy(
        lambda: gettext("task logs (the latest %(n)s)") % {"n": INLINE_LOG_LIMIT}, str
    )()


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "name",
        "type",
        "status",
        "priority",
        "progress_display",
        "attempts",
        "created_by",
        "created_at",
        "started_at",
        "completed_at",
        "model_version_link",
    ]
    list_display_links = ["id", "name"]
    list_filter = ["status", "type", "priority", ("created_by", admin.RelatedOnlyFieldListFilter), "schedule"]
    search_fields = ["name", "celery_task_id"]
    date_hierarchy = "created_at"
    list_select_related = ["created_by"]
    actions = ["cancel_tasks", "rerun_tasks"]
    inlines = [TaskLogInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "type",
                    "status",
                    "priority",
                    "progress_display",
                    "cancel_requested",
                    "error",
                    "model_version_link",
                ]
            },
        ),
        (_("Request"), {"fields": ["parameters_pretty", "resource_config_pretty", "dataset_version_link"]}),
        (_("Result"), {"fields": ["result_pretty"]}),
        (
            _("Run"),
            {
                "fields": [
                    "celery_task_id",
                    "attempts",
                    "worker",
                    "heartbeat_at",
                    "created_by",
                    "created_at",
                    "queued_at",
                    "started_at",
                    "completed_at",
                ]
            },
        ),
        (_("Origin"), {"fields": ["schedule_link", "rerun_of_link", "trigger_key", "logs_summary"]}),
    ]
    readonly_fields = [
        "progress_display",
        "model_version_link",
        "parameters_pretty",
        "resource_config_pretty",
        "dataset_version_link",
        "result_pretty",
        "schedule_link",
        "rerun_of_link",
        "logs_summary",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by", "schedule", "rerun_of")

    # A task is the lineage of the model version it trained (its FK would be nulled) and
    # the history of the queue; the admin never deletes one.
    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_operate_permission(self, request) -> bool:
        """Cancel and re-run: for those who may change tasks (the change page stays read-only)."""
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    # ----------------------------------------------------------------- columns and fields

    @admin.display(description=_("progress"), ordering="progress")
    def progress_display(self, obj: Task) -> str:
        return f"{obj.progress:.0f}%"

    @admin.display(description=_("model version"))
    def model_version_link(self, obj: Task):
        return _model_version_link(obj)

    parameters_pretty = json_display("parameters", _("parameters"))
    resource_config_pretty = json_display("resource_config", _("resource config"))
    result_pretty = json_display("result", _("result"))

    @admin.display(description=_("dataset version"))
    def dataset_version_link(self, obj: Task):
        # What a task points at is its kind's to say: the queue knows no domain.
        try:
            related = kind_of(obj).related
        except IllegalTransition:
            related = None
        links = related(obj) if related else []
        if not links:
            return "-"
        return format_html_join(", ", '<a href="{1}">{0}</a>', links)

    @admin.display(description=_("schedule"))
    def schedule_link(self, obj: Task):
        if obj.schedule is None:
            return "-"
        url = reverse("admin:tasks_taskschedule_change", args=[obj.schedule_id])
        return format_html('<a href="{}">{}</a>', url, obj.schedule)

    @admin.display(description=_("re-run of"))
    def rerun_of_link(self, obj: Task):
        return _task_link(obj.rerun_of)

    @admin.display(description=_("logs"))
    def logs_summary(self, obj: Task):
        count = obj.logs.count()
        url = reverse("admin:tasks_tasklog_changelist") + f"?task__id__exact={obj.pk}"
        shown = min(count, INLINE_LOG_LIMIT)
        text = gettext('{count} line(s), the latest {shown} below; <a href="{url}">all of them</a>')
        return format_html(text, count=count, shown=shown, url=url)

    # ----------------------------------------------------------------- actions

    @admin.action(description=_("Cancel selected tasks"), permissions=["operate"])
    def cancel_tasks(self, request, queryset):
        for task in queryset.order_by("id"):
            try:
                task = services.task_cancel(task=task)
            except IllegalTransition as exc:
                self.message_user(request, str(exc), messages.WARNING)
                continue
            except Exception as exc:  # one task's broker trouble must not hide the others' results
                logger.exception("admin cancel of task %s failed", task.pk)
                self.message_user(
                    request,
                    gettext("Task %(task)s: cancel failed: %(error)s") % {"task": task, "error": exc},
                    messages.ERROR,
                )
                continue
            if task.status == TaskStatus.CANCELLED:
                text = gettext("Task %(task)s cancelled.") % {"task": task}
            else:
                text = gettext("Task %(task)s: cancel requested; it stops at its next round.") % {
                    "task": task
                }
            self.log_change(request, task, gettext("Cancelled through the admin."))
            self.message_user(request, text, messages.SUCCESS)

    @admin.action(description=_("Re-run selected tasks"), permissions=["operate"])
    def rerun_tasks(self, request, queryset):
        for task in queryset.order_by("id"):
            try:
                new = services.task_rerun(task=task, user=request.user)
            except (RequestInvalid, IllegalTransition) as exc:
                level = messages.ERROR if isinstance(exc, RequestInvalid) else messages.WARNING
                text = gettext("Task %(task)s cannot be re-run: %(error)s") % {"task": task, "error": exc}
                self.message_user(request, text, level)
                continue
            except QueueUnavailable as exc:
                text = gettext("Task %(task)s: the re-run could not be queued: %(error)s") % {
                    "task": task,
                    "error": exc.detail,
                }
                self.message_user(request, text, messages.ERROR)
                continue
            self.log_change(
                request, task, gettext("Re-run as task #%(id)s through the admin.") % {"id": new.pk}
            )
            url = reverse("admin:tasks_task_change", args=[new.pk])
            link = format_html('<a href="{}">{}</a>', url, new)
            self.message_user(
                request,
                format_html(gettext("Task {task} re-run as {link}."), task=task, link=link),
                messages.SUCCESS,
            )


@admin.register(TaskLog)
class TaskLogAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "task_link", "level", "step", "loss", "valid_loss", "short_message"]
    list_filter = ["level", "task__type"]
    search_fields = ["message"]
    list_select_related = ["task"]
    ordering = ["-id"]
    show_full_result_count = False  # a long training writes thousands of lines
    fields = ["task_link", "created_at", "level", "message", "step", "loss", "valid_loss", "metrics_pretty"]
    readonly_fields = ["task_link", "metrics_pretty"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # old lines are purged by the tasks-log-retention-days setting

    @admin.display(description=_("task"), ordering="task")
    def task_link(self, obj: TaskLog):
        return _task_link(obj.task)

    @admin.display(description=_("message"))
    def short_message(self, obj: TaskLog) -> str:
        return obj.message if len(obj.message) <= 120 else obj.message[:119] + "…"

    metrics_pretty = json_display("metrics", _("metrics"))


@admin.register(TaskSchedule)
class TaskScheduleAdmin(ReadOnlyAdmin):
    """Schedules are made on the analyst page or through the API; here they are seen,
    switched on or off and deleted."""

    list_display = [
        "name",
        "type",
        "priority",
        "timing",
        "enabled",
        "last_run",
        "total_runs",
        "created_by",
        "created_at",
    ]
    list_filter = [
        "periodic_task__enabled",
        "type",
        "priority",
        ("created_by", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name"]
    list_select_related = ["created_by", "periodic_task__interval", "periodic_task__crontab"]
    actions = ["enable_schedules", "disable_schedules"]
    fields = [
        "name",
        "type",
        "priority",
        "timing",
        "enabled",
        "periodic_task_link",
        "last_run",
        "runs_link",
        "parameters_pretty",
        "resource_config_pretty",
        "created_by",
        "created_at",
    ]
    readonly_fields = [
        "timing",
        "enabled",
        "periodic_task_link",
        "last_run",
        "runs_link",
        "parameters_pretty",
        "resource_config_pretty",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("created_by", "periodic_task__interval", "periodic_task__crontab")
            .annotate(n_runs=Count("runs"), last_run_at=Max("runs__created_at"))
        )

    def has_toggle_permission(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    @admin.display(description=_("timing"))
    def timing(self, obj: TaskSchedule) -> str:
        periodic = obj.periodic_task
        if periodic.interval is not None:
            every = periodic.interval.every
            # django-celery-beat's own (translated) period names, singular for one in English.
            period = str(periodic.interval.get_period_display()).lower()
            period = period if every != 1 else period.rstrip("s")
            return gettext("every %(n)s %(period)s") % {"n": every, "period": period}
        if periodic.crontab is not None:
            c = periodic.crontab
            fields = (c.minute, c.hour, c.day_of_month, c.month_of_year, c.day_of_week)
            return f"cron {' '.join(fields)} ({c.timezone})"
        return "-"

    @admin.display(description=_("enabled"), boolean=True, ordering="periodic_task__enabled")
    def enabled(self, obj: TaskSchedule) -> bool:
        return obj.periodic_task.enabled

    @admin.display(description=_("last run"), ordering="last_run_at")
    def last_run(self, obj: TaskSchedule):
        return obj.last_run_at or "-"

    @admin.display(description=_("runs"), ordering="n_runs")
    def total_runs(self, obj: TaskSchedule) -> int:
        return obj.n_runs

    @admin.display(description=_("runs"))
    def runs_link(self, obj: TaskSchedule):
        url = reverse("admin:tasks_task_changelist") + f"?schedule__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, gettext("%(n)s task(s)") % {"n": obj.n_runs})

    @admin.display(description=_("beat entry"))
    def periodic_task_link(self, obj: TaskSchedule):
        periodic = obj.periodic_task
        url = reverse("admin:django_celery_beat_periodictask_change", args=[periodic.pk])
        link = format_html('<a href="{}">{}</a>', url, periodic.name)
        return format_html(gettext("{link} (beat ran it {n} time(s))"), link=link, n=periodic.total_run_count)

    parameters_pretty = json_display("parameters")
    resource_config_pretty = json_display("resource_config")

    def _set_enabled(self, request, queryset, enabled: bool) -> None:
        changed = 0
        for schedule in queryset.select_related("periodic_task"):
            if schedule.periodic_task.enabled == enabled:
                continue
            schedules.schedule_set_enabled(schedule=schedule, enabled=enabled)
            self.log_change(request, schedule, gettext("Enabled.") if enabled else gettext("Disabled."))
            changed += 1
        if enabled:
            text = gettext("Enabled %(n)s schedule(s).") % {"n": changed}
        else:
            text = gettext("Disabled %(n)s schedule(s).") % {"n": changed}
        self.message_user(request, text, messages.SUCCESS)

    @admin.action(description=_("Enable selected schedules"), permissions=["toggle"])
    def enable_schedules(self, request, queryset):
        self._set_enabled(request, queryset, True)

    @admin.action(description=_("Disable selected schedules"), permissions=["toggle"])
    def disable_schedules(self, request, queryset):
        self._set_enabled(request, queryset, False)

    def delete_model(self, request, obj):
        schedules.schedule_delete(schedule=obj)

    def delete_queryset(self, request, queryset):
        for schedule in queryset.select_related("periodic_task"):
            schedules.schedule_delete(schedule=schedule)
