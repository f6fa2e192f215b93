"""The FilterSet shared by the drills page and the API list."""

import django_filters
from django import forms
from django.db.models import Q

from core.filters import SearchFilterSet
from drills.choices import DrillKind
from drills.models import DrillRun

RESULTS = [
    ("loses", "Some routes lose their route"),
    ("moves", "Some routes move to a fallback"),
    ("clean", "No route lost or moved"),
]


class DrillRunFilter(SearchFilterSet):
    search_fields = ("title", "note", "author__username")
    kind = django_filters.ChoiceFilter(choices=DrillKind.choices, empty_label="All scenarios")
    result = django_filters.ChoiceFilter(
        choices=RESULTS, method="filter_result", empty_label="Any result", label="Result"
    )
    author = django_filters.CharFilter(
        field_name="author__username",
        label="Run by (username)",
        widget=forms.TextInput(attrs={"placeholder": "username"}),
    )

    class Meta:
        model = DrillRun
        fields = ["q", "kind", "result", "author"]

    def filter_result(self, queryset, name, value):
        if value == "loses":
            return queryset.filter(routes_lost__gt=0)
        if value == "moves":
            return queryset.filter(routes_moved__gt=0)
        return queryset.filter(Q(routes_lost=0) & Q(routes_moved=0))
