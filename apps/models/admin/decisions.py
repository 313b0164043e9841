"""The decision log in the admin: read-only, searched by exact entity key or request ID.

The log holds every scored record, so the change list never counts it whole (pages count at
most ``COUNT_LIMIT`` rows) and its filters list models from the registry, not from the log.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ReadOnlyAdmin, json_display

from ..decisions import decisions_csv
from ..models import Decision, Model

# Rows a change list counts; rows one export carries.
COUNT_LIMIT = 10_000
EXPORT_ROWS = 10_000


class BoundedPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        return self.object_list[:COUNT_LIMIT].count()


class ModelListFilter(admin.SimpleListFilter):
    """Models from the registry (a handful), not the distinct models of millions of rows."""

    title = _("model")
    parameter_name = "model"

    def lookups(self, request, model_admin):
        return [(str(m.pk), m.name) for m in Model.objects.order_by("name")]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(model_id=int(value))
        return queryset


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    """Every scored record with its inputs, score, reasons, version and caller."""

    list_display = [
        "created_at",
        "request_id",
        "position",
        "model",
        "version",
        "arm",
        "entity_key",
        "caller",
        "score",
    ]
    list_filter = [ModelListFilter, "arm", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["entity_key", "request_id"]
    search_help_text = _("An exact entity key or request ID.")
    list_select_related = ["model", "version__model"]
    show_full_result_count = False
    paginator = BoundedPaginator
    list_per_page = 50
    actions = ["export_csv"]
    fields = [
        "created_at",
        "request_id",
        "position",
        "model",
        "version",
        "arm",
        "entity_key",
        "caller",
        "score",
        "inputs_pretty",
        "output_pretty",
        "reasons_pretty",
    ]
    readonly_fields = ["inputs_pretty", "output_pretty", "reasons_pretty"]

    inputs_pretty = json_display("inputs", _("inputs"))
    output_pretty = json_display("output", _("output"))
    reasons_pretty = json_display("reasons", _("reasons"))

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the record of a decision; retention drops whole months

    def get_search_results(self, request, queryset, search_term):
        # Exact matches, which the indexes answer; a substring search would read the whole log.
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(entity_key=term) | Q(request_id=term)), False

    @admin.action(description=_("Export the selected decisions as CSV"))
    def export_csv(self, request, queryset):
        body, truncated = decisions_csv(queryset, limit=EXPORT_ROWS)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="decisions.csv"'
        response["X-Rows-Truncated"] = "true" if truncated else "false"
        return response
