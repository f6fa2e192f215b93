"""Pages of the registry's core: the dashboard, features, versions, evaluations and diffs."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from core.diff import configuration_rows, diff_rows
from core.exceptions import Conflict
from core.views import FilteredListView, PermissionRuleMixin, ServiceFormView, found_or_404
from registry import selectors, services
from registry.choices import EvaluationKind, RiskTier, Role, VersionStatus
from registry.extensions import (
    attach_badges,
    badges_for,
    home_panels_for,
    panels_for,
    posture_figures_for,
    promotion_blockers,
    refused_route_ids,
    refused_routes,
)
from registry.filters import FeatureFilter
from registry.forms import EvaluationForm, FeatureEditForm, FeatureForm, VersionForm
from registry.mixins import FeatureLookupMixin
from registry.models import AIFeature, FeatureChangeRequest, FeatureVersion
from registry.permissions import (
    can_edit_feature,
    can_register_features,
    can_roll_back,
    has_role,
    is_governance,
    sees_everything,
    user_team_ids,
)

REFUSED_ROWS = 25  # the dashboard lists this many of the live routes resolve refuses, and counts them all


class HomeView(TemplateView):
    """The dashboard, shaped by role: the organisation's posture for governance and auditors, the queue
    for reviewers, open incidents and the decision look-up for support, readiness and drafts for
    owners. Each app contributes its sections through ``home_panels`` and ``posture_figures``."""

    template_name = "registry/home.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        visible = selectors.features_visible_to(user)
        counts = dict(visible.values_list("risk_tier").annotate(total=Count("pk")).order_by())
        team_ids = user_team_ids(user)
        versions = selectors.versions_visible_to(user).select_related("feature", "model", "author")
        live = selectors.deployments_visible_to(user)
        refused_ids = refused_route_ids(live, viewer=selectors.visibility_key(user))
        refused = _refused_routes(live.filter(pk__in=refused_ids[:REFUSED_ROWS]))
        overseer = sees_everything(user)
        return {
            **super().get_context_data(**kwargs),
            "tiers": [(tier, counts.get(tier.value, 0)) for tier in RiskTier],
            "feature_total": sum(counts.values()),
            "in_a_team": bool(team_ids),
            "drafts": versions.filter(status=VersionStatus.DRAFT, feature__team__in=team_ids).order_by("-created_at")[
                :8
            ]
            if team_ids
            else [],
            "recent_versions": versions.filter(status=VersionStatus.SUBMITTED).order_by("-submitted_at")[:8],
            "failing_evaluations": selectors.evaluations_visible_to(user).filter(passed=False)[:8],
            "refused_routes": refused,
            "refused_total": len(refused_ids),
            "posture": _posture(self.request, len(refused_ids)) if overseer else [],
            "control_changes": selectors.control_changes(user=user)[:8] if overseer else [],
            "looks_up_decisions": has_role(user, Role.SUPPORT),
            "home_panels": home_panels_for(self.request),
        }


def _posture(request, refused: int) -> list[dict]:
    routes = {
        "label": "live routes resolve refuses",
        "value": refused,
        "href": "#refused-routes" if refused else reverse("registry:feature_list"),
        "tone": "bad" if refused else "ok",
        "position": 0,
    }
    return sorted([routes, *posture_figures_for(request)], key=lambda figure: figure.get("position", 50))


def _refused_routes(deployments) -> list:
    """The live pointers among ``deployments`` that resolve refuses now, each with ``.refusal`` (its reason)."""
    refusals = refused_routes(deployments)
    if not refusals:
        return []
    found = list(deployments.filter(pk__in=refusals).select_related("feature", "region", "version"))
    for deployment in found:
        deployment.refusal = refusals[deployment.pk]
    return found


class FeatureListView(FilteredListView):
    filterset_class = FeatureFilter
    template_name = "registry/feature_list.html"
    partial_template_name = "registry/partials/feature_table.html"

    def get_base_queryset(self):
        return selectors.feature_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object_list"] = list(context["object_list"])
        attach_badges("feature", context["object_list"], user=self.request.user)
        return context


class FeatureMixin(FeatureLookupMixin):
    """A page of the feature: the lookup, and the feature with whether the user may change it in the context."""

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "feature": self.feature,
            "can_edit": can_edit_feature(self.request.user, self.feature),
        }


class VersionMixin(FeatureMixin):
    """A page of one version (``slug`` and ``number``) of a feature the user may see; 404 otherwise."""

    @found_or_404("No such version.")
    def version(self) -> FeatureVersion:
        return selectors.version_detail(user=self.request.user, slug=self.kwargs["slug"], number=self.kwargs["number"])

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "version": self.version}


class FeatureCreateView(PermissionRuleMixin, ServiceFormView):
    form_class = FeatureForm
    template_name = "registry/feature_form.html"
    success_message = "Registered {object}. Next: create its first version."
    permission_required = can_register_features

    def get_permission_denied_message(self):
        if has_role(self.request.user, Role.AUDITOR):
            return "Auditors have read-only access: you cannot register features."
        return "You are not a member of any team, so you cannot register features."

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def perform(self, form):
        data = dict(form.cleaned_data)
        regions = data.pop("regions")
        return services.feature_create(actor=self.request.user, regions=regions, **data)


class FeatureDetailView(FeatureMixin, TemplateView):
    template_name = "registry/feature_detail.html"

    def get_context_data(self, **kwargs):
        services.read_record(user=self.request.user, feature=self.feature, what="feature")
        base = super().get_context_data(**kwargs)
        versions = list(selectors.versions_of_feature(feature=self.feature))
        attach_badges("version", versions, user=self.request.user)
        deployments = list(selectors.feature_deployments(feature=self.feature))
        refusals = refused_routes(self.feature.deployments.all()) if deployments else {}
        candidates = services.pointers_with_rollback(feature=self.feature, deployments=deployments)
        may_roll_back = can_roll_back(self.request.user, self.feature, may_edit=base["can_edit"])
        for deployment in deployments:
            deployment.refusal = refusals.get(deployment.pk, "")
            deployment.can_roll_back = may_roll_back and (deployment.environment, deployment.region_id) in candidates
        context = {
            "feature_badges": badges_for("feature", [self.feature.pk], user=self.request.user).get(self.feature.pk, []),
            **base,
            "versions": versions,
            "evaluations": selectors.evaluations_of_feature(feature=self.feature)[:50],
            "deployments": deployments,
            "refused": [deployment for deployment in deployments if deployment.refusal],
            "blockers": promotion_blockers(self.feature),
            "panels": panels_for(self.request, self.feature),
            "deployment_events": selectors.feature_deployment_events(feature=self.feature, limit=25),
            "history": selectors.feature_history(feature=self.feature, limit=25),
            **self.reviewer_context(),
        }
        return {**context, **pending_change_context(self.request.user, self.feature, can_edit=context["can_edit"])}

    def reviewer_context(self) -> dict:
        if not self.feature.restricted:
            return {}
        return {
            "reviewer_grants": selectors.reviewer_grants_of_feature(feature=self.feature)[:25],
            "can_grant_reviewers": is_governance(self.request.user),
        }


def pending_change_context(user, feature: AIFeature, *, can_edit: bool) -> dict:
    """The feature's change waiting for governance, for its team and oversight; who may decide it."""
    if not (can_edit or sees_everything(user)):
        return {}
    change = selectors.pending_change_request(feature=feature)
    if change is None:
        return {}
    governance = is_governance(user)
    return {
        "pending_change": change,
        "can_decide_change": governance,
        "can_approve_change": governance and change.requested_by_id != user.pk,
    }


