"""Incident pages: log one, work it (timeline, status, owner, links), roll back from it, find them."""

from __future__ import annotations

from datetime import UTC

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
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
from incidents.choices import ReportKind
from incidents.filters import IncidentFilter
from incidents.forms import (
    AssignForm,
    CommentForm,
    IncidentForm,
    IncidentRollbackForm,
    LinkForm,
    ReportNotesForm,
    SeriousForm,
    SnapshotForm,
    SubmissionForm,
    TransitionForm,
    moment_from,
)
from incidents.models import EvidenceSnapshot, Incident
from incidents.permissions import can_open_incident, can_report_incident, can_work_incident
from incidents.reports import DRAFT_KINDS, as_bytes
from registry import selectors as registry_selectors
from registry.models import AIFeature, Region
from registry.permissions import can_roll_back
from registry.services import read_record, rollback_candidates, rollback_choices


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
        "may_report": can_report_incident(user, incident),
        "submissions": selectors.incident_submissions(incident=incident),
        "snapshots": selectors.incident_snapshots(incident=incident).defer("content")[:20],
        "snapshot_form": SnapshotForm(),
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
        services.incident_comment(
            actor=self.request.user,
            incident=self.incident,
            body=form.cleaned_data["body"],
            corrective=form.cleaned_data["corrective"],
        )


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


class SnapshotTakeView(IncidentActionView):
    """POST: snapshot the incident's evidence now (as a rollback from a serious incident does by itself)."""

    form_class, context_key = SnapshotForm, "snapshot_form"
    permission_required = can_report_incident
    permission_denied_message = (
        "Only the incident's owner, the feature's team, support and governance snapshot its evidence."
    )

    def act(self, form):
        snapshot = services.incident_snapshot_evidence(
            actor=self.request.user, incident=self.incident, note=form.cleaned_data["note"]
        )
        self.success = (
            f"Kept evidence snapshot #{snapshot.pk} (SHA-256 {snapshot.content_sha256[:12]}…): it never changes."
        )


class SnapshotMixin(IncidentMixin):
    @found_or_404("No such evidence snapshot, or it is restricted.")
    def snapshot(self) -> EvidenceSnapshot:
        return selectors.incident_snapshots(incident=self.incident).get(pk=self.kwargs["snapshot"])


class SnapshotDetailView(SnapshotMixin, TemplateView):
    """An evidence snapshot as it was taken, printable, with its SHA-256 and a download of its JSON."""

    template_name = "incidents/snapshot_detail.html"

    def get_context_data(self, **kwargs):
        read_record(
            user=self.request.user, feature=self.incident.feature, what="evidence_snapshot", object_id=self.snapshot.pk
        )
        return {
            **super().get_context_data(**kwargs),
            "incident": self.incident,
            "snapshot": self.snapshot,
            "content": self.snapshot.content,
        }


