"""Datasets admin: upload, versions with their validation, bank-record lines."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import Count
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.core.admin import ReadOnlyAdmin

from . import services
from .errors import DatasetInUse
from .forms import UploadForm, upload_from_form
from .models import Dataset, DatasetKind, DatasetRecord, DatasetVersion


def _task_link(obj: DatasetVersion):
    if obj.task_id is None:
        return "-"
    url = reverse("admin:tasks_task_change", args=[obj.task_id])
    return format_html('<a href="{}">#{}</a>', url, obj.task_id)


class DatasetVersionInline(admin.TabularInline):
    model = DatasetVersion
    fields = [
        "version_link",
        "status",
        "format",
        "original_filename",
        "file_size",
        "row_count",
        "quality_score",
        "task_link",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="version")
    def version_link(self, obj):
        url = reverse("admin:datasets_datasetversion_change", args=[obj.pk])
        return format_html('<a href="{}">v{}</a>', url, obj.version)

    @admin.display(description="validation task")
    def task_link(self, obj):
        return _task_link(obj)


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "latest_status",
        "version_count",
        "is_archived",
        "created_by",
        "updated_at",
    ]
    list_filter = ["kind", "is_archived", "versions__status"]
    search_fields = ["name", "description", "created_by__username"]
    list_select_related = ["created_by"]
    readonly_fields = ["kind", "created_by", "created_at", "updated_at"]
    fields = ["name", "kind", "description", "is_archived", "created_by", "created_at", "updated_at"]
    inlines = [DatasetVersionInline]
    # apps.features adds "register_features" (registering columns as features is its job).
    actions = ["archive", "restore"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_versions=Count("versions"))

    @admin.display(description="versions", ordering="n_versions")
    def version_count(self, obj) -> int:
        return obj.n_versions

    @admin.display(description="latest status")
    def latest_status(self, obj) -> str:
        latest = obj.latest_version()
        return latest.get_status_display() if latest else "-"

    def has_add_permission(self, request) -> bool:
        return False  # datasets come from uploads (see "Upload a dataset")

    def delete_model(self, request, obj):
        services.dataset_delete(dataset=obj)

    def delete_queryset(self, request, queryset):
        for dataset in queryset:
            try:
                services.dataset_delete(dataset=dataset)
            except DatasetInUse as exc:
                self.message_user(request, exc.message, messages.ERROR)

    @admin.action(description="Archive selected datasets", permissions=["change"])
    def archive(self, request, queryset):
        for dataset in queryset:
            services.dataset_set_archived(dataset=dataset, archived=True)
        self.message_user(request, f"Archived {queryset.count()} dataset(s).")

    @admin.action(description="Restore selected datasets", permissions=["change"])
    def restore(self, request, queryset):
        for dataset in queryset:
            services.dataset_set_archived(dataset=dataset, archived=False)
        self.message_user(request, f"Restored {queryset.count()} dataset(s).")

    def get_urls(self):
        urls = super().get_urls()
        upload = path("upload/", self.admin_site.admin_view(self.upload_view), name="datasets_dataset_upload")
        return [upload, *urls]

    def upload_view(self, request):
        if not self.has_view_permission(request) or not request.user.has_perm("datasets.add_dataset"):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            version, created = upload_from_form(request, form)
            if version is not None:
                text = (
                    f"Uploaded {version}; validation queued."
                    if created
                    else f"Already uploaded as {version}."
                )
                self.message_user(request, text, messages.SUCCESS)
                return redirect("admin:datasets_datasetversion_change", version.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": "Upload a dataset",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/datasets/upload.html", context)


@admin.register(DatasetVersion)
class DatasetVersionAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "kind",
        "status",
        "task_link",
        "format",
        "file_size",
        "row_count",
        "invalid_count",
        "quality_score",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "dataset__kind", "format", "is_archived"]
    search_fields = ["dataset__name", "original_filename", "sha256", "created_by__username"]
    list_select_related = ["dataset", "created_by"]
    exclude = ["validation_result", "quality", "task"]
    readonly_fields = ["task_link", "records_link", "validation_pretty"]

    @admin.display(description="validation task", ordering="task")
    def task_link(self, obj):
        return _task_link(obj)

    @admin.display(description="kind", ordering="dataset__kind")
    def kind(self, obj) -> str:
        return obj.dataset.get_kind_display()

    @admin.display(description="records")
    def records_link(self, obj):
        if obj.dataset.kind != DatasetKind.BANK_RECORDS:
            return "-"
        url = reverse("admin:datasets_datasetrecord_changelist") + f"?version__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">{} lines ({} invalid)</a>', url, obj.row_count or 0, obj.invalid_count or 0
        )

    @admin.display(description="validation result")
    def validation_pretty(self, obj):
        text = (
            json.dumps(obj.validation_result, ensure_ascii=False, indent=2) if obj.validation_result else "-"
        )
        return format_html("<pre style='max-height:30em;overflow:auto'>{}</pre>", text)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # delete the dataset (admins), never one version under a model's feet


@admin.register(DatasetRecord)
class DatasetRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "line_number",
        "bank_name",
        "bank_code",
        "clearing_code",
        "is_valid",
        "error_message",
        "version",
    ]
    list_filter = ["is_valid", "version__dataset"]
    search_fields = ["bank_name", "bank_code", "clearing_code", "error_message"]
    list_select_related = ["version__dataset"]
    show_full_result_count = False  # counting 150k rows per page view is wasted work

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
