"""Model registry: admin.

Models and versions come from trainings and uploads; the admin shows them with their
artifact, signature, metrics and lineage, read-only. Only a model's description and a
version's changelog can be edited. Statuses change only through the registry's services,
as admin actions that ask for a reason first (kept in the audit trail): promote (or, with
maker-checker on, request a promotion), roll back, deprecate, clear a review flag,
archive a model, approve or reject a promotion request. A version with lineage is never
deleted here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, OuterRef, ProtectedError, Subquery
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.core.admin import ReadOnlyAdmin, ReadOnlyInlineMixin, json_display

from . import services
from .forms import ActiveAtForm, ReasonForm
from .models import (
    BatchPrediction,
    Model,
    ModelVersion,
    PredictionLog,
    PromotionRequest,
    VersionEvent,
    VersionStatus,
)

# Who may change a version's or a model's lifecycle (as in the API).
LIFECYCLE_PERM = "models.change_modelversion"
# A model's page in the admin shows this many of its newest lifecycle events.
TRAIL_LIMIT = 10

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


class ReasonActionsMixin:
    """Lifecycle actions: each asks for a reason on an intermediate page, then calls a
    service once per selected row with one message each. A change the service refuses
    (LifecycleError, ConcurrentChange) is an error message, never a 500."""

    def has_lifecycle_permission(self, request) -> bool:
        return request.user.has_perm(LIFECYCLE_PERM)

    def ask_reason(
        self,
        request,
        rows: Sequence[tuple[Any, str]],
        *,
        title: str,
        confirm: str,
        apply: Callable[[str], None],
        note: str = "",
    ) -> TemplateResponse | None:
        """The reason page for ``rows`` ((object, what to know about it) each); once a
        reason is posted, ``apply(reason)`` runs and the admin goes back to the list."""
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            apply(form.cleaned_data["reason"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "confirm": confirm,
            "note": note,
            "rows": rows,
            "form": form,
            "opts": self.opts,
            "action": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "back": request.get_full_path(),
        }
        return TemplateResponse(request, "admin/models/reason.html", context)

    def change_each(
        self,
        request,
        objs: Sequence[Any],
        change: Callable[[Any], object],
        *,
        reason: str,
        done: str,
        failed: str,
        level: int = messages.SUCCESS,
    ) -> None:
        """``change(obj)`` for each object; ``done`` and ``failed`` word the messages
        (``done`` is formatted with ``obj``)."""
        for obj in objs:
            try:
                change(obj)
            except (services.LifecycleError, services.ConcurrentChange) as exc:
                self.message_user(request, f"{obj} {failed}: {exc}", messages.ERROR)
                continue
            text = done.format(obj=obj)
            self.log_change(request, obj, f"{text} Reason: {reason}")
            self.message_user(request, text, level)


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
class RegistryModelAdmin(ReasonActionsMixin, ProtectedDeleteMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "type",
        "algorithm",
        "status",
        "version_count",
        "latest_version",
        "active_version",
        "created_by",
        "updated_at",
    ]
    list_filter = ["type", "status", "algorithm", ("created_by", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "description", "algorithm"]
    list_select_related = ["created_by"]
    date_hierarchy = "updated_at"
    actions = ["archive"]
    change_form_template = "admin/models/model/change_form.html"
    fields = [
        "name",
        "type",
        "algorithm",
        "status",
        "description",
        "active_version_link",
        "ab_split",
        "lifecycle_trail",
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
        "active_version_link",
        "ab_split",
        "lifecycle_trail",
        "parameters_pretty",
        "created_by",
        "created_at",
        "updated_at",
    ]
    inlines = [ModelVersionInline]

    def get_queryset(self, request):
        latest = ModelVersion.objects.filter(model=OuterRef("pk")).order_by("-version")
        active = ModelVersion.objects.filter(model=OuterRef("pk"), status=VersionStatus.ACTIVE)
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_versions=Count("versions"),
                latest=Subquery(latest.values("version")[:1]),
                active=Subquery(active.values("version")[:1]),
            )
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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The change page, with the answer to "which version was active at ?active_at=…"."""
        model = self.get_object(request, object_id)
        if model is not None:
            form = ActiveAtForm(request.GET if "active_at" in request.GET else None)
            extra_context = {
                **(extra_context or {}),
                "active_at_form": form,
                "active_at_answer": form.answer(model) if form.is_valid() else None,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="versions", ordering="n_versions")
    def version_count(self, obj: Model) -> int:
        return obj.n_versions

    @admin.display(description="latest", ordering="latest")
    def latest_version(self, obj: Model) -> str:
        return f"v{obj.latest}" if obj.latest else "-"

    @admin.display(description="active", ordering="active")
    def active_version(self, obj: Model) -> str:
        return f"v{obj.active}" if obj.active else "-"

    @admin.display(description="active version")
    def active_version_link(self, obj: Model):
        return _link(
            "admin:models_modelversion_change", obj.versions.filter(status=VersionStatus.ACTIVE).first()
        )

    @admin.display(description="A/B split")
    def ab_split(self, obj: Model):
        """ab_version and ab_percent: the share of traffic the B version gets."""
        if obj.ab_version is None or not obj.ab_percent:
            return "none: the active version answers every request"
        return format_html(
            '<a href="{}">{}</a> gets {}% of the requests; the active version the rest',
            reverse("admin:models_modelversion_change", args=[obj.ab_version_id]),
            obj.ab_version,
            obj.ab_percent,
        )

    @admin.display(description="lifecycle trail")
    def lifecycle_trail(self, obj: Model):
        events = list(
            obj.events.select_related("version", "actor").order_by("-created_at", "-id")[:TRAIL_LIMIT]
        )
        url = reverse("admin:models_versionevent_changelist") + f"?model__id__exact={obj.pk}"
        if not events:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>v{}</td><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                    e.version.version,
                    e.get_action_display(),
                    e.from_status or "-",
                    e.to_status,
                    e.actor.username if e.actor else "system",
                    e.reason or "-",
                )
                for e in events
            ),
        )
        return format_html(
            '<table id="lifecycle-trail"><thead><tr><th>when</th><th>version</th><th>change</th>'
            "<th>status</th><th>by</th><th>why</th></tr></thead><tbody>{}</tbody></table>"
            '<p>The newest {} changes; <a href="{}">the whole trail</a>.</p>',
            rows,
            len(events),
            url,
        )

    parameters_pretty = json_display("parameters")

    def save_model(self, request, obj, form, change):
        # Only the editable fields are written: a status changed meanwhile by a service stays.
        if form.changed_data:
            obj.save(update_fields=[*form.changed_data, "updated_at"])

    @admin.action(description="Archive selected models (asks for a reason)", permissions=["lifecycle"])
    def archive(self, request, queryset):
        models = list(queryset.order_by("name"))
        return self.ask_reason(
            request,
            [(m, m.get_status_display()) for m in models],
            title="Archive models",
            confirm="Archive",
            note="An archived model stops serving and takes no new versions or promotions.",
            apply=lambda reason: self.change_each(
                request,
                models,
                lambda m: services.model_archive(model=m, user=request.user, reason=reason),
                reason=reason,
                done="Archived {obj}.",
                failed="not archived",
            ),
        )


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


