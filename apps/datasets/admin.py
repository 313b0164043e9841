"""Datasets admin: upload, settings, versions with their validation, bank-record lines."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from apps.core.admin import ReadOnlyAdmin
from apps.core.errors import ApplicationError

from . import selectors, services, texts
from .errors import DatasetInUse
from .forms import DatasetAdminForm, UploadForm, upload_from_form
from .models import Dataset, DatasetKind, DatasetRecord, DatasetVersion


def _task_link(obj: DatasetVersion):
    if obj.task_id is None:
        return "-"
    url = reverse("admin:tasks_task_change", args=[obj.task_id])
    return format_html('<a href="{}">#{}</a>', url, obj.task_id)


def _revalidate(modeladmin, request, versions) -> None:
    """Queue each version's validation again and say what happened."""
    queued = 0
    for version in versions:
        try:
            services.dataset_version_revalidate(version=version, user=request.user)
            queued += 1
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{version}: {exc.message}", messages.ERROR)
    if queued:
        modeladmin.message_user(
            request,
            ngettext(
                "Validation of %(count)d version queued.", "Validation of %(count)d versions queued.", queued
            )
            % {"count": queued},
        )


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

    @admin.display(description=gettext_lazy("version"))
    def version_link(self, obj):
        url = reverse("admin:datasets_datasetversion_change", args=[obj.pk])
        return format_html('<a href="{}">v{}</a>', url, obj.version)

    @admin.display(description=gettext_lazy("validation task"))
    def task_link(self, obj):
        return _task_link(obj)


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    form = DatasetAdminForm
    list_display = [
        "name",
        "kind",
        "code_scheme",
        "latest_status",
        "version_count",
        "is_archived",
        "created_by",
        "updated_at",
    ]
    list_filter = ["kind", "code_scheme", "is_archived", "versions__status"]
    search_fields = ["name", "description", "created_by__username"]
    list_select_related = ["created_by"]
    readonly_fields = ["kind", "created_by", "created_at", "updated_at"]
    fields = [
        "name",
        "kind",
        "description",
        "code_scheme",
        "error_rules",
        "is_archived",
        "created_by",
        "created_at",
        "updated_at",
    ]
    inlines = [DatasetVersionInline]
    # apps.features adds "register_features" (registering columns as features is its job).
    actions = ["archive", "restore", "validate_newest"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_versions=Count("versions"))

    @admin.display(description=gettext_lazy("versions"), ordering="n_versions")
    def version_count(self, obj) -> int:
        return obj.n_versions

    @admin.display(description=gettext_lazy("latest status"))
    def latest_status(self, obj) -> str:
        latest = obj.latest_version()
        return latest.get_status_display() if latest else "-"

    def has_add_permission(self, request) -> bool:
        return False  # datasets come from uploads (see "Upload a dataset")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and {"code_scheme", "error_rules"} & set(form.changed_data):
            self.message_user(
                request,
                _("Validate a version again (an action of the list) to apply the new settings."),
                messages.WARNING,
            )

    def delete_model(self, request, obj):
        services.dataset_delete(dataset=obj)

    def delete_queryset(self, request, queryset):
        for dataset in queryset:
            try:
                services.dataset_delete(dataset=dataset)
            except DatasetInUse as exc:
                self.message_user(request, exc.message, messages.ERROR)

    @admin.action(description=gettext_lazy("Archive selected datasets"), permissions=["change"])
    def archive(self, request, queryset):
        for dataset in queryset:
            services.dataset_set_archived(dataset=dataset, archived=True)
        count = queryset.count()
        self.message_user(
            request,
            ngettext("Archived %(count)d dataset.", "Archived %(count)d datasets.", count) % {"count": count},
        )

    @admin.action(description=gettext_lazy("Restore selected datasets"), permissions=["change"])
    def restore(self, request, queryset):
        for dataset in queryset:
            services.dataset_set_archived(dataset=dataset, archived=False)
        count = queryset.count()
        self.message_user(
            request,
            ngettext("Restored %(count)d dataset.", "Restored %(count)d datasets.", count) % {"count": count},
        )

    @admin.action(
        description=gettext_lazy("Validate the newest version again (applies the settings)"),
        permissions=["change"],
    )
    def validate_newest(self, request, queryset):
        _revalidate(self, request, [v for d in queryset if (v := d.latest_version()) is not None])

    def get_urls(self):
        urls = super().get_urls()
        upload = path("upload/", self.admin_site.admin_view(self.upload_view), name="datasets_dataset_upload")
        return [upload, *urls]

    def upload_view(self, request):
        if not self.has_view_permission(request) or not request.user.has_perm("datasets.add_dataset"):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            version, created = upload_from_form(request, form)
            if version is not None:
                text = (
                    _("Uploaded %(version)s; validation queued.")
                    if created
                    else _("Already uploaded as %(version)s.")
                ) % {"version": version}
                self.message_user(request, text, messages.SUCCESS)
                return redirect("admin:datasets_datasetversion_change", version.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": _("Upload a dataset"),
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
    exclude = ["validation_result", "quality", "task", "error_message"]
    readonly_fields = ["task_link", "error_text", "records_link", "counts_table", "validation_pretty"]
    actions = ["revalidate"]

    @admin.display(description=gettext_lazy("validation task"), ordering="task")
    def task_link(self, obj):
        return _task_link(obj)

    @admin.display(description=gettext_lazy("kind"), ordering="dataset__kind")
    def kind(self, obj) -> str:
        return obj.dataset.get_kind_display()

    @admin.display(description=gettext_lazy("error message"))
    def error_text(self, obj) -> str:
        return texts.version_error_text(obj) or "-"

    @admin.display(description=gettext_lazy("records"))
    def records_link(self, obj):
        if obj.dataset.kind != DatasetKind.BANK_RECORDS:
            return "-"
        url = reverse("admin:datasets_datasetrecord_changelist") + f"?version__id__exact={obj.pk}"
        text = _("%(lines)s lines (%(invalid)s invalid)") % {
            "lines": obj.row_count or 0,
            "invalid": obj.invalid_count or 0,
        }
        return format_html('<a href="{}">{}</a>', url, text)

    @admin.display(description=gettext_lazy("lines per kind and scheme"))
    def counts_table(self, obj):
        if obj.dataset.kind != DatasetKind.BANK_RECORDS:
            return "-"
        quality = selectors.records_quality(obj)
        url = reverse("admin:datasets_datasetrecord_changelist") + f"?version__id__exact={obj.pk}"
        kinds = format_html_join(
            "",
            '<tr><td><a href="{}&kind={}">{}</a></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>',
            (
                (
                    url,
                    k["kind"],
                    k["label"],
                    k["kind"],
                    _("error") if k["level"] == "error" else _("warning"),
                    k["count"],
                )
                for k in quality["kinds"]
            ),
        )
        schemes = format_html_join(
            "",
            "<tr><td>{}</td><td></td><td>{}</td><td>{}</td></tr>",
            ((s["label"], _("code scheme"), s["count"]) for s in quality["schemeCounts"]),
        )
        return format_html("<table>{}{}</table>", kinds, schemes)

    @admin.display(description=gettext_lazy("validation result"))
    def validation_pretty(self, obj):
        shown = texts.validation_result_shown(obj.validation_result)
        text = json.dumps(shown, ensure_ascii=False, indent=2) if shown else "-"
        return format_html("<pre style='max-height:30em;overflow:auto'>{}</pre>", text)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # delete the dataset (admins), never one version under a model's feet

    def has_revalidate_permission(self, request) -> bool:
        return request.user.has_perms(["datasets.change_dataset", "tasks.add_task"])

    @admin.action(
        description=gettext_lazy("Validate again (applies the dataset's code scheme and warning rules)"),
        permissions=["revalidate"],
    )
    def revalidate(self, request, queryset):
        _revalidate(self, request, queryset.select_related("dataset"))


class IssueKindFilter(admin.SimpleListFilter):
    title = gettext_lazy("problem or warning")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(kind, label) for kind, label in texts.KIND_LABELS.items()]

    def queryset(self, request, queryset):
        return selectors.records_with_kind(queryset, self.value()) if self.value() else queryset


