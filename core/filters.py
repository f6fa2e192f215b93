"""What every list's FilterSet builds on: a ``?q=`` search over the fields a list names."""

import django_filters
from django import forms
from django.db.models import Q


def search(*fields):
    def method(queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)

    return method


class SearchFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search", method="filter_q", widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search…"})
    )
    search_fields: tuple[str, ...] = ()

    def filter_q(self, queryset, name, value):
        return search(*self.search_fields)(queryset, name, value)
