"""Governance in the admin: the append-only lifecycle trail and maker-checker promotion
requests, approved or rejected by a different admin."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ReadOnlyAdmin, admin_link, json_display

from .. import services
from ..labels import version_status_label
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
        "from_status_label",
        "to_status_label",
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
        "from_status_label",
        "to_status_label",
        "previous_active",
        "actor",
        "reason",
        "details_pretty",
    ]
    readonly_fields = ["from_status_label", "to_status_label", "details_pretty"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    details_pretty = json_display("details", _("details"))

    @admin.display(description=_("from status"), ordering="from_status")
    def from_status_label(self, obj: VersionEvent) -> str:
        return version_status_label(obj.from_status)

    @admin.display(description=_("to status"), ordering="to_status")
    def to_status_label(self, obj: VersionEvent) -> str:
        return version_status_label(obj.to_status)


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

    @admin.display(description=_("version"), ordering="version")
    def version_link(self, obj: PromotionRequest):
        return admin_link("admin:models_modelversion_change", obj.version)

    def _rows(self, filed: list[PromotionRequest]) -> list[tuple[PromotionRequest, str]]:
        return [
            (r, gettext("requested by %(user)s: %(reason)s") % {"user": r.requested_by, "reason": r.reason})
            for r in filed
        ]

    @admin.action(description=_("Approve selected requests (asks for a reason)"), permissions=["lifecycle"])
    def approve(self, request, queryset):
        filed = list(queryset.select_related("version__model", "requested_by").order_by("requested_at"))
        return self.ask_reason(
            request,
            self._rows(filed),
            title=gettext("Approve promotions"),
            confirm=gettext("Approve"),
            note=gettext(
                "Each version becomes its model's active version. You cannot approve your own request."
            ),
            apply=lambda reason: self.change_each(
                request,
                filed,
                lambda r: services.promotion_approve(request=r, user=request.user, reason=reason),
                reason=reason,
                done=gettext("Approved: %(version)s is active."),
                failed=gettext("%(obj)s not approved: %(error)s"),
                about=lambda r: {"version": r.version},
            ),
        )

    @admin.action(description=_("Reject selected requests (asks for a reason)"), permissions=["lifecycle"])
    def reject(self, request, queryset):
        filed = list(queryset.select_related("version__model", "requested_by").order_by("requested_at"))
        return self.ask_reason(
            request,
            self._rows(filed),
            title=gettext("Reject promotions"),
            confirm=gettext("Reject"),
            note=gettext("The versions keep their status. You cannot reject your own request."),
            apply=lambda reason: self.change_each(
                request,
                filed,
                lambda r: services.promotion_reject(request=r, user=request.user, reason=reason),
                reason=reason,
                done=gettext("Rejected the promotion of %(version)s."),
                failed=gettext("%(obj)s not rejected: %(error)s"),
                about=lambda r: {"version": r.version},
            ),
        )
