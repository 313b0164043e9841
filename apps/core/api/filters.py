"""Filter backends that refuse what they do not understand instead of ignoring it."""

from __future__ import annotations

from django.utils.translation import gettext
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

# Query parameters every list understands besides its filters.
COMMON_PARAMS = {"page", "pageSize", "ordering", "search", "format"}


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, plus a 400 for query parameters the list does not know."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        # Views name the parameters their own actions read (e.g. ?version= on a detail).
        known = set(COMMON_PARAMS) | set(getattr(view, "extra_query_params", ()))
        if filterset_class is not None:
            known |= set(filterset_class.base_filters)
        # Leading underscore: cache busters and similar client-side noise.
        unknown = sorted(k for k in request.query_params if k not in known and not k.startswith("_"))
        if unknown:
            raise ValidationError({k: [gettext("Unknown query parameter.")] for k in unknown})
        return super().filter_queryset(request, queryset, view)


class StrictOrderingFilter(OrderingFilter):
    """Ordering by a field the list does not offer is an error, not a silent no-op."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            fields = [param.strip() for param in params.split(",") if param.strip()]
            valid = {name for name, _ in self.get_valid_fields(queryset, view, {"request": request})}
            bad = [f for f in fields if f.lstrip("-") not in valid]
            if bad:
                allowed = ", ".join(sorted(valid)) or gettext("none")
                message = gettext("Unknown sort field(s) %(fields)s; allowed: %(allowed)s.") % {
                    "fields": ", ".join(bad),
                    "allowed": allowed,
                }
                raise ValidationError({"ordering": [message]})
        return super().get_ordering(request, queryset, view)
