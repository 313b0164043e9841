"""Model versions in the admin: read-only records of what trained or was uploaded, with
lineage; promote (or request a promotion), roll back, deprecate and clear a review flag
as actions that ask for a reason. Only superusers delete, never a version with lineage."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html

from apps.core.admin import ProtectedDeleteMixin, admin_link, human_size, json_display

from .. import services
from ..display import headline_metrics
from ..models import ModelVersion, VersionStatus
from .actions import ReasonActionsMixin


@admin.register(ModelVersion)
class ModelVersionAdmin(ReasonActionsMixin, ProtectedDeleteMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "model",
        "version",
        "status",
        "review_required",
        "source",
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
        "source",
        "review_required",
    ]
    search_fields = ["model__name", "checksum", "signature", "dataset_sha256", "changelog"]
    actions = ["promote", "rollback_to", "deprecate", "clear_review"]
    list_select_related = ["model", "task", "dataset_version__dataset", "feature_set", "created_by"]
    date_hierarchy = "created_at"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "model_link",
                    "version",
                    "status",
                    "source",
                    "review_required",
                    "review_reason",
                    "trace_link",
                    "changelog",
                    "created_by",
                    "created_at",
                ]
            },
        ),
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
        "source",
        "review_required",
        "review_reason",
        "trace_link",
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
        return human_size(obj.size)

    @admin.display(description="model")
    def model_link(self, obj: ModelVersion):
        return admin_link("admin:models_model_change", obj.model)

    @admin.display(description="task", ordering="task")
    def task_link(self, obj: ModelVersion):
        return admin_link("admin:tasks_task_change", obj.task)

    @admin.display(description="dataset version")
    def dataset_version_link(self, obj: ModelVersion):
        return admin_link("admin:datasets_datasetversion_change", obj.dataset_version)

    @admin.display(description="feature set")
    def feature_set_link(self, obj: ModelVersion):
        return admin_link("admin:features_featureset_change", obj.feature_set)

    @admin.display(description="artifact")
    def artifact_name(self, obj: ModelVersion) -> str:
        # The name only: the signed file is served through the registry, never as a media URL.
        return obj.artifact.name or "-"

    @admin.display(description="trace")
    def trace_link(self, obj: ModelVersion):
        events = reverse("admin:models_versionevent_changelist") + f"?version__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">back to its data, forward to its predictions</a> · '
            '<a href="{}">lifecycle events</a>',
            reverse("trace-page", args=[obj.pk]),
            events,
        )

    metrics_pretty = json_display("metrics")
    parameters_pretty = json_display("parameters")
    test_results_pretty = json_display("test_results")
    feature_schema_pretty = json_display("feature_schema")
    library_versions_pretty = json_display("library_versions")
    training_info_pretty = json_display("training_info")

    # ----------------------------------------------------------------- lifecycle actions

    @staticmethod
    def _rows(versions: list[ModelVersion]) -> list[tuple[ModelVersion, str]]:
        """Each version with its status and its model's active version now."""
        active = dict(
            ModelVersion.objects.filter(
                model_id__in={v.model_id for v in versions}, status=VersionStatus.ACTIVE
            ).values_list("model_id", "version")
        )
        return [
            (
                v,
                f"{v.get_status_display().lower()}; "
                + (f"v{active[v.model_id]} is active now" if v.model_id in active else "none is active now"),
            )
            for v in versions
        ]

    @admin.action(description="Promote selected versions (asks for a reason)", permissions=["lifecycle"])
    def promote(self, request, queryset):
        versions = list(queryset.select_related("model").order_by("model__name", "version"))
        if len({v.model_id for v in versions}) < len(versions):
            self.message_user(
                request,
                "Select at most one version per model: a model has one active version.",
                messages.ERROR,
            )
            return None
        if services.approval_required():
            return self.ask_reason(
                request,
                self._rows(versions),
                title="Request promotion",
                confirm="Request promotion",
                note="Maker-checker is on: this files a promotion request; a different admin approves or "
                "rejects it under Promotion requests.",
                apply=lambda reason: self.change_each(
                    request,
                    versions,
                    lambda v: services.promotion_request(version=v, user=request.user, reason=reason),
                    reason=reason,
                    done="Promotion of {obj} requested; a different admin must approve it.",
                    failed="not requested",
                    level=messages.INFO,
                ),
            )
        return self.ask_reason(
            request,
            self._rows(versions),
            title="Promote versions",
            confirm="Promote",
            note="Each becomes its model's active version; the version active now becomes inactive.",
            apply=lambda reason: self.change_each(
                request,
                versions,
                lambda v: services.version_activate(version=v, user=request.user, reason=reason),
                reason=reason,
                done="Promoted {obj}.",
                failed="not promoted",
            ),
        )

    @admin.action(
        description="Roll back to the selected version (asks for a reason)", permissions=["lifecycle"]
    )
    def rollback_to(self, request, queryset):
        versions = list(queryset.select_related("model")[:2])
        if len(versions) != 1:
            self.message_user(request, "Select the one version to roll back to.", messages.ERROR)
            return None
        return self.ask_reason(
            request,
            self._rows(versions),
            title=f"Roll {versions[0].model} back to v{versions[0].version}",
            confirm="Roll back",
            note="It becomes the active version again; the version active now becomes inactive.",
            apply=lambda reason: self.change_each(
                request,
                versions,
                lambda v: services.model_rollback(
                    model=v.model, user=request.user, reason=reason, to_version=v
                ),
                reason=reason,
                done="Rolled back to {obj}.",
                failed="not rolled back to",
            ),
        )

    @admin.action(description="Deprecate selected versions (asks for a reason)", permissions=["lifecycle"])
    def deprecate(self, request, queryset):
        versions = list(queryset.select_related("model").order_by("model__name", "version"))
        return self.ask_reason(
            request,
            self._rows(versions),
            title="Deprecate versions",
            confirm="Deprecate",
            note="A deprecated version can no longer be made active; the active one cannot be deprecated.",
            apply=lambda reason: self.change_each(
                request,
                versions,
                lambda v: services.version_deprecate(version=v, user=request.user, reason=reason),
                reason=reason,
                done="Deprecated {obj}.",
                failed="not deprecated",
            ),
        )

    @admin.action(
        description="Clear the review flag of selected versions (asks for a reason)",
        permissions=["lifecycle"],
    )
    def clear_review(self, request, queryset):
        versions = list(queryset.select_related("model").order_by("model__name", "version"))
        return self.ask_reason(
            request,
            [(v, v.review_reason or "not marked for review") for v in versions],
            title="Clear review flags",
            confirm="Clear the flag",
            note="Say what the review found; the flag and this reason both stay in the trail.",
            apply=lambda reason: self.change_each(
                request,
                versions,
                lambda v: services.version_review_clear(version=v, user=request.user, reason=reason),
                reason=reason,
                done="Review of {obj} cleared.",
                failed="review not cleared",
            ),
        )