@admin.register(VersionEvent)
class VersionEventAdmin(ReadOnlyAdmin):
    """The lifecycle audit trail: read-only, append-only. Filter by model and date to see
    which version was active when (the model's page answers it directly)."""

    list_display = [
        "created_at",
        "model",
        "version",
        "action",
        "from_status",
        "to_status",
        "previous_active",
        "actor",
        "reason",
    ]
    list_filter = ["action", "model", "actor"]
    search_fields = ["model__name", "reason"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]  # the latest change first
    list_select_related = ["model", "version__model", "previous_active__model", "actor"]
    fields = [
        "created_at",
        "model",
        "version",
        "action",
        "from_status",
        "to_status",
        "previous_active",
        "actor",
        "reason",
        "details_pretty",
    ]
    readonly_fields = ["details_pretty"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    details_pretty = json_display("details")


@admin.register(PromotionRequest)
class PromotionRequestAdmin(ReasonActionsMixin, ReadOnlyAdmin):
    """Maker-checker: promotions waiting for a different admin, and the decisions taken."""

    list_display = [
        "id",
        "version_link",
        "status",
        "requested_by",
        "requested_at",
        "reason",
        "decided_by",
        "decided_at",
        "decision_reason",
    ]
    list_display_links = ["id"]
    list_filter = [
        "status",
        ("version__model", admin.RelatedOnlyFieldListFilter),
        ("requested_by", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["version__model__name", "reason", "decision_reason"]
    date_hierarchy = "requested_at"
    list_select_related = ["version__model", "requested_by", "decided_by"]
    actions = ["approve", "reject"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="version", ordering="version")
    def version_link(self, obj: PromotionRequest):
        return _link("admin:models_modelversion_change", obj.version)

    def _rows(self, filed: list[PromotionRequest]) -> list[tuple[PromotionRequest, str]]:
        return [(r, f"requested by {r.requested_by}: {r.reason}") for r in filed]

    @admin.action(description="Approve selected requests (asks for a reason)", permissions=["lifecycle"])
    def approve(self, request, queryset):
        filed = list(queryset.select_related("version__model", "requested_by").order_by("requested_at"))
        return self.ask_reason(
            request,
            self._rows(filed),
            title="Approve promotions",
            confirm="Approve",
            note="Each version becomes its model's active version. You cannot approve your own request.",
            apply=lambda reason: self.change_each(
                request,
                filed,
                lambda r: services.promotion_approve(request=r, user=request.user, reason=reason),
                reason=reason,
                done="Approved: {obj.version} is active.",
                failed="not approved",
            ),
        )

    @admin.action(description="Reject selected requests (asks for a reason)", permissions=["lifecycle"])
    def reject(self, request, queryset):
        filed = list(queryset.select_related("version__model", "requested_by").order_by("requested_at"))
        return self.ask_reason(
            request,
            self._rows(filed),
            title="Reject promotions",
            confirm="Reject",
            note="The versions keep their status. You cannot reject your own request.",
            apply=lambda reason: self.change_each(
                request,
                filed,
                lambda r: services.promotion_reject(request=r, user=request.user, reason=reason),
                reason=reason,
                done="Rejected the promotion of {obj.version}.",
                failed="not rejected",
            ),
        )


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
    ]
    readonly_fields = ["inputs_pretty", "scores_pretty"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    inputs_pretty = json_display("inputs")
    scores_pretty = json_display("scores")


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

    @admin.display(description="size", ordering="size")
    def size_display(self, obj: BatchPrediction) -> str:
        return _size(obj.size)

    @admin.display(description="task", ordering="task")
    def task_link(self, obj: BatchPrediction):
        return _link("admin:tasks_task_change", obj.task)

    @admin.display(description="file")
    def download(self, obj: BatchPrediction):
        return format_html('<a href="{}">CSV</a>', reverse("batch-prediction-download", args=[obj.pk]))
