"""Incident pages: log one, work it (timeline, status, owner, links), roll back from it, find them."""

from __future__ import annotations

from datetime import UTC

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views import View
from django.views.generic import TemplateView

from core.exceptions import Conflict
from core.views import (
    FilteredListView,
    PermissionRuleMixin,
    ServiceFormView,
    SuggestionsView,
    add_service_error,
    found_or_404,
)
from incidents import selectors, services
from incidents.filters import IncidentFilter
from incidents.forms import (
    AssignForm,
    CommentForm,
    IncidentForm,
    IncidentRollbackForm,
    LinkForm,
    SeriousForm,
    TransitionForm,
)
from incidents.models import Incident
from incidents.permissions import can_open_incident, can_work_incident
from registry import selectors as registry_selectors
from registry.models import AIFeature, Region
from registry.permissions import can_roll_back
from registry.services import rollback_candidates, rollback_choices


class IncidentListView(FilteredListView):
    filterset_class = IncidentFilter
    template_name = "incidents/incident_list.html"
    partial_template_name = "incidents/partials/incident_table.html"

    def get_base_queryset(self):
        return selectors.incidents_visible_to(self.request.user)


class IncidentCreateView(PermissionRuleMixin, ServiceFormView):
    form_class = IncidentForm
    template_name = "incidents/incident_form.html"
    success_message = "Logged {object}. Its owner has been told."
    permission_required = can_open_incident
    permission_denied_message = "Auditors have read-only access: you cannot log incidents."

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "features": registry_selectors.features_visible_to(self.request.user)}

    def get_initial(self):
        return {"feature": self.request.GET.get("feature")}

    def perform(self, form):
        return services.incident_open(actor=self.request.user, **form.cleaned_data)


class LiveAtPreviewView(View):
    """htmx: what was live for the feature, environment and region at the chosen time (used by the form)."""

    def get(self, request):
        event = _live_at_from_query(request)
        return render(request, "registry/partials/live_at.html", {"event": event, "asked": bool(event is not False)})


def _live_at_from_query(request):
    """The live deployment event for ``feature``, ``environment``, ``region`` and ``at`` in the query.

    False when the query is incomplete or names something the user may not see; None when nothing was live.
    """
    try:
        moment = parse_datetime(request.GET.get("at") or request.GET.get("impact_start") or "")
    except ValueError:  # well formed but impossible, e.g. month 13
        return False
    if moment is None:
        return False
    if moment.tzinfo is None:
        moment = timezone.make_aware(moment, UTC)  # the form asks for UTC
    try:
        feature = registry_selectors.features_visible_to(request.user).get(slug=request.GET.get("feature", ""))
        region = registry_selectors.region_by_code(request.GET.get("region", ""))
    except (AIFeature.DoesNotExist, Region.DoesNotExist):
        return False
    return registry_selectors.live_at(
        feature=feature, environment=request.GET.get("environment", "production"), region=region, at=moment
    )


class IncidentMixin(PermissionRuleMixin):
    """The incident the URL names (``pk``), found among those the user may see; 404 otherwise."""

    permission_object = "incident"

    @found_or_404("No such incident, or it is restricted.")
    def incident(self) -> Incident:
        return selectors.incident_detail(user=self.request.user, pk=self.kwargs["pk"])


class IncidentDetailView(IncidentMixin, TemplateView):
    template_name = "incidents/incident_detail.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **incident_context(self.request, self.incident)}


def incident_context(request, incident: Incident, **bound_forms) -> dict:
    """Everything the incident page shows; ``bound_forms`` replace the empty forms (to show errors)."""
    user = request.user
    deployment = selectors.incident_deployment(incident=incident)
    may_roll_back = can_roll_back(user, incident.feature, from_incident=True)
    rollback_form = None
    if deployment and may_roll_back and incident.status != "closed":
        candidates = rollback_candidates(
            feature=incident.feature, environment=incident.environment, region=incident.region
        )
        if candidates:
            rollback_form = IncidentRollbackForm(
                candidates=rollback_choices(feature=incident.feature, candidates=candidates),
                initial={"to_version": candidates[0]},  # the most recently live: the default target
            )
    context = {
        "incident": incident,
        "timeline": selectors.incident_timeline(incident=incident),
        "deployment": deployment,
        "approval": (incident.live_event.approval_summary if incident.live_event else {}),
        "can_work": can_work_incident(user, incident),
        "can_comment": can_open_incident(user),
        "may_roll_back": may_roll_back and incident.status != "closed",
        "comment_form": CommentForm(),
        "transition_form": TransitionForm(incident=incident) if incident.status != "closed" else None,
        "assign_form": AssignForm(initial={"owner": incident.owner.username}, incident=incident),
        "link_form": LinkForm(),
        "serious_form": SeriousForm(incident=incident),
        "rollback_form": rollback_form,
    }
    context.update(bound_forms)
    return context


