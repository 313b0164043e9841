"""Governance in the admin: the append-only lifecycle trail and maker-checker promotion
requests, approved or rejected by a different admin."""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin, admin_link, json_display

from .. import services
from ..models import PromotionRequest, VersionEvent
from .actions import ReasonActionsMixin


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
        return admin_link("admin:models_modelversion_change", obj.version)

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