class FeatureEditView(FeatureMixin, ServiceFormView):
    form_class = FeatureEditForm
    template_name = "registry/feature_form.html"
    permission_required = can_edit_feature
    success_message = "Saved the changes to {object}."

    def get_form_kwargs(self):
        # A fresh instance: the form writes typed values into it, and a failed save must not show them as saved.
        instance = selectors.feature_fresh_copy(feature=self.feature)
        return {**super().get_form_kwargs(), "user": self.request.user, "instance": instance}

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "governed_edit": _governed_changes(self.request.user, self.feature),
            **pending_change_context(self.request.user, self.feature, can_edit=True),
        }

    def perform(self, form):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name not in {"reason"}}
        regions = data.pop("regions", None)
        feature = services.feature_update(
            actor=self.request.user, feature=self.feature, reason=form.cleaned_data["reason"], regions=regions, **data
        )
        change = feature.change_request
        if change is not None:
            asked = "; ".join(f"{what}: {now} → {wanted}" for what, now, wanted in change.rows)
            messages.warning(
                self.request,
                f"These changes need governance approval and were sent as a request: {asked}. "
                f"None of it applies until a governance admin approves it.",
            )
            self.success_message = "Saved the other changes to {object}." if feature.applied_changes else ""
        return feature


def _governed_changes(user, feature: AIFeature) -> str:
    """The changes of ``feature`` that would wait for governance if ``user`` made them, as a phrase ("" if none)."""
    if not services.feature_update_needs_governance(user, feature):
        return ""
    parts = ["lowering the risk tier"]
    if feature.restricted:
        parts.append("lifting the restriction")
    if feature.restricted or feature.risk_tier == RiskTier.REGULATED:
        parts.append("adding regions")
    phrase = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
    return phrase[0].upper() + phrase[1:]


