import django_filters
from django import forms

from core.filters import Column, SearchFilterSet, SortFilter, rank
from incidents.choices import IncidentStatus, Severity
from incidents.models import Incident
from registry.filters import team_filter


class IncidentFilter(SearchFilterSet):
    search_fields = ("title", "description", "feature__name", "feature__slug")
    status = django_filters.ChoiceFilter(choices=IncidentStatus.choices, empty_label="All statuses")
    severity = django_filters.ChoiceFilter(choices=Severity.choices, empty_label="All severities")
    feature = django_filters.CharFilter(field_name="feature__slug", label="Feature (slug)")
    team = team_filter(field_name="feature__team")
    since = django_filters.DateFilter(
        field_name="impact_start", lookup_expr="date__gte", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        field_name="impact_start", lookup_expr="date__lte", label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    ordering = SortFilter(
        Column("number", "Incident", "pk", descending_first=True),
        Column("severity", "Severity", rank("severity", Severity.values)),
        Column("status", "Status", rank("status", IncidentStatus.values)),
        Column("feature", "Feature", "feature__name"),
        Column("impact_start", "Impact from", descending_first=True),
        Column("owner", "Owner", "owner__first_name"),
        default="-impact_start",
    )

    class Meta:
        model = Incident
        fields = ["q", "status", "severity", "feature", "team", "since", "until"]
