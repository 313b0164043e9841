"""The decision log in the API: search, one decision, CSV export.

A decision holds a customer's inputs, so reading the log is for admins and analysts (risk
staff who answer for a decision); integrators (systems that score) and viewers are refused.
A search must name an entity key, a request, a model or version, or a start time: the log
grows by every scored record, and an unfiltered scan of it is refused rather than run.
Pages count at most ``COUNT_LIMIT`` rows; an export at most ``EXPORT_ROWS``.
"""

from __future__ import annotations

import django_filters
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from apps.core.api.filters import StrictFilterBackend
from apps.core.api.pagination import StandardPagination
from apps.users.models import Role
from apps.users.permissions import HasRole

from ..decisions import COUNT_CAP as COUNT_LIMIT
from ..decisions import decisions_csv
from ..models import Decision

# Rows one CSV export carries (a search counts at most COUNT_LIMIT, as the trace page).
EXPORT_ROWS = 10_000
# A search names at least one of these (``until`` alone would still scan the whole log).
SELECTIVE = ("entityKey", "requestId", "model", "version", "since")

DecisionReaders = HasRole.of(Role.ADMIN, Role.ANALYST)


class DecisionFilter(django_filters.FilterSet):
    entityKey = django_filters.CharFilter(field_name="entity_key", max_length=200)
    requestId = django_filters.CharFilter(field_name="request_id", max_length=64)
    model = django_filters.NumberFilter(field_name="model_id")
    version = django_filters.NumberFilter(field_name="version_id")
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Decision
        fields = []

    def filter_queryset(self, queryset):
        since, until = self.form.cleaned_data.get("since"), self.form.cleaned_data.get("until")
        if since is not None and until is not None and since >= until:
            raise ValidationError({"until": [gettext("Must be later than since.")]})
        return super().filter_queryset(queryset)


class DecisionSerializer(serializers.ModelSerializer):
    model_name = serializers.CharField(source="model.name", read_only=True)
    version_number = serializers.IntegerField(source="version.version", read_only=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "created_at",
            "request_id",
            "position",
            "model",
            "model_name",
            "version",
            "version_number",
            "arm",
            "entity_key",
            "caller",
            "inputs",
            "score",
            "output",
            "reasons",
        ]
        read_only_fields = fields


class BoundedPagination(StandardPagination):
    """Pages of a large log: the total counts at most ``COUNT_LIMIT`` rows."""

    def paginate_queryset(self, queryset, request, view=None):
        return super().paginate_queryset(queryset[:COUNT_LIMIT], request, view)


def decisions():
    return Decision.objects.select_related("model", "version").order_by("-created_at", "-id")


def require_selective(params) -> None:
    """Refuse a search that would scan the whole log."""
    if not any(params.get(name) for name in SELECTIVE):
        raise ValidationError(
            {
                "entityKey": [
                    gettext(
                        "Name an entity key, a request ID, a model, a version or a start time (since): "
                        "the decision log is not listed whole."
                    )
                ]
            }
        )


class DecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every scored record: search by entity key, request, model, version and time; one
    decision with its inputs, score, version and reasons; a search as CSV."""

    serializer_class = DecisionSerializer
    permission_classes = [DecisionReaders]
    pagination_class = BoundedPagination
    filterset_class = DecisionFilter
    # Newest first, always: the indexes serve that order; no free search or ordering.
    filter_backends = [StrictFilterBackend]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return decisions()

    def list(self, request, *args, **kwargs):
        require_selective(request.query_params)
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"], url_path=r"export\.csv", url_name="export-csv")
    def export_csv(self, request):
        """The search as CSV, newest first: at most ``EXPORT_ROWS`` rows (the header
        ``X-Rows-Truncated`` says when there were more)."""
        require_selective(request.query_params)
        body, truncated = decisions_csv(self.filter_queryset(self.get_queryset()), limit=EXPORT_ROWS)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="decisions-{stamp}.csv"'
        response["X-Rows-Truncated"] = "true" if truncated else "false"
        return response