class FeatureChangeDecideView(FeatureMixin, View):
    """POST: a governance admin approves or rejects the feature's change waiting for governance."""

    decision = "approve"
    permission_object = "change"
    permission_required = staticmethod(lambda user, change: is_governance(user))
    permission_denied_message = "Only governance admins approve or reject changes that weaken a feature's governance."

    @found_or_404("No such change request.")
    def change(self) -> FeatureChangeRequest:
        return selectors.feature_change_request(feature=self.feature, pk=self.kwargs["pk"])

    def post(self, request, *args, **kwargs):
        change = self.change
        reason = request.POST.get("reason", "")
        try:
            if self.decision == "approve":
                services.feature_change_approve(actor=request.user, change=change, reason=reason)
                messages.success(request, f"Approved: the change to {self.feature} now applies.")
            else:
                services.feature_change_reject(actor=request.user, change=change, reason=reason)
                messages.success(request, f"Rejected: {self.feature} stays as it was; the requester is told why.")
        except Conflict as error:
            messages.error(request, error.message)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", None) or [str(error)]))
        return redirect(self.feature.get_absolute_url() + "#pending-change")


class VersionCreateView(FeatureMixin, ServiceFormView):
    form_class = VersionForm
    template_name = "registry/version_form.html"
    permission_required = can_edit_feature
    success_message = "Created {object} as a draft. Attach evidence, then submit it."

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "feature": self.feature, "user": self.request.user}

    def get_initial(self):
        latest = selectors.versions_of_feature(feature=self.feature).first()
        return VersionForm.initial_from(latest, derive=True) if latest else {}

    def perform(self, form):
        return services.version_create(actor=self.request.user, feature=self.feature, **form.service_arguments())


class VersionDetailView(VersionMixin, TemplateView):
    template_name = "registry/version_detail.html"

    def get_context_data(self, **kwargs):
        version = self.version
        services.read_record(user=self.request.user, feature=self.feature, what="version", object_id=version.number)
        return {
            **super().get_context_data(**kwargs),
            "rows": configuration_rows(services.version_configuration(version)),
            "evaluations": selectors.evaluations_of_feature(feature=self.feature).filter(version=version),
            "children": version.children.select_related("feature").order_by("number"),
            "residency_gaps": _residency_gaps(self.feature, version),
            "panels": panels_for(self.request, self.feature, version),
            "version_badges": badges_for("version", [version.pk], user=self.request.user).get(version.pk, []),
        }


