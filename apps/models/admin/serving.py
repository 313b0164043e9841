"""Serving in the admin: sampled prediction requests and batch predictions, read-only."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ReadOnlyAdmin, admin_link, human_size, json_display

from ..models import BatchPrediction, PredictionLog


@admin.register(PredictionLog)
class PredictionLogAdmin(ReadOnlyAdmin):
    """A sample of the prediction requests, with the version (and A/B side) that answered."""

    list_display = ["created_at", "request_id", "model", "version", "arm", "records", "latency_ms", "user"]
    list_filter = [
        ("model", admin.RelatedOnlyFieldListFilter),
        ("version", admin.RelatedOnlyFieldListFilter),
        "arm",
    ]
    search_fields = ["request_id", "entity_key"]
    date_hierarchy = "created_at"
    list_select_related = ["model", "version__model", "user"]
    show_full_result_count = False  # a busy model logs many requests
    fields = [
        "created_at",
        "request_id",
        "model",
        "version",
        "arm",
        "entity_key",
        "records",
        "latency_ms",
        "user",
        "inputs_pretty",
        "scores_pretty",
        "reasons_pretty",
    ]
    readonly_fields = ["inputs_pretty", "scores_pretty", "reasons_pretty"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    inputs_pretty = json_display("inputs", _("inputs"))
    scores_pretty = json_display("scores", _("scores"))
    reasons_pretty = json_display("reasons", _("reasons"))


@admin.register(BatchPrediction)
class BatchPredictionAdmin(ReadOnlyAdmin):
    """Scores of whole dataset versions, each from a prediction task, with its CSV."""

    list_display = [
        "created_at",
        "version",
        "dataset_version",
        "rows",
        "size_display",
        "task_link",
        "download",
    ]
    list_filter = [
        ("version__model", admin.RelatedOnlyFieldListFilter),
        ("version", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["version__model__name", "dataset_version__dataset__name"]
    date_hierarchy = "created_at"
    list_select_related = ["version__model", "dataset_version__dataset", "task"]
    fields = ["created_at", "version", "dataset_version", "rows", "size_display", "task_link", "download"]
    readonly_fields = ["size_display", "task_link", "download"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the file is what the task produced; its lineage stays

    @admin.display(description=_("size"), ordering="size")
    def size_display(self, obj: BatchPrediction) -> str:
        return human_size(obj.size)

    @admin.display(description=_("task"), ordering="task")
    def task_link(self, obj: BatchPrediction):
        return admin_link("admin:tasks_task_change", obj.task)

    @admin.display(description=_("file"))
    def download(self, obj: BatchPrediction):
        return format_html('<a href="{}">CSV</a>', reverse("batch-prediction-download", args=[obj.pk]))
