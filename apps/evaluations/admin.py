"""Evaluations: admin. Results are what the platform computed: shown, never edited or deleted."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ReadOnlyAdmin, json_display

from .constants import METRIC_LABELS
from .models import TASK_STATUSES, Evaluation, EvaluationStatus


class StatusFilter(admin.SimpleListFilter):
    """The evaluation's status, read from its task (queued counts as pending)."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return EvaluationStatus.choices

    def queryset(self, request, queryset):
        if self.value() in TASK_STATUSES:
            return queryset.filter(task__status__in=TASK_STATUSES[self.value()])
        return queryset


def _metric(name: str):
    @admin.display(description=METRIC_LABELS.get(name, name))
    def show(self, obj: Evaluation):
        value = (obj.metrics or {}).get(name)
        return "-" if value is None else f"{value:.4f}"

    return show


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "model_name",
        "version_link",
        "dataset_version",
        "status_display",
        "auc",
        "ks",
        "gini",
        "psi",
        "rmse",
        "rows",
        "is_monitor",
        "alert_count",
        "created_by",
        "created_at",
    ]
    list_display_links = ["id"]
    list_filter = [
        StatusFilter,
        "objective",
        "is_monitor",
        ("model_version__model", admin.RelatedOnlyFieldListFilter),
        ("dataset_version__dataset", admin.RelatedOnlyFieldListFilter),
        ("created_by", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["model_version__model__name", "dataset_version__dataset__name"]
    date_hierarchy = "created_at"
    list_select_related = ["task", "model_version__model", "dataset_version__dataset", "created_by"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "version_link",
                    "dataset_version",
                    "task_link",
                    "status_display",
                    "objective",
                    "label",
                    "threshold",
                    "options_pretty",
                    "is_monitor",
                    "alerts_pretty",
                    "created_by",
                    "created_at",
                    "completed_at",
                    "report_link",
                ]
            },
        ),
        (
            _("Results"),
            {"fields": ["metrics_version", "rows", "metrics_pretty", "importance_pretty", "report_pretty"]},
        ),
    ]
    readonly_fields = [
        "version_link",
        "task_link",
        "status_display",
        "options_pretty",
        "alerts_pretty",
        "report_link",
        "metrics_pretty",
        "importance_pretty",
        "report_pretty",
    ]

    # A monitoring evaluation is the evidence behind a version's review flag: keep them all.
    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    auc = _metric("auc")
    ks = _metric("ks")
    gini = _metric("gini")
    psi = _metric("psi")
    rmse = _metric("rmse")
    options_pretty = json_display("options", _("options"))
    alerts_pretty = json_display("alerts", _("alerts"))
    metrics_pretty = json_display("metrics", _("metrics"))
    importance_pretty = json_display("importance", _("feature importance"))
    report_pretty = json_display("report", _("report"))

    @admin.display(description=_("model"), ordering="model_version__model__name")
    def model_name(self, obj: Evaluation) -> str:
        return obj.model_version.model.name

    @admin.display(description=_("version"), ordering="model_version__version")
    def version_link(self, obj: Evaluation):
        url = reverse("admin:models_modelversion_change", args=[obj.model_version_id])
        return format_html('<a href="{}">{}</a>', url, obj.model_version)

    @admin.display(description=_("task"))
    def task_link(self, obj: Evaluation):
        url = reverse("admin:tasks_task_change", args=[obj.task_id])
        return format_html('<a href="{}">{}</a>', url, obj.task)

    @admin.display(description=_("status"), ordering="task__status")
    def status_display(self, obj: Evaluation) -> str:
        return str(EvaluationStatus(obj.status).label)

    @admin.display(description=_("alerts"))
    def alert_count(self, obj: Evaluation) -> int:
        return len(obj.alerts or [])

    @admin.display(description=_("report"))
    def report_link(self, obj: Evaluation):
        return format_html(
            '<a href="{}">{}</a>', reverse("evaluation-report", args=[obj.pk]), gettext("analyst report page")
        )
