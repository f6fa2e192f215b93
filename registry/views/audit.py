import csv
import json

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from core.exceptions import Conflict
from core.pagination import BoundedCountPaginator
from core.views import FilteredListView, PermissionRuleMixin, found_or_404
from registry import selectors
from registry.audit_display import object_name
from registry.filters import AuditEventFilter, ReadRecordFilter
from registry.models import AuditVerificationRun
from registry.permissions import can_read_audit_trail
from registry.services.audit_runs import verification_running, verification_start

AUDIT_REFUSED = "The audit trail is open to governance admins and auditors."


class AuditEventListView(PermissionRuleMixin, FilteredListView):
    """The whole trail, for governance admins and auditors. Others see a feature's history on its page."""

    filterset_class = AuditEventFilter
    template_name = "registry/audit_list.html"
    partial_template_name = "registry/partials/audit_table.html"
    paginate_by = 50
    paginator_class = BoundedCountPaginator  # a million events: counted up to 10,000 ("more than")
    permission_required = can_read_audit_trail
    permission_denied_message = AUDIT_REFUSED

    def get_base_queryset(self):
        return selectors.audit_events_visible_to(self.request.user)


class ReadRecordListView(AuditEventListView):
    """Who read which restricted feature, version or evidence, and when: for governance admins and auditors."""

    filterset_class = ReadRecordFilter
    template_name = "registry/read_list.html"
    partial_template_name = "registry/partials/read_table.html"

    def get_base_queryset(self):
        return selectors.read_records_visible_to(self.request.user)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "dedup_minutes": max(1, settings.READ_RECORD_DEDUP_SECONDS // 60)}


# --- CSV -------------------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "sequence",
    "at",
    "actor",
    "source",
    "action",
    "object type",
    "object id",
    "object name",
    "feature",
    "reason",
    "changes",
    "request id",
    "hash",
)


class _Echo:
    def write(self, value):
        return value


def csv_cell(value) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ (or a tab or return) would run as a
    formula, so it gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class AuditEventCsvView(PermissionRuleMixin, View):
    """The filtered trail as CSV: the same events the page lists (same reader, same filters), streamed."""

    permission_required = can_read_audit_trail
    permission_denied_message = AUDIT_REFUSED

    def get(self, request):
        filterset = AuditEventFilter(
            request.GET or None, queryset=selectors.audit_events_visible_to(request.user), request=request
        )
        events = filterset.qs if not filterset.is_bound or filterset.is_valid() else filterset.queryset.none()
        events = events.select_related(None).select_related("feature")
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(CSV_COLUMNS)
            for event in events.iterator(chunk_size=2000):
                payload = event.payload if isinstance(event.payload, dict) else {}
                changes = {key: payload[key] for key in ("changes", "before", "old", "new") if key in payload}
                reason = payload.get("reason") or payload.get("note") or ""
                yield writer.writerow(
                    [
                        csv_cell(value)
                        for value in (
                            event.sequence,
                            event.at.isoformat(),
                            event.actor_name,
                            event.source,
                            event.action,
                            event.object_type,
                            event.object_id,
                            object_name(event),
                            event.feature.slug if event.feature_id and event.feature else "",
                            reason if isinstance(reason, str) else json.dumps(reason),
                            json.dumps(changes, ensure_ascii=False, sort_keys=True) if changes else "",
                            event.request_id,
                            event.hash,
                        )
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
        return response


# --- Verification ----------------------------------------------------------------------------------------


class VerificationMixin(PermissionRuleMixin):
    permission_required = can_read_audit_trail
    permission_denied_message = "Verifying the audit trail is open to governance admins and auditors."


class AuditVerifyView(VerificationMixin, TemplateView):
    """Start a verification of the whole chain; follow it; the past runs."""

    template_name = "registry/audit_verify.html"

    def get_context_data(self, **kwargs):
        runs = list(AuditVerificationRun.objects.select_related("started_by")[:25])
        return {
            **super().get_context_data(**kwargs),
            "runs": runs,
            "run": runs[0] if runs else None,
            "running": verification_running(),
        }

    def post(self, request):
        try:
            run = verification_start(actor=request.user)
        except Conflict as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse("registry:audit_verify"))
        return HttpResponseRedirect(reverse("registry:audit_verify_run", args=[run.pk]))


class AuditVerifyRunView(VerificationMixin, View):
    """One run: the whole page, or (htmx, while it runs) just its status, polled every second."""

    @found_or_404("No such verification run.")
    def run(self):
        return AuditVerificationRun.objects.select_related("started_by").get(pk=self.kwargs["pk"])

    def get(self, request, pk):
        context = {"run": self.run}
        if getattr(request, "htmx", False) and not request.htmx.boosted:
            return render(request, "registry/partials/verification_run.html", context)
        return render(request, "registry/audit_verify_run.html", context)
