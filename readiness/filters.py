"""The inventory's filters, shared by the dashboard and the API.

Team, tier and search narrow the features in the database; ``state`` (ready or not) and ``missing`` (an
item) are judged on the computed checklist, so they are applied to the rows afterwards
(``apply_checklist_filters``): the FilterSet declares them so the page's form and the API schema list
them like the others.
"""

import django_filters

from core.filters import Column, SearchFilterSet, SortFilter, rank
from readiness.choices import ReadinessCheck, ReadinessState
from registry.choices import RISK_TIER_ORDER, FeatureStatus, RiskTier
from registry.filters import team_filter
from registry.models import AIFeature


class ReadinessFilter(SearchFilterSet):
    search_fields = ("name", "slug", "team__name")
    team = team_filter()
    tier = django_filters.ChoiceFilter(field_name="risk_tier", choices=RiskTier.choices, empty_label="All tiers")
    status = django_filters.ChoiceFilter(choices=FeatureStatus.choices, empty_label="All statuses")
    state = django_filters.ChoiceFilter(
        choices=ReadinessState.choices,
        method="filter_on_checklist",
        empty_label="Ready or not",
        label="Readiness",
        help_text="not_ready: only features missing at least one item.",
    )
    missing = django_filters.ChoiceFilter(
        choices=ReadinessCheck.choices,
        method="filter_on_checklist",
        empty_label="Any item",
        label="Missing item",
        help_text="Only features missing this checklist item.",
    )

    ordering = SortFilter(
        Column("feature", "Feature", "name"),
        Column("team", "Team", "team__name"),
        Column("tier", "Tier", rank("risk_tier", RISK_TIER_ORDER), descending_first=True),
        # Judged on the computed checklist (sort_by_readiness); by name among equals.
        Column("readiness", "Readiness", "name"),
        default="feature",
    )

    class Meta:
        model = AIFeature
        fields = ["q", "team", "tier", "status", "state", "missing"]

    def sort_by_readiness(self) -> str | None:
        """``readiness`` (most missing first) or ``-readiness`` (readiest first) when asked, else None."""
        if not self.is_bound or not self.is_valid():
            return None
        asked = [value for value in (self.form.cleaned_data.get("ordering") or []) if value]
        return asked[0] if asked and asked[0].lstrip("-") == "readiness" else None

    def filter_on_checklist(self, queryset, name, value):
        return queryset  # judged on the computed rows: apply_checklist_filters

    def checklist_filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        return {key: self.form.cleaned_data.get(key) for key in ("state", "missing") if self.form.cleaned_data.get(key)}


def apply_checklist_filters(rows, *, state: str | None = None, missing: str | None = None) -> list:
    if state == ReadinessState.READY:
        rows = [row for row in rows if row.ready]
    elif state == ReadinessState.NOT_READY:
        rows = [row for row in rows if not row.ready]
    if missing:
        rows = [row for row in rows if missing in row.missing]
    return list(rows)