class HasWarningsFilter(admin.SimpleListFilter):
    title = gettext_lazy("warnings")
    parameter_name = "warned"

    def lookups(self, request, model_admin):
        return [("yes", _("With warnings")), ("no", _("Without warnings"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return selectors.records_with_warnings(queryset)
        if self.value() == "no":
            return selectors.records_with_warnings(queryset, with_warnings=False)
        return queryset


@admin.register(DatasetRecord)
class DatasetRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "line_number",
        "bank_name",
        "bank_code",
        "scheme",
        "clearing_code",
        "country",
        "is_valid",
        "problems_text",
        "warnings_text",
        "version",
    ]
    list_filter = ["is_valid", IssueKindFilter, HasWarningsFilter, "scheme", "version__dataset"]
    search_fields = ["bank_name", "bank_code", "clearing_code", "bic", "error_message"]
    list_select_related = ["version__dataset"]
    exclude = ["problems", "warnings", "issue_kinds", "error_message"]
    readonly_fields = ["problems_text", "warnings_text"]
    show_full_result_count = False  # counting 150k rows per page view is wasted work

    @admin.display(description=gettext_lazy("problems"))
    def problems_text(self, obj) -> str:
        return texts.record_error_text(obj)

    @admin.display(description=gettext_lazy("warnings"))
    def warnings_text(self, obj) -> str:
        return texts.record_warning_text(obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
