"""Freshness pages: the dashboard of findings, a finding's history, the sweep runs."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import DetailView, TemplateView

from core.views import FilteredListView, PermissionRuleMixin, ServiceFormView, found_or_404
from freshness import monitoring, plans, selectors, services
from freshness.choices import CloseReason, FindingState
from freshness.filters import FindingFilter, SweepRunFilter
from freshness.forms import MonitoringPlanForm, ReviewForm
from registry.mixins import FeatureLookupMixin
from registry.permissions import can_edit_feature, is_governance, sees_everything


class DashboardView(FilteredListView):
    """Open findings by team, tier and state, due soon first; the last sweep; a button to run one now."""

    filterset_class = FindingFilter
    template_name = "freshness/dashboard.html"
    partial_template_name = "freshness/partials/finding_table.html"

    def get_base_queryset(self):
        return selectors.findings_visible_to(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        visible = selectors.findings_visible_to(self.request.user)
        context["summary"] = selectors.summary(visible)
        context["open_count"] = visible.filter(closed_at__isnull=True).count()
        context["last_run"] = selectors.last_run()
        # A run's figures count every feature, restricted ones included: only for those who see them all.
        context["sees_runs"] = sees_everything(self.request.user)
        context["can_run_sweep"] = is_governance(self.request.user)
        return context


class FindingDetailView(DetailView):
    template_name = "freshness/finding_detail.html"
    context_object_name = "finding"

    @found_or_404("No such finding.")
    def finding(self):
        return selectors.findings_visible_to(self.request.user).filter(pk=self.kwargs["pk"]).first()

    def get_object(self, queryset=None):
        return self.finding

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        finding = self.object
        history = selectors.finding_history(finding)
        for event in history:
            event.state_text = _state_text(event.payload)
        context["history"] = history
        grace = services.grace_days_by_gate().get(finding.gate)
        context["escalates_at"] = (
            finding.blocking_since + timedelta(days=grace) if finding.blocking_since and grace is not None else None
        )
        context["can_record"] = finding.is_open and can_edit_feature(self.request.user, finding.feature)
        context["live_regions"] = selectors.finding_live_deployments(finding)
        return context


def _state_text(payload: dict) -> str:
    """``["stale", None]`` and ``fresh`` → "Stale → closed (fresh, passing evidence recorded)"."""

    def label(state):
        return FindingState(state).label if state in FindingState.values else "closed"

    state = payload.get("state")
    if isinstance(state, list) and len(state) == 2:
        text = f"{label(state[0]) if state[0] else '—'} → {label(state[1]) if state[1] else 'closed'}"
    elif state:
        text = label(state)
    else:
        text = ""
    reason = payload.get("close_reason")
    if reason in CloseReason.values:
        text += f" ({CloseReason(reason).label.lower()})"
    if payload.get("incident"):
        text = f"Escalated: {payload['incident']}"
    return text


class SweepRunListView(PermissionRuleMixin, FilteredListView):
    """The run history: its figures count restricted features too, so governance admins and auditors only."""

    filterset_class = SweepRunFilter
    permission_required = sees_everything
    permission_denied_message = "The sweep's run history is open to governance admins and auditors."
    template_name = "freshness/run_list.html"
    partial_template_name = "freshness/partials/run_table.html"

    def get_base_queryset(self):
        return selectors.sweep_runs()

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "can_run_sweep": is_governance(self.request.user)}


class RunSweepView(PermissionRuleMixin, View):
    """POST: a governance admin queues a sweep now."""

    permission_required = is_governance
    permission_denied_message = "Only governance admins run the freshness sweep on demand."

    def post(self, request):
        try:
            services.sweep_request(actor=request.user)
        except services.SweepNotQueued as error:
            messages.error(request, str(error))
            return redirect("freshness:run_list")
        messages.success(request, "Sweep queued. Its run is listed here when it finishes.")
        return redirect("freshness:run_list")


# --- Monitoring plans ---------------------------------------------------------------------------


class PlanMixin(FeatureLookupMixin):
    """The feature the URL names (404 for those who may not see it) and its monitoring plan, if any."""

    @cached_property
    def plan(self):
        return selectors.plan_of(self.feature)

    @found_or_404("This feature has no monitoring plan yet.")
    def existing_plan(self):
        return self.plan


class PlanDetailView(PlanMixin, TemplateView):
    """The plan: its monitors, what is run again and when it is due on each live production version, who
    reviews and when next, its open findings and past reviews. Everyone who may see the feature."""

    template_name = "freshness/plan_detail.html"

    def get_context_data(self, **kwargs):
        plan = self.plan
        user = self.request.user
        return {
            **super().get_context_data(**kwargs),
            "feature": self.feature,
            "plan": plan,
            "summary": monitoring.plan_summary(plan, now=timezone.now()) if plan else None,
            "findings": list(selectors.plan_findings(self.feature)) if plan else [],
            "reviews": list(selectors.plan_reviews(plan)[:50]) if plan else [],
            "can_edit": plans.can_edit_plan(user, self.feature),
            "can_review": plans.can_record_review(user, plan),
        }


class PlanEditView(PlanMixin, ServiceFormView):
    """Make or change the plan: the feature's team and governance admins."""

    form_class = MonitoringPlanForm
    template_name = "freshness/plan_form.html"
    permission_required = plans.can_edit_plan
    permission_denied_message = (
        "Only the {view.feature.team} team and governance admins may change {view.feature}'s monitoring plan."
    )
    success_message = "Monitoring plan saved. The sweep holds the live production versions to it from now on."

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "feature": self.feature, "plan": self.plan}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "feature": self.feature, "plan": self.plan}

    def perform(self, form):
        data = form.cleaned_data
        return plans.plan_save(
            actor=self.request.user,
            feature=self.feature,
            reason=data["reason"],
            monitors=data["monitors"],
            notes=data["notes"],
            reviewer=data["reviewer"],
            reviewer_role=data["reviewer_role"],
            review_interval_days=data["review_interval_days"],
            evaluations=form.evaluations(),
        )


class PlanReviewView(PlanMixin, ServiceFormView):
    """The reviewer records a review of what the monitoring shows."""

    form_class = ReviewForm
    template_name = "freshness/plan_review.html"
    permission_object = "existing_plan"
    permission_required = plans.can_record_review

    def get_permission_denied_message(self) -> str:
        return f"Only the plan's reviewer ({self.existing_plan.reviewer_label}) records its reviews."

    def get_context_data(self, **kwargs):
        plan = self.existing_plan
        return {**super().get_context_data(**kwargs), "feature": self.feature, "plan": plan}

    def perform(self, form):
        return plans.review_record(actor=self.request.user, plan=self.existing_plan, note=form.cleaned_data["note"])

    def get_success_url(self):
        plan = self.object.plan
        messages.success(self.request, f"Review recorded. The next is due on {plan.review_due_at:%-d %b %Y}.")
        return plan.get_absolute_url()