@method_decorator(never_cache, name="dispatch")
class SnapshotJsonView(SnapshotMixin, View):
    """The snapshot's JSON file: its SHA-256 is the one recorded when it was taken."""

    def get(self, request, pk, snapshot):
        kept = self.snapshot
        read_record(user=request.user, feature=self.incident.feature, what="evidence_snapshot", object_id=kept.pk)
        response = HttpResponse(as_bytes(kept.content), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{self.incident.reference}-evidence-{kept.pk}.json"'
        response["X-Content-SHA256"] = kept.content_sha256
        return response


def _draft_kind(request, incident: Incident, submissions) -> str:
    kind = request.GET.get("kind") or request.POST.get("draft_kind") or ""
    if kind in DRAFT_KINDS:
        return kind
    return "complete" if any(s.kind == ReportKind.INITIAL for s in submissions) else "initial"


def report_context(request, incident: Incident, **bound_forms) -> dict:
    """What the report page shows: the draft of the kind asked for, made from the record now, the written
    parts and the submissions; ``bound_forms`` replace the empty forms (to show errors)."""
    user = request.user
    submissions = selectors.incident_submissions(incident=incident)
    kind = _draft_kind(request, incident, submissions)
    context = {
        "incident": incident,
        "kind": kind,
        "submissions": submissions,
        "may_report": can_report_incident(user, incident),
        "draft": None,
    }
    if not incident.is_serious or incident.aware_at is None:
        return context
    as_of = timezone.now()
    draft, sha256 = services.incident_report_draft(incident=incident, kind=kind, as_of=as_of)
    context.update(draft=draft, sha256=sha256, as_of=as_of.isoformat())
    if context["may_report"]:
        if kind == "initial":
            kinds = [ReportKind.INITIAL]
        elif incident.report_completed_at is None:
            kinds = [ReportKind.COMPLETE, ReportKind.FOLLOW_UP]
        else:
            kinds = [ReportKind.FOLLOW_UP]
        context["notes_form"] = ReportNotesForm(instance=selectors.incident_report_notes(incident=incident))
        context["submission_form"] = SubmissionForm(
            kinds=kinds,
            initial={
                "kind": kinds[0],
                "as_of": as_of.isoformat(),
                "draft_sha256": sha256,
                "authority": submissions[-1].authority if submissions else "",
            },
        )
    context.update(bound_forms)
    return context


class ReportView(IncidentMixin, TemplateView):
    """The draft of a serious incident's report (initial or complete), made from the record: printable,
    downloadable as JSON; the written parts and the submissions below it."""

    template_name = "incidents/report.html"

    def get_context_data(self, **kwargs):
        read_record(
            user=self.request.user, feature=self.incident.feature, what="incident_report", object_id=self.incident.pk
        )
        return {**super().get_context_data(**kwargs), **report_context(self.request, self.incident)}


@method_decorator(never_cache, name="dispatch")
class ReportJsonView(IncidentMixin, View):
    """The draft as a JSON file, as of the moment the page showed (``as_of``): its SHA-256 is the page's."""

    def get(self, request, pk):
        incident = self.incident
        kind = request.GET.get("kind", "initial")
        if kind not in DRAFT_KINDS:
            raise Http404("No such draft.")
        try:
            draft, sha256 = services.incident_report_draft(
                incident=incident, kind=kind, as_of=moment_from(request.GET.get("as_of", ""))
            )
        except Conflict as error:
            messages.error(request, error.message)
            return redirect(reverse("incidents:report", args=[incident.pk]))
        read_record(user=request.user, feature=incident.feature, what="incident_report", object_id=incident.pk)
        response = HttpResponse(as_bytes(draft), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{incident.reference}-{kind}-report-draft.json"'
        response["X-Content-SHA256"] = sha256
        return response


class ReportActionView(IncidentActionView):
    """POST one action from the report page; on an error the report page again (422)."""

    permission_required = can_report_incident
    permission_denied_message = "Only the incident's owner, the feature's team, support and governance report it."

    def post(self, request, pk):
        form = self.get_form()
        if form.is_valid():
            try:
                self.act(form)
            except (ValidationError, Conflict) as error:
                add_service_error(form, error)
            else:
                messages.success(request, self.success)
                return redirect(f"{reverse('incidents:report', args=[pk])}?kind={self.draft_kind()}")
        context = report_context(request, self.incident, **{self.context_key: form})
        return render(request, "incidents/report.html", context, status=422)

    def draft_kind(self) -> str:
        kind = self.request.POST.get("draft_kind", "")
        return kind if kind in DRAFT_KINDS else "initial"


class ReportNotesView(ReportActionView):
    context_key, success = "notes_form", "Saved the report's notes: the draft shows them."

    def get_form(self):
        return ReportNotesForm(self.request.POST, instance=selectors.incident_report_notes(incident=self.incident))

    def act(self, form):
        services.report_notes_save(actor=self.request.user, incident=self.incident, **form.cleaned_data)


class SubmissionView(ReportActionView):
    context_key = "submission_form"

    def get_form(self):
        return SubmissionForm(self.request.POST)

    def act(self, form):
        data = form.cleaned_data
        submission = services.incident_record_submission(
            actor=self.request.user,
            incident=self.incident,
            kind=data["kind"],
            authority=data["authority"],
            submitted_at=data["submitted_at"],
            reference=data["reference"],
            note=data["note"],
            as_of=data["as_of"],
            draft_sha256=data["draft_sha256"],
        )
        self.success = f"Recorded the {submission.get_kind_display().lower()} sent to {submission.authority}."
        if submission.kind == ReportKind.COMPLETE:
            self.success += " The report's clock has stopped."
