"""Users list filters."""

import django_filters

from .models import Role, User


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    isActive = django_filters.BooleanFilter(field_name="is_active")
    department = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = User
        fields = []
