"""Model registry: admin.

Models and versions come from trainings; the admin shows them with their artifact,
signature, metrics and lineage, read-only. Only a model's description and a version's
changelog can be edited. Statuses change through the registry's services (promotion
and rollback are not admin actions). A version with lineage is never deleted here.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, OuterRef, ProtectedError, Subquery
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from apps.core.admin import ReadOnlyAdmin, ReadOnlyInlineMixin, json_display

from .models import Model, ModelVersion, VersionEvent, VersionStatus

# The metrics a list shows first, in this order, when a version has them.
HEADLINE_METRICS = ("auc", "ks", "accuracy", "f1_macro", "rmse", "mae", "r2")


def headline_metrics(metrics: dict | None, limit: int = 2) -> str:
    shown = []
    for key in HEADLINE_METRICS:
        value = (metrics or {}).get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            shown.append(f"{key} {value:.4f}")
        if len(shown) == limit:
            break
    return " · ".join(shown) or "-"


def _size(num: int | None) -> str:
    if num is None:
        return "-"
    value = float(num)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{num} B"  # pragma: no cover - the loop always returns


def _link(viewname: str, obj) -> str:
    if obj is None:
        return "-"
    return format_html('<a href="{}">{}</a>', reverse(viewname, args=[obj.pk]), obj)


def _protected_names(exc: ProtectedError, limit: int = 5) -> str:
    objs = list(exc.protected_objects)
    names = ", ".join(str(o) for o in objs[:limit])
    return names + (f" and {len(objs) - limit} more" if len(objs) > limit else "")


class ProtectedDeleteMixin:
    """A delete refused by a PROTECT foreign key shows a message, never a 500.

    The admin's confirmation page already lists protected objects; this covers what
    appears between that check and the delete. The transaction is rolled back, so no
    deletion is logged either.
    """

    def delete_view(self, request, object_id, extra_context=None):
        try:
            with transaction.atomic():
                return super().delete_view(request, object_id, extra_context)
        except ProtectedError as exc:
            self.message_user(request, f"Not deleted: still used by {_protected_names(exc)}.", messages.ERROR)
            return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")

    def changelist_view(self, request, extra_context=None):
        try:
            with transaction.atomic():
                return super().changelist_view(request, extra_context)
        except ProtectedError as exc:
            self.message_user(
                request, f"Nothing deleted: still used by {_protected_names(exc)}.", messages.ERROR
            )
            return redirect(request.get_full_path())


class ModelVersionInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = ModelVersion
    fields = [
        "version_link",
        "status",
        "algorithm",
        "objective",
        "metrics_summary",
        "size_display",
        "task_link",
        "dataset_version",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields
    ordering = ["-version"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("model", "task", "dataset_version__dataset", "created_by")
        )

    @admin.display(description="version")
    def version_link(self, obj: ModelVersion):
        url = reverse("admin:models_modelversion_change", args=[obj.pk])
        return format_html('<a href="{}">v{}</a>', url, obj.version)

    @admin.display(description="metrics")
    def metrics_summary(self, obj: ModelVersion) -> str:
        return headline_metrics(obj.metrics)

    @admin.display(description="size")
    def size_display(self, obj: ModelVersion) -> str:
        return _size(obj.size)

    @admin.display(description="task")
    def task_link(self, obj: ModelVersion):
        return _link("admin:tasks_task_change", obj.task)


@admin.register(Model)
class RegistryModelAdmin(ProtectedDeleteMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "type",
        "algorithm",
        "status",
        "version_count",
        "latest_version",
        "created_by",
        "updated_at",
    ]
    list_filter = ["type", "status", "algorithm", ("created_by", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "description", "algorithm"]
    list_select_related = ["created_by"]
    date_hierarchy = "updated_at"
    fields = [
        "name",
        "type",
        "algorithm",
        "status",
        "description",
        "parameters_pretty",
        "created_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "name",
        "type",
        "algorithm",
        "status",
        "parameters_pretty",
        "created_by",
        "created_at",
        "updated_at",
    ]
    inlines = [ModelVersionInline]

    def get_queryset(self, request):
        latest = ModelVersion.objects.filter(model=OuterRef("pk")).order_by("-version")
        return (
            super()
            .get_queryset(request)
            .annotate(n_versions=Count("versions"), latest=Subquery(latest.values("version")[:1]))
        )

    def has_add_permission(self, request) -> bool:
        return False  # a model is created by its first training

    def get_deleted_objects(self, objs, request):
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:
            # Its versions block the delete whoever asks: name them, rather than the
            # delete permission on versions that nobody but a superuser holds.
            perms_needed = set()
        return to_delete, model_count, perms_needed, protected

    @admin.display(description="versions", ordering="n_versions")
    def version_count(self, obj: Model) -> int:
        return obj.n_versions

    @admin.display(description="latest", ordering="latest")
    def latest_version(self, obj: Model) -> str:
        return f"v{obj.latest}" if obj.latest else "-"

    parameters_pretty = json_display("parameters")

    def save_model(self, request, obj, form, change):
        # Only the editable fields are written: a status changed meanwhile by a service stays.
        if form.changed_data:
            obj.save(update_fields=[*form.changed_data, "updated_at"])


@admin.register(ModelVersion)
class ModelVersionAdmin(ProtectedDeleteMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "model",
        "version",
        "status",
        "algorithm",
        "objective",
        "metrics_summary",
        "size_display",
        "task_link",
        "dataset_version",
        "created_by",
        "created_at",
    ]
    list_filter = [
        "status",
        "model",
        "algorithm",
        "objective",
        "model__type",
        "artifact_format",
    ]
    search_fields = ["model__name", "checksum", "signature", "dataset_sha256", "changelog"]
    list_select_related = ["model", "task", "dataset_version__dataset", "feature_set", "created_by"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["model_link", "version", "status", "changelog", "created_by", "created_at"]}),
        (
            "Training",
            {
                "fields": [
                    "algorithm",
                    "objective",
                    "metrics_pretty",
                    "parameters_pretty",
                    "test_results_pretty",
                    "feature_schema_pretty",
                ]
            },
        ),
        (
            "Artifact",
            {"fields": ["artifact_name", "artifact_format", "size_display", "checksum", "signature"]},
        ),
        (
            "Lineage",
            {
                "fields": [
                    "task_link",
                    "dataset_version_link",
                    "dataset_sha256",
                    "feature_set_link",
                    "seed",
                    "library_versions_pretty",
                    "training_info_pretty",
                ]
            },
        ),
    ]
    readonly_fields = [
        "model_link",
        "version",
        "status",
        "created_by",
        "created_at",
        "algorithm",
        "objective",
        "metrics_pretty",
        "parameters_pretty",
        "test_results_pretty",
        "feature_schema_pretty",
        "artifact_name",
        "artifact_format",
        "size_display",
        "checksum",
        "signature",
        "task_link",
        "dataset_version_link",
        "dataset_sha256",
        "feature_set_link",
        "seed",
        "library_versions_pretty",
        "training_info_pretty",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("model", "task", "dataset_version__dataset", "feature_set", "created_by")
        )

    def has_add_permission(self, request) -> bool:
        return False  # versions are registered by trainings

    def has_delete_permission(self, request, obj=None) -> bool:
        """Superusers only, and never a version with lineage or the active one."""
        if not request.user.is_superuser or not super().has_delete_permission(request, obj):
            return False
        return obj is None or not (self.has_lineage(obj) or obj.status == VersionStatus.ACTIVE)

    @staticmethod
    def has_lineage(obj: ModelVersion) -> bool:
        return bool(obj.task_id or obj.dataset_version_id or obj.feature_set_id)

    def save_model(self, request, obj, form, change):
        if form.changed_data:
            obj.save(update_fields=form.changed_data)

    def delete_model(self, request, obj):
        artifact = obj.artifact.name
        super().delete_model(request, obj)
        if artifact:
            transaction.on_commit(lambda: default_storage.delete(artifact))

    def delete_queryset(self, request, queryset):
        for version in queryset:
            if not self.has_delete_permission(request, version):
                self.message_user(request, f"{version} kept: it has lineage or is active.", messages.WARNING)
                continue
            self.delete_model(request, version)

    # ----------------------------------------------------------------- columns and fields

    @admin.display(description="metrics")
    def metrics_summary(self, obj: ModelVersion) -> str:
        return headline_metrics(obj.metrics)

    @admin.display(description="size", ordering="size")
    def size_display(self, obj: ModelVersion) -> str:
        return _size(obj.size)

    @admin.display(description="model")
    def model_link(self, obj: ModelVersion):
        return _link("admin:models_model_change", obj.model)

    @admin.display(description="task", ordering="task")
    def task_link(self, obj: ModelVersion):
        return _link("admin:tasks_task_change", obj.task)

    @admin.display(description="dataset version")
    def dataset_version_link(self, obj: ModelVersion):
        return _link("admin:datasets_datasetversion_change", obj.dataset_version)

    @admin.display(description="feature set")
    def feature_set_link(self, obj: ModelVersion):
        return _link("admin:features_featureset_change", obj.feature_set)

    @admin.display(description="artifact")
    def artifact_name(self, obj: ModelVersion) -> str:
        # The name only: the signed file is served through the registry, never as a media URL.
        return obj.artifact.name or "-"

    metrics_pretty = json_display("metrics")
    parameters_pretty = json_display("parameters")
    test_results_pretty = json_display("test_results")
    feature_schema_pretty = json_display("feature_schema")
    library_versions_pretty = json_display("library_versions")
    training_info_pretty = json_display("training_info")


@admin.register(VersionEvent)
class VersionEventAdmin(ReadOnlyAdmin):
    """The lifecycle audit trail: read-only, append-only. Filter by model and date to see
    which version was active when."""

    list_display = ["created_at", "model", "version", "action", "from_status", "to_status", "actor", "reason"]
    list_filter = ["action", "model", "actor"]
    search_fields = ["model__name", "reason"]
    date_hierarchy = "created_at"
    list_select_related = ["model", "version", "actor"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
