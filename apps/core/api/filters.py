"""Filter backends that refuse what they do not understand instead of ignoring it."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils.translation import gettext
from django_filters import BooleanFilter, IsoDateTimeFilter, NumberFilter
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import get_model_field
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

# Query parameters every list understands besides its filters.
COMMON_PARAMS = {"page", "pageSize", "ordering", "search", "format"}


def integer_range(model, number_filter) -> tuple[int, int] | None:
    """The values the integer column a number filter compares with can hold (an id, a status
    code), or None when the column is not an integer. The ranges are the database-neutral ones
    Django checks (PostgreSQL's); SQLite holds more, but nothing larger is ever stored."""
    if model is None or not isinstance(number_filter, NumberFilter) or not number_filter.field_name:
        return None
    try:
        field = get_model_field(model, number_filter.field_name)
    except FieldDoesNotExist:
        return None
    if field is not None and field.is_relation:
        field = field.target_field
    if field is None:
        return None
    return BaseDatabaseOperations.integer_field_ranges.get(field.get_internal_type())


TRUE, FALSE = ("true", "True", "1"), ("false", "False", "0")


class StrictBooleanField(forms.TypedChoiceField):
    """A boolean filter's value: true or false (1 or 0); anything else is refused, where
    django-filter would read it as "no filter"."""

    def __init__(self, **kwargs):
        choices = [(value, value) for value in TRUE + FALSE]
        super().__init__(choices=choices, coerce=lambda value: value in TRUE, empty_value=None, **kwargs)


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time read in UTC: any offset Python reads (up to ±23:59) reaches the
    database as UTC, where PostgreSQL would refuse one past ±15:59."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None or value.tzinfo is None:
            return value
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:  # year 1 or 9999 pushed past the calendar
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, plus a 400 for query parameters the list does not know, for a boolean
    that is neither true nor false, and for a number filter on an integer column given a
    fraction or a value the column cannot hold (which would reach the database and fail
    there); times are compared in UTC."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        for list_filter in filterset.filters.values() if filterset is not None else ():
            bounds = integer_range(filterset._meta.model, list_filter)
            if bounds is not None:
                list_filter.field_class = forms.IntegerField
                list_filter.extra.update(min_value=bounds[0], max_value=bounds[1])
            elif isinstance(list_filter, BooleanFilter):
                list_filter.field_class = StrictBooleanField
            elif isinstance(list_filter, IsoDateTimeFilter):
                list_filter.field_class = UTCIsoDateTimeField
        return filterset

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


class StrictFilterSchema(DjangoFilterExtension):
    """The number filters on integer columns as the OpenAPI document declares them: integers
    within the column's range, as ``StrictFilterBackend`` enforces."""

    target_class = StrictFilterBackend
    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )
        bounds = integer_range(model, filter_field)
        if bounds is not None:
            for parameter in parameters:
                parameter["schema"] = {"type": "integer", "minimum": bounds[0], "maximum": bounds[1]}
        return parameters


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

    def get_schema_operation_parameters(self, view) -> list[dict]:
        """``ordering`` as the OpenAPI document declares it: the list's fields, each ascending
        or descending (``-``), comma-separated."""
        try:
            # The class's queryset names the model; get_queryset() may read settings or the
            # database, which a schema built at check time (no database yet) must not.
            queryset = None
            if getattr(view, "ordering_fields", None) is None:
                queryset = getattr(view, "queryset", None)
                if queryset is None:
                    queryset = view.get_queryset()
            fields = sorted({name for name, _label in self.get_valid_fields(queryset, view)})
        except (AttributeError, AssertionError, ImproperlyConfigured, TypeError):
            return super().get_schema_operation_parameters(view)
        parameter = super().get_schema_operation_parameters(view)[0]
        terms = [term for field in fields for term in (field, f"-{field}")]
        parameter.update(
            style="form",
            explode=False,
            schema={"type": "array", "items": {"type": "string", "enum": terms}},
        )
        return [parameter]