def _residency_gaps(feature: AIFeature, version: FeatureVersion) -> list[str]:
    """Regions the feature serves that the version's policy pack does not allow, or the model is not hosted in."""
    served = {region.code for region in feature.regions.all()}
    allowed = {region.code for region in version.policy_pack.allowed_regions.all()}
    hosted = set(version.model.regions.values_list("code", flat=True))
    gaps = []
    for code in sorted(served - allowed):
        gaps.append(f"{code}: not allowed by {version.policy_pack}")
    for code in sorted((served & allowed) - hosted):
        gaps.append(f"{code}: {version.model} is not hosted there")
    return gaps


class VersionEditView(VersionMixin, ServiceFormView):
    form_class = VersionForm
    template_name = "registry/version_form.html"
    permission_required = can_edit_feature
    success_message = "Saved {object}."

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and can_edit_feature(request.user, self.feature) and not self.version.is_draft:
            messages.error(
                request,
                f"{self.version} is {self.version.get_status_display().lower()} and can no longer change. Create a new version instead.",
            )
            return redirect(self.version.get_absolute_url())
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "feature": self.feature,
            "exclude_version": self.version,
            "user": self.request.user,
        }

    def get_initial(self):
        return VersionForm.initial_from(self.version)

    def perform(self, form):
        arguments = form.service_arguments()
        return services.version_update(actor=self.request.user, version=self.version, **arguments)


class VersionSubmitView(VersionMixin, TemplateView):
    """GET asks for confirmation (submitting locks the version); POST submits."""

    template_name = "registry/version_submit.html"
    permission_required = can_edit_feature

    def get(self, request, *args, **kwargs):
        if not self.version.is_draft:
            messages.info(request, f"{self.version} is already {self.version.get_status_display().lower()}.")
            return redirect(self.version.get_absolute_url())
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "rows": configuration_rows(services.version_configuration(self.version)),
        }

    def post(self, request, *args, **kwargs):
        try:
            version = services.version_submit(actor=request.user, version=self.version)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect(self.version.get_absolute_url())
        except ValidationError as error:
            messages.error(request, "Cannot submit: " + " ".join(error.messages))
            return redirect(self.version.get_absolute_url())
        messages.success(
            request, f"Submitted {version}. It is now locked; its configuration hash is {version.config_hash[:12]}…."
        )
        return redirect(version.get_absolute_url())


class EvaluationCreateView(VersionMixin, ServiceFormView):
    form_class = EvaluationForm
    template_name = "registry/evaluation_form.html"
    permission_required = can_edit_feature
    success_message = "Recorded the evaluation."

    def get_initial(self):
        kind = self.request.GET.get("kind", "")
        return {"kind": kind} if kind in EvaluationKind.values else {}

    def perform(self, form):
        return services.evaluation_record(actor=self.request.user, version=self.version, **form.cleaned_data)

    def get_success_url(self):
        return self.version.get_absolute_url()


class VersionDiffView(FeatureMixin, TemplateView):
    template_name = "registry/version_diff.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        services.read_record(user=self.request.user, feature=self.feature, what="versions compared")
        versions = list(selectors.versions_of_feature(feature=self.feature))
        by_number = {version.number: version for version in versions}
        context["versions"] = versions
        if len(versions) < 2:
            return context
        try:
            right_number = int(self.request.GET.get("b") or versions[0].number)
            right = by_number[right_number]
            left_default = right.parent.number if right.parent_id else min(by_number)
            left = by_number[int(self.request.GET.get("a") or left_default)]
        except (KeyError, ValueError):
            context["error"] = "Choose two versions of this feature."
            return context
        context.update(
            left=left,
            right=right,
            rows=diff_rows(services.version_configuration(left), services.version_configuration(right)),
        )
        return context
