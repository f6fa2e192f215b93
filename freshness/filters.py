"""FilterSets shared by the freshness pages and the API."""

import django_filters
from django import forms
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.filters import Column, SearchFilterSet, SortFilter
from freshness.choices import CloseReason, FindingKind, FindingState, SweepStatus, SweepTrigger
from freshness.models import FreshnessFinding, SweepRun, blocking_condition
from freshness.selectors import STATE_ORDER
from registry.choices import Environment, EvaluationKind, RiskTier
from registry.filters import team_filter

STATUS_CHOICES = [("open", "Open"), ("closed", "Closed"), ("all", "Open and closed")]


class FindingFilter(SearchFilterSet):
    search_fields = ("feature__name", "feature__slug", "feature__team__name")
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES,
        method="filter_status",
        empty_label=None,
        label="Open or closed",
        help_text="Open (the default), closed, or both.",
    )
    state = django_filters.ChoiceFilter(choices=FindingState.choices, empty_label="All states", label="Finding state")
    kind = django_filters.ChoiceFilter(
        choices=FindingKind.choices, empty_label="Gate evidence and monitoring plans", label="Held to"
    )
    team = team_filter(field_name="feature__team")
    tier = django_filters.ChoiceFilter(
        field_name="feature__risk_tier", choices=RiskTier.choices, empty_label="All tiers"
    )
    environment = django_filters.ChoiceFilter(choices=Environment.choices, empty_label="All environments")
    evidence_kind = django_filters.ChoiceFilter(choices=EvaluationKind.choices, empty_label="All evidence")
    feature = django_filters.CharFilter(method="filter_feature", label="Feature (slug or id)")
    version = django_filters.NumberFilter(field_name="version_id", label="Version id")
    blocking = django_filters.BooleanFilter(
        method="filter_blocking",
        label="Blocks promotions",
        widget=forms.Select(choices=[("", "Either"), ("true", "Yes"), ("false", "No")]),
    )
    close_reason = django_filters.ChoiceFilter(choices=CloseReason.choices, empty_label="Any reason")
    ordering = SortFilter(
        # Open before closed, then what is about to go wrong before what has, soonest first.
        Column(
            "state", "State", [F("closed_at").desc(nulls_first=True), STATE_ORDER, Coalesce("stale_at", "opened_at")]
        ),
        Column("feature", "Feature", "feature__name"),
        Column("evidence", "Evidence", "evidence_kind"),
        Column("stale_from", "Stale from", "stale_at"),
        Column("since", "Since", "state_changed_at", descending_first=True),
        default="state",
    )

    class Meta:
        model = FreshnessFinding
        fields = [
            "q",
            "status",
            "state",
            "kind",
            "team",
            "tier",
            "environment",
            "evidence_kind",
            "feature",
            "version",
            "blocking",
            "close_reason",
        ]

    @property
    def qs(self):
        queryset = super().qs
        if not (self.form.is_bound and self.form.cleaned_data.get("status")):
            queryset = queryset.filter(closed_at__isnull=True)  # open findings unless asked otherwise
        return queryset

    def filter_status(self, queryset, name, value):
        if value == "open":
            return queryset.filter(closed_at__isnull=True)
        if value == "closed":
            return queryset.filter(closed_at__isnull=False)
        return queryset

    def filter_feature(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(feature__slug=value) | Q(feature_id=int(value)) if value.isdigit() else Q(feature__slug=value)
        )

    def filter_blocking(self, queryset, name, value):
        blocking = blocking_condition(timezone.now())
        return queryset.filter(blocking) if value else queryset.exclude(blocking)


class SweepRunFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SweepStatus.choices, empty_label="All outcomes")
    trigger = django_filters.ChoiceFilter(choices=SweepTrigger.choices, empty_label="All triggers")

    class Meta:
        model = SweepRun
        fields = ["status", "trigger"]
