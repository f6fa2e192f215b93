"""Readiness pages: the inventory dashboard and one feature's readiness with its charts."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from core.views import FilteredListView, found_or_404
from readiness import selectors
from readiness.charts import evaluation_chart, feature_history_chart, inventory_history_chart
from readiness.choices import HISTORY_DAYS
from readiness.panels import readiness_panel_body


class DashboardView(FilteredListView):
    """Gaps per team and tier, readiness over time, and the feature table with its filters."""

    template_name = "readiness/dashboard.html"
    partial_template_name = "readiness/partials/inventory_table.html"

    def get_queryset(self):
        self.filterset, rows = selectors.inventory(user=self.request.user, data=self.request.GET, request=self.request)
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not (getattr(self.request, "htmx", False) and not self.request.htmx.boosted):
            context["gaps"] = selectors.visible_gaps(user=self.request.user)
            context["history_chart"] = inventory_history_chart(
                selectors.history(user=self.request.user), today=selectors.today_row(context["gaps"])
            )
            context["history_label"] = f"Ready features and mean readiness per day, last {HISTORY_DAYS} days"
        return context


class ReadinessMixin:
    """The readiness of the feature the URL names (``slug``), among those the user may see; 404 otherwise."""

    @found_or_404("No such feature.")
    def readiness(self):
        return selectors.feature_readiness(user=self.request.user, slug=self.kwargs["slug"])


def _technical_file(feature):
    """The EU AI Act technical file's completeness, for a feature with a regulatory profile (else None)."""
    from compliance.selectors import profile_of
    from compliance.technical_file import completeness

    profile = profile_of(feature)
    return completeness(feature, profile=profile) if profile is not None else None


class FeatureReadinessView(ReadinessMixin, TemplateView):
    template_name = "readiness/feature_readiness.html"

    def get_context_data(self, **kwargs):
        readiness = self.readiness
        feature = readiness.feature
        return {
            **super().get_context_data(**kwargs),
            "feature": feature,
            "readiness": readiness,
            "history_chart": feature_history_chart(
                selectors.feature_history(feature=feature),
                today=timezone.localdate(timezone=timezone.get_default_timezone()),
                readiness=readiness,
            ),
            "evaluation_chart": evaluation_chart(selectors.evaluation_series(feature=feature)),
            "history_label": f"Share of the checklist in place per day, last {HISTORY_DAYS} days",
            "technical_file": _technical_file(feature),
        }


class FeaturePanelView(ReadinessMixin, View):
    """The body of the feature page's "Readiness" section (htmx loads it)."""

    def get(self, request, slug):
        return render(
            request, "readiness/partials/feature_panel_body.html", {"panel": readiness_panel_body(self.readiness)}
        )
