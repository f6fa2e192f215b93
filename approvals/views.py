"""Pages of the gates: request, queue, review with inline sign-off, promotion, policies."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import TemplateView

from approvals import impact, selectors, services
from approvals.checks import all_checks, latest_evaluations, unmet
from approvals.choices import Gate, RequestStatus
from approvals.context_processors import QUEUE_COUNT
from approvals.filters import ApprovalRequestFilter, QueueFilter
from approvals.forms import DecisionForm, GateAssignmentForm, GatePolicyForm, GateRequestForm, PromoteForm, ReasonForm
from approvals.models import ApprovalRequest, GatePolicy, SignOff
from approvals.permissions import can_manage_gates, can_promote, can_request_gate, signoff_refusal
from core.diff import configuration_rows, diff_rows
from core.exceptions import Conflict
from core.memo import once_per_request
from core.views import (
    FilteredListView,
    PermissionRuleMixin,
    ServiceFormView,
    add_service_error,
    found_or_404,
)
from registry import selectors as registry_selectors
from registry.choices import Environment, RiskTier
from registry.extensions import badges_for, promotion_blockers, route_preview
from registry.models import FeatureVersion
from registry.permissions import is_governance, user_roles
from registry.services import version_configuration


class GateRequestCreateView(PermissionRuleMixin, ServiceFormView):
    form_class = GateRequestForm
    template_name = "approvals/request_form.html"
    success_message = "Requested the gate. The reviewers have been told; missing evidence is listed below."
    permission_object = "version"
    permission_required = staticmethod(lambda user, version: can_request_gate(user, version.feature))
    permission_denied_message = "Only the {view.version.feature.team} team and governance admins request gates."

    @found_or_404("No such version.")
    def version(self) -> FeatureVersion:
        return registry_selectors.version_detail(
            user=self.request.user, slug=self.kwargs["slug"], number=self.kwargs["number"]
        )

    @cached_property
    def previews(self) -> dict[str, dict]:
        """What resolve would answer per region were the version live there (the refusals do not depend on
        the environment: residency, hosting and suspensions are the same in both)."""
        return route_preview(
            self.version, environment=Environment.PRODUCTION, regions=self.version.feature.regions.order_by("code")
        )

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "feature": self.version.feature, "previews": self.previews}

    def get_context_data(self, **kwargs):
        feature = self.version.feature
        gates = {}
        newest = latest_evaluations([self.version.pk]).get(self.version.pk, {})
        for environment in ("sandbox", "production"):
            try:
                policy = services.gate_for(risk_tier=feature.risk_tier, environment=environment)
            except Conflict:
                continue
            snapshot = services.requirements_snapshot(policy)
            gates[environment] = {
                "policy": policy,
                "snapshot": snapshot,
                "checks": all_checks(snapshot, feature, newest, version=self.version, environment=environment),
            }
        return {
            **super().get_context_data(**kwargs),
            "version": self.version,
            "feature": feature,
            "gates": gates,
            "previews": sorted(self.previews.items()),
        }

    def perform(self, form):
        return services.approval_request_create(
            actor=self.request.user,
            version=self.version,
            environment=form.cleaned_data["environment"],
            regions=form.cleaned_data["regions"],
            note=form.cleaned_data["note"],
        )


class QueueView(FilteredListView):
    filterset_class = QueueFilter
    template_name = "approvals/queue.html"
    paginate_by = 50

    def get_base_queryset(self):
        return selectors.queue_for(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        signoffs = list(context["object_list"])
        newest = latest_evaluations({signoff.request.version_id for signoff in signoffs})
        signed = selectors.signed_roles({signoff.request_id for signoff in signoffs})
        rows = []
        for signoff in signoffs:
            request = signoff.request
            checks = all_checks(request.requirements, request.version.feature, newest.get(request.version_id, {}))
            rows.append(
                {
                    "signoff": signoff,
                    "missing": unmet(checks),
                    "refusal": signoff_refusal(self.request.user, signoff, signed_roles=signed.get(request.pk, {})),
                }
            )
        feature_badges = badges_for(
            "feature", {signoff.request.version.feature_id for signoff in signoffs}, user=self.request.user
        )
        for row in rows:
            row["badges"] = feature_badges.get(row["signoff"].request.version.feature_id, [])
        context["rows"] = rows
        if not context["is_filtered"]:  # the whole queue, counted once: the navigation badge shows the same number
            once_per_request(self.request, QUEUE_COUNT, lambda: context["paginator"].count)
        return context


class RequestListView(FilteredListView):
    filterset_class = ApprovalRequestFilter
    template_name = "approvals/request_list.html"
    partial_template_name = "approvals/partials/request_table.html"
    paginate_by = 50

    def get_base_queryset(self):
        return selectors.requests_visible_to(self.request.user)


class RequestMixin(PermissionRuleMixin):
    """The gate request the URL names (``pk``), found among those the user may see; 404 otherwise."""

    permission_object = "approval_request"

    @found_or_404("No such request, or it is restricted.")
    def approval_request(self) -> ApprovalRequest:
        return selectors.request_detail(user=self.request.user, pk=self.kwargs["pk"])


class RequestDetailView(RequestMixin, TemplateView):
    """The review page: everything a reviewer needs on one screen."""

    template_name = "approvals/request_detail.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **review_context(self.request, self.approval_request)}


def review_context(http_request, approval_request: ApprovalRequest) -> dict:
    user = http_request.user
    version = approval_request.version
    feature = version.feature
    checks = all_checks(
        approval_request.requirements,
        feature,
        latest_evaluations([version.pk]).get(version.pk, {}),
        version=version,
        environment=approval_request.environment,
    )
    regions = list(approval_request.regions.all())
    live = selectors.live_for_request(approval_request, regions=regions)
    live_version = next((deployment.version for deployment in live if deployment.version_id != version.pk), None)
    signoffs = list(approval_request.signoffs.all())
    signed = {signoff.signer_id: signoff.role for signoff in signoffs if signoff.signer_id}
    signers = selectors.eligible_signers(approval_request)  # empty unless pending
    promoted = feature.deployment_events.filter(approval_request_id=approval_request.pk).exists()
    previews = route_preview(version, environment=approval_request.environment, regions=regions)
    return {
        "approval_request": approval_request,
        "version": version,
        "feature": feature,
        "checks": checks,
        "missing": unmet(checks),
        "regions": regions,
        "resolve_answers": [(region, previews.get(region.code)) for region in regions],
        "refused_regions": sorted(code for code, answer in previews.items() if answer["refusal"])
        if approval_request.status in {RequestStatus.PENDING, RequestStatus.APPROVED} and not promoted
        else [],
        "live": live,
        "live_version": live_version,
        "diff": diff_rows(version_configuration(live_version), version_configuration(version))
        if live_version
        else None,
        "configuration": configuration_rows(version_configuration(version)),
        "signoffs": [
            {
                "signoff": signoff,
                "refusal": signoff_refusal(user, signoff, signed_roles=signed) if signoff.status == "pending" else None,
                "holds_role": signoff.role in user_roles(user),
                "signers": signers.get(signoff.role, []),
                "form": DecisionForm(),
            }
            for signoff in signoffs
        ],
        "unstaffed": selectors.roles_in_words(selectors.unstaffed_roles(approval_request, signers=signers)),
        "can_grant_reviewers": is_governance(user),
        "evaluations": registry_selectors.evaluations_of_feature(feature=feature).filter(version=version),
        "history": selectors.request_history(request=approval_request),
        "can_promote": can_promote(user, feature) and approval_request.status == RequestStatus.APPROVED,
        "blockers": (
            promotion_blockers(feature, version=version, environment=approval_request.environment)
            if approval_request.status == RequestStatus.APPROVED
            else []
        ),
        "promoted": promoted,
        "can_withdraw": approval_request.status in {RequestStatus.PENDING, RequestStatus.APPROVED}
        and (user.pk == approval_request.requester_id or can_request_gate(user, feature)),
    }


class SignOffDecideView(View):
    """POST approve/reject. With htmx, answers with the sign-off panel; otherwise redirects back."""

    @found_or_404("No such sign-off, or it is restricted.")
    def signoff(self) -> SignOff:
        return selectors.signoff_detail(user=self.request.user, pk=self.kwargs["pk"])

    def post(self, request, pk):
        signoff = self.signoff
        form = DecisionForm(request.POST)
        error = None
        if form.is_valid():
            try:
                services.signoff_decide(
                    actor=request.user,
                    signoff=signoff,
                    decision=form.cleaned_data["decision"],
                    reason=form.cleaned_data["reason"],
                )
            except (ValidationError, Conflict, PermissionDenied) as failure:
                error = (
                    failure.message
                    if isinstance(failure, Conflict)
                    else " ".join(getattr(failure, "messages", None) or [str(failure)])
                )
        else:
            error = "Choose approve or reject."
        if request.htmx:
            approval_request = selectors.request_detail(user=request.user, pk=signoff.request_id)
            context = review_context(request, approval_request)
            context["signoff_error"] = {"id": signoff.pk, "message": error, "reason": request.POST.get("reason", "")}
            response = render(request, "approvals/partials/signoffs.html", context, status=200 if not error else 422)
            if approval_request.status != RequestStatus.PENDING:
                response["HX-Refresh"] = "true"  # approved or rejected: the whole page changes (promote, banners)
            return response
        if error:
            messages.error(request, error)
        else:
            messages.success(request, "Recorded your sign-off.")
        return redirect("approvals:request_detail", pk=signoff.request_id)


class PromoteView(RequestMixin, ServiceFormView):
    form_class = PromoteForm
    template_name = "approvals/promote_confirm.html"
    permission_required = staticmethod(
        lambda user, approval_request: can_promote(user, approval_request.version.feature)
    )
    permission_denied_message = "Only the owning team (or its CI token) and governance admins promote."

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **review_context(self.request, self.approval_request)}

    def perform(self, form):
        events = services.promotion_execute(
            actor=self.request.user, request=self.approval_request, reason=form.cleaned_data["reason"]
        )
        regions = ", ".join(event.region.code for event in events)
        messages.success(
            self.request, f"{self.approval_request.version} is live in {self.approval_request.environment} ({regions})."
        )
        return self.approval_request.version.feature

    def get_success_url(self):
        return self.object.get_absolute_url() + "#live"


class WithdrawView(RequestMixin, View):
    def post(self, request, pk):
        approval_request = self.approval_request  # 404 for a request the user may not see, before reading input
        form = ReasonForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Say why the request is withdrawn.")
        else:
            try:
                services.approval_request_withdraw(
                    actor=request.user, request=approval_request, reason=form.cleaned_data["reason"]
                )
                messages.success(request, "Withdrew the request.")
            except Conflict as error:
                messages.error(request, error.message)
        return redirect("approvals:request_detail", pk=pk)


class GatePolicyListView(TemplateView):
    template_name = "approvals/policy_list.html"

    def get_context_data(self, **kwargs):
        order = {gate: index for index, gate in enumerate(Gate.values)}
        policies = sorted(selectors.gate_policies(), key=lambda policy: order[policy.gate])
        assignments = selectors.gate_assignments()
        return {
            **super().get_context_data(**kwargs),
            "policies": policies,
            "assignment_form": GateAssignmentForm(assignments=assignments),
            "tiers": list(RiskTier),
            "can_manage": can_manage_gates(self.request.user),
        }


class GatePolicyEditView(PermissionRuleMixin, ServiceFormView):
    form_class = GatePolicyForm
    template_name = "approvals/policy_form.html"
    success_message = "Saved the {object}. Open requests keep the rules they were made under."
    permission_required = can_manage_gates
    permission_denied_message = "Only governance admins change gate policies."

    @found_or_404("No such gate.")
    def policy(self) -> GatePolicy:
        return selectors.gate_policies().get(gate=self.kwargs["gate"])

    @property
    def previewing(self) -> bool:
        return self.request.method == "POST" and "preview" in self.request.POST

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "policy": self.policy, "previewing": self.previewing}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "policy": self.policy}

    def form_valid(self, form):
        """Preview: show what the change would do and save nothing. Save: a change of the requirements is
        saved only once its preview was shown (the form carries the digest of what was previewed); otherwise
        the preview is shown first, to be confirmed with Save. Settings alone (SLA, validity, freshness
        timings) save at once."""
        try:
            proposed = impact.proposed_snapshot(
                self.policy, requirements=form.requirements(), due_soon_days=form.cleaned_data["due_soon_days"]
            )
        except ValidationError as error:
            add_service_error(form, error)
            return self.form_invalid(form)
        current = {**services.requirements_snapshot(self.policy), "due_soon_days": self.policy.due_soon_days}
        confirmed = form.cleaned_data["previewed"] == impact.proposal_digest(proposed)
        if self.previewing or (impact.requirements_differ(current, proposed) and not confirmed):
            preview = impact.gate_policy_preview(
                user=self.request.user,
                policy=self.policy,
                requirements=form.requirements(),
                due_soon_days=form.cleaned_data["due_soon_days"],
            )
            return self.render_to_response(
                self.get_context_data(
                    form=form,
                    preview=preview,
                    confirm_first=not self.previewing,
                )
            )
        return super().form_valid(form)

    def perform(self, form):
        return services.gate_policy_update(
            actor=self.request.user,
            policy=self.policy,
            reason=form.cleaned_data["reason"],
            requirements=form.requirements(),
            review_sla_hours=form.cleaned_data["review_sla_hours"],
            approval_valid_days=form.cleaned_data["approval_valid_days"],
            description=form.cleaned_data["description"],
            due_soon_days=form.cleaned_data["due_soon_days"],
            escalation_grace_days=form.cleaned_data["escalation_grace_days"],
        )

    def get_success_url(self):
        return reverse("approvals:policy_list")


class GateAssignmentUpdateView(PermissionRuleMixin, View):
    permission_required = can_manage_gates
    permission_denied_message = "Only governance admins change which gate a tier needs."

    def post(self, request):
        form = GateAssignmentForm(request.POST, assignments=selectors.gate_assignments())
        if form.is_valid():
            changed = list(form.changed_assignments())
            with transaction.atomic():
                for tier, environment, gate in changed:
                    services.gate_assignment_update(
                        actor=request.user,
                        risk_tier=tier,
                        environment=environment,
                        gate=gate,
                        reason=form.cleaned_data["reason"],
                    )
            messages.success(
                request, f"Saved {len(changed)} change{'s' if len(changed) != 1 else ''} to the gate assignments."
            )
            return redirect("approvals:policy_list")
        messages.error(request, "Say why the assignments change." if "reason" in form.errors else "Fix the form.")
        return redirect("approvals:policy_list")
