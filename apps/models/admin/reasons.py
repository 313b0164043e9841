"""The reason dictionary in the admin: what each reason code says to an applicant."""

from __future__ import annotations

from django.contrib import admin

from .. import reason_texts
from ..models import ReasonText


@admin.register(ReasonText)
class ReasonTextAdmin(admin.ModelAdmin):
    """Reason codes and their words per feature (and bin), for one model or every model.

    Scoring reads the dictionary afresh within ``reason_texts.TTL_SECONDS`` of a change."""

    list_display = ["code", "feature", "bin_label", "model", "text_zh", "text_en", "updated_at"]
    list_filter = [("model", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["code", "feature", "bin_label", "text_zh", "text_en"]
    list_select_related = ["model"]
    fields = ["model", "feature", "bin_label", "code", "text_zh", "text_en"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        reason_texts.forget()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        reason_texts.forget()
