"""Model versions in the admin: read-only records of what trained or was uploaded, with
lineage; promote (or request a promotion), roll back, deprecate and clear a review flag
as actions that ask for a reason. Only superusers delete, never a version with lineage."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ProtectedDeleteMixin, admin_link, human_size, json_display

from .. import labels, services
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
        "objective_label",
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
            pgettext_lazy("fieldset", "Training"),
            {
                "fields": [
                    "algorithm",
                    "objective_label",
                    "metrics_pretty",
                    "parameters_pretty",
                    "test_results_pretty",
                    "feature_schema_pretty",
                ]
            },
        ),
        (
            _("Artifact"),
            {"fields": ["artifact_name", "artifact_format", "size_display", "checksum", "signature"]},
        ),
        (
            _("Lineage"),
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
        "objective_label",
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
                self.message_user(
                    request,
                    gettext("%(version)s kept: it has lineage or is active.") % {"version": version},
                    messages.WARNING,
                )
                continue
            self.delete_model(request, version)

    # ----------------------------------------------------------------- columns and fields

    @admin.display(description=_("metrics"))
    def metrics_summary(self, obj: ModelVersion) -> str:
        return headline_metrics(obj.metrics)

    @admin.display(description=_("size"), ordering="size")
    def size_display(self, obj: ModelVersion) -> str:
        return human_size(obj.size)

    @admin.display(description=_("objective"), ordering="objective")
    def objective_label(self, obj: ModelVersion) -> str:
        return labels.objective_label(obj.objective) or "-"

    @admin.display(description=_("model"))
    def model_link(self, obj: ModelVersion):
        return admin_link("admin:models_model_change", obj.model)

    @admin.display(description=_("task"), ordering="task")
    def task_link(self, obj: ModelVersion):
        return admin_link("admin:tasks_task_change", obj.task)

    @admin.display(description=_("dataset version"))
    def dataset_version_link(self, obj: ModelVersion):
        return admin_link("admin:datasets_datasetversion_change", obj.dataset_version)

    @admin.display(description=_("feature set"))
    def feature_set_link(self, obj: ModelVersion):
        return admin_link("admin:features_featureset_change", obj.feature_set)

    @admin.display(description=_("artifact"))
    def artifact_name(self, obj: ModelVersion) -> str:
        # The name only: the signed file is served through the registry, never as a media URL.
        return obj.artifact.name or "-"

    @admin.display(description=_("trace"))
    def trace_link(self, obj: ModelVersion):
        events = reverse("admin:models_versionevent_changelist") + f"?version__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("trace-page", args=[obj.pk]),
            gettext("back to its data, forward to its predictions"),
            events,
            gettext("lifecycle events"),
        )

    metrics_pretty = json_display("metrics", _("metrics"))
    parameters_pretty = json_display("parameters", _("parameters"))
    test_results_pretty = json_display("test_results", _("test results"))
    feature_schema_pretty = json_display("feature_schema", _("feature schema"))
    library_versions_pretty = json_display("library_versions", _("library versions"))
    training_info_pretty = json_display("training_info", _("training info"))

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
                (
                    gettext("%(status)s; v%(active)s is active now")
                    % {"status": v.get_status_display().lower(), "active": active[v.model_id]}
                    if v.model_id in active
                    else gettext("%(status)s; none is active now")
                    % {"status": v.get_status_display().lower()}
                ),
            )
            for v in versions
        ]

    @admin.action(description=_("Promote selected versions (asks for a reason)"), permissions=["lifecycle"])
    def promote(self, request, queryset):
        versions = list(queryset.select_related("model").order_by("model__name", "version"))
        if len({v.model_id for v in versions}) < len(versions):
            self.message_user(
                request,
                gettext("Select at most one version per model: a model has one active version."),
                messages.ERROR,
            )
            return None
        if services.approval_required():
            return self.ask_reason(
                request,
                self._rows(versions),
                title=gettext("Request promotion"),
                confirm=gettext("Request promotion"),
                note=gettext(
                    "Maker-checker is on: this files a promotion request; a different admin approves or "
                    "rejects it under Promotion requests."
                ),
                apply=lambda reason: self.change_each(
                    request,
                    versions,
                    lambda v: services.promotion_request(version=v, user=request.user, reason=reason),
                    reason=reason,
                    done=gettext("Promotion of %(obj)s requested; a different admin must approve it."),
                    failed=gettext("%(obj)s not requested: %(error)s"),
                    level=messages.INFO,
                ),
            )
        return self.ask_reason(
            request,
            self._rows(versions),
            title=gettext("Promote versions"),
            confirm=gettext("Promote"),
            note=gettext("Each becomes its model's active version; the version active now becomes inactive."),
            apply=lambda reason: self.change_each(
                request,
                versions,
                lambda v: services.version_activate(version=v, user=request.user, reason=reason),
                reason=reason,
                done=gettext("Promoted %(obj)s."),
                failed=gettext("%(obj)s not promoted: %(error)s"),
            ),
        )

    @admin.action(
        description=_("Roll back to the selected version (asks for a reason)"), permissions=["lifecycle"]
    )
    def rollback_to(self, request, queryset):
        versions = list(queryset.select_related("model")[:2])
        if len(versions) != 1:
            self.message_user(request, gettext("Select the one version to roll back to."), messages.ERROR)
            return None
        return self.ask_reason(
            request,
            self._rows(versions),
            title=gettext("Roll %(model)s back to v%(number)s")
            % {"model": versions[0].model, "number": versions[0].version},
            confirm=gettext("Roll back"),
            note=gettext("It becomes the active version again; the version active now becomes inactive."),
            apply=lambda reason: self.change_each(
                request,
                versions,
                lambda v: services.model_rollback(
                    model=v.model, user=request.user, reason=reason, to_version=v
                ),
                reason=reason,
                done=gettext("Rolled back to %(obj)s."),
                failed=gettext("%(obj)s not rolled back to: %(error)s"),
            ),
        )

    @admin.action(description=_("Deprecate selected versions (asks for a reason)"), permissions=["lifecycle"])
    def deprecate(self, request, queryset):
        versions = list(queryset.select_related("model").order_by("model__name", "version"))
        return self.ask_reason(
            request,
            self._rows(versions),
            title=gettext("Deprecate versions"),
            confirm=gettext("Deprecate"),
            note=gettext(
                "A deprecated version can no longer be made active; the active one cannot be deprecated."
            ),
            apply=lambda reason: self.change_each(
                request,
                versions,
                lambda v: services.version_deprecate(version=v, user=request.user, reason=reason),
                reason=reason,
                done=gettext("Deprecated %(obj)s."),
                failed=gettext("%(obj)s not deprecated: %(error)s"),
            ),
        )

    @admin.action(
        description=_("Clear the review flag of selected versions (asks for a reason)"),
        permissions=["lifecycle"],
    )
    def clear_review(self, request, queryset):
        versions = list(queryset.select_related("model").order_by("model__name", "version"))
        return self.ask_reason(
            request,
            [(v, v.review_reason or gettext("not marked for review")) for v in versions],
            title=gettext("Clear review flags"),
            confirm=gettext("Clear the flag"),
            note=gettext("Say what the review found; the flag and this reason both stay in the trail."),
            apply=lambda reason: self.change_each(
                request,
                versions,
                lambda v: services.version_review_clear(version=v, user=request.user, reason=reason),
                reason=reason,
                done=gettext("Review of %(obj)s cleared."),
                failed=gettext("%(obj)s review not cleared: %(error)s"),
            ),
        )
