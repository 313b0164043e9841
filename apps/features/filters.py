"""Feature center list filters."""

from __future__ import annotations

import re

import django_filters
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from .models import Feature, FeatureSet, FeatureType
from .selectors import features_matching

TAG_RE = re.compile(r"^[\w\-.:]{1,50}$")


def parse_tags(values: list[str]) -> list[str]:
    """``tags=a&tags=b`` or ``tags=a,b``; each a valid tag, else a 400."""
    tags = [t.strip() for value in values for t in value.split(",") if t.strip()]
    bad = [t for t in tags if not TAG_RE.match(t)]
    if bad:
        raise ValidationError(
            {
                "tags": [
                    _("Invalid tag(s): %(tags)s (1-50 letters, digits, _ - . :).") % {"tags": ", ".join(bad)}
                ]
            }
        )
    return tags


class FeatureFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=FeatureType.choices)
    tags = django_filters.CharFilter(method="filter_tags", help_text="Features carrying all these tags.")
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=200,
        help_text="Words that must all appear in the name, display name or description.",
    )
    createdBy = django_filters.CharFilter(field_name="created_by__username")

    class Meta:
        model = Feature
        fields = []

    def filter_tags(self, queryset, name, value):
        tags = parse_tags(self.data.getlist("tags") if hasattr(self.data, "getlist") else [value])
        return features_matching(queryset, tags=tags)

    def filter_search(self, queryset, name, value):
        return features_matching(queryset, search=value)


class FeatureSetFilter(django_filters.FilterSet):
    name = django_filters.CharFilter()
    dataset = django_filters.NumberFilter(field_name="dataset_version__dataset")
    locked = django_filters.BooleanFilter(field_name="locked_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = FeatureSet
        fields = []