class OwnerSuggestionsView(IncidentMixin, SuggestionsView):
    """htmx: people matching what was typed in the incident page's owner box, for those who may reassign it."""

    permission_required = can_work_incident
    permission_denied_message = (
        "Only the incident owner, the feature's team, support and governance reassign incidents."
    )

    def get_suggestions(self, typed, limit):
        return selectors.owner_suggestions(typed=typed, feature=self.incident.feature, limit=limit)


class IncidentActionView(IncidentMixin, View):
    """POST one action from the incident page. On an error the page is shown again with the form as
    typed and its errors (422); on success, a message and a redirect."""

    form_class = None
    context_key = ""
    success = ""

    def act(self, form):
        raise NotImplementedError

    def get_form(self):
        return self.form_class(self.request.POST)

    def post(self, request, pk):
        form = self.get_form()
        if form.is_valid():
            try:
                self.act(form)
            except (ValidationError, Conflict) as error:
                add_service_error(form, error)
            else:
                messages.success(request, self.success)
                return redirect(self.incident.get_absolute_url())
        context = incident_context(request, self.incident, **{self.context_key: form})
        return render(request, "incidents/incident_detail.html", context, status=422)


class CommentView(IncidentActionView):
    form_class, context_key, success = CommentForm, "comment_form", "Added your comment to the timeline."

    def act(self, form):
        services.incident_comment(actor=self.request.user, incident=self.incident, body=form.cleaned_data["body"])


class TransitionView(IncidentActionView):
    context_key, success = "transition_form", "Updated the status."

    def get_form(self):
        return TransitionForm(self.request.POST, incident=self.incident)

    def act(self, form):
        data = form.cleaned_data
        services.incident_transition(
            actor=self.request.user,
            incident=self.incident,
            status=data["status"],
            note=data["note"],
            root_cause=data["root_cause"],
            follow_ups=data["follow_ups"],
            postmortem_url=data["postmortem_url"] or None,
        )


class AssignView(IncidentActionView):
    form_class, context_key, success = AssignForm, "assign_form", "Changed the owner."

    def get_form(self):
        return AssignForm(self.request.POST, incident=self.incident)

    def act(self, form):
        services.incident_assign(actor=self.request.user, incident=self.incident, owner=form.cleaned_data["owner"])


class SeriousView(IncidentActionView):
    context_key, success = "serious_form", "Marked serious: the report's clock is running."

    def get_form(self):
        return SeriousForm(self.request.POST, incident=self.incident)

    def act(self, form):
        data = form.cleaned_data
        services.incident_mark_serious(
            actor=self.request.user,
            incident=self.incident,
            criteria=data["criteria"],
            aware_at=data["aware_at"],
            death=data["death"],
            widespread=data["widespread"],
            reason=data["reason"],
        )


class LinkView(IncidentActionView):
    form_class, context_key, success = LinkForm, "link_form", "Added the link."

    def act(self, form):
        services.incident_add_link(actor=self.request.user, incident=self.incident, **form.cleaned_data)


class IncidentRollbackView(IncidentActionView):
    context_key = "rollback_form"

    def get_form(self):
        incident = self.incident
        candidates = rollback_candidates(
            feature=incident.feature, environment=incident.environment, region=incident.region
        )
        return IncidentRollbackForm(
            self.request.POST, candidates=rollback_choices(feature=incident.feature, candidates=candidates)
        )

    def post(self, request, pk):
        """The page's form asks to confirm first (as the feature page's rollback does); acting needs ``confirm``."""
        if request.POST.get("confirm") == "1":
            return super().post(request, pk)
        if not can_roll_back(request.user, self.incident.feature, from_incident=True):
            raise PermissionDenied(f"Only the {self.incident.feature.team} team and governance roll it back.")
        form = self.get_form()
        if not form.is_valid():
            return super().post(request, pk)  # the incident page again, with the errors
        deployment = incident_context(request, self.incident)["deployment"]
        return render(
            request,
            "incidents/rollback_confirm.html",
            {
                "incident": self.incident,
                "form": form,
                "deployment": deployment,
                "to_version": form.cleaned_data["to_version"],
            },
        )

    def act(self, form):
        event = services.incident_rollback(
            actor=self.request.user,
            incident=self.incident,
            to_version=form.cleaned_data["to_version"],
            reason=form.cleaned_data["reason"],
        )
        self.success = (
            f"Rolled back {self.incident.feature} in {event.environment}/{event.region.code} "
            f"from v{event.from_version.number} to v{event.to_version.number}."
        )
