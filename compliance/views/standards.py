"""Pages of the Statement of Applicability (ISO/IEC 42001 Annex A) and the NIST AI RMF crosswalk.

Everyone signed in reads them (each sees only the evidence they may see); governance edits. Every write goes
to ``compliance.services.standards``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views import View
from django.views.generic import TemplateView

from compliance import standards_selectors as selectors
from compliance.forms import ControlForm, EvidenceForm, SubcategoryForm
from compliance.models import Applicability, Implementation
from compliance.services.standards import (
    GOVERNANCE_ONLY,
    control_update,
    evidence_link,
    evidence_unlink,
    statement_export,
    subcategory_update,
)
from compliance.standards import ISO_CLAUSES, NIST_FUNCTIONS
from compliance.views import refusal_text
from core.exceptions import Conflict
from core.views import PermissionRuleMixin, ServiceFormView, add_service_error
from registry.permissions import is_governance


def _filters(request, names) -> dict[str, str]:
    return {name: request.GET.get(name, "").strip()[:100] for name in names}


class StatementView(TemplateView):
    """The Statement of Applicability: every Annex A control, its decision, owner and evidence."""

    template_name = "compliance/soa.html"

    def get_context_data(self, **kwargs):
        asked = _filters(self.request, ("q", "applicability", "implementation", "clause"))
        rows = selectors.control_rows(
            self.request.user,
            query=asked["q"],
            applicability=asked["applicability"],
            implementation=asked["implementation"],
            clause=asked["clause"],
        )
        everything = rows if not any(asked.values()) else selectors.control_rows(self.request.user)
        return {
            **super().get_context_data(**kwargs),
            "rows": rows,
            "summary": selectors.summary(everything),
            "asked": asked,
            "clauses": ISO_CLAUSES.items(),
            "applicabilities": Applicability.choices,
            "implementations": Implementation.choices,
            "is_filtered": any(asked.values()),
            "can_edit": is_governance(self.request.user),
        }


class GovernanceEditsView(PermissionRuleMixin, ServiceFormView):
    """A page everyone reads and governance edits: the refused form answers 400 with what was typed."""

    http_method_names = ["get", "post", "head", "options"]
    invalid_status = 400
    success_message = "{object} saved."

    def has_permission(self) -> bool:
        return self.request.method in ("GET", "HEAD", "OPTIONS") or is_governance(self.request.user)

    def get_permission_denied_message(self) -> str:
        return GOVERNANCE_ONLY


class ControlMixin:
    @property
    def row(self):
        if not hasattr(self, "_row"):
            self._row = selectors.control_row(self.request.user, self.kwargs["control_id"])
            if self._row is None:
                raise Http404("No such Annex A control.")
        return self._row


class ControlView(ControlMixin, GovernanceEditsView):
    """One control: governance's decision (a form for governance), its evidence and the NIST subcategories
    that share it."""

    template_name = "compliance/control.html"
    form_class = ControlForm

    def get_initial(self):
        statement = self.row.statement
        return {
            "applicability": statement.applicability,
            "implementation": statement.implementation,
            "justification": statement.justification,
            "owner": statement.owner_id,
        }

    def get_context_data(self, **kwargs):
        can_edit = is_governance(self.request.user)
        return {
            **super().get_context_data(**kwargs),
            "row": self.row,
            "clause_title": ISO_CLAUSES[self.row.control.clause],
            "can_edit": can_edit,
            "evidence_form": EvidenceForm(),
        }

    def perform(self, form):
        data = form.cleaned_data
        return control_update(
            actor=self.request.user,
            control_id=self.row.id,
            applicability=data["applicability"],
            implementation=data["implementation"],
            justification=data["justification"],
            owner=data["owner"],
        )


class EvidenceAddView(ControlMixin, PermissionRuleMixin, View):
    permission_required = is_governance
    permission_denied_message = GOVERNANCE_ONLY

    def post(self, request, control_id):
        form = EvidenceForm(request.POST)
        if form.is_valid():
            try:
                link = evidence_link(
                    actor=request.user, control_id=self.row.id, reference=form.cleaned_data["reference"]
                )
            except (ValidationError, Conflict) as error:
                add_service_error(form, error)
            else:
                messages.success(request, f"Linked {link.label} to {self.row.id}.")
                return HttpResponseRedirect(self.row.statement.get_absolute_url() + "#evidence")
        view = ControlView(request=request, kwargs=self.kwargs, args=())
        view._row = self.row
        context = view.get_context_data(form=ControlForm(initial=view.get_initial()))
        context["evidence_form"] = form
        response = view.render_to_response(context)
        response.status_code = 400
        return response


class EvidenceRemoveView(ControlMixin, PermissionRuleMixin, View):
    permission_required = is_governance
    permission_denied_message = GOVERNANCE_ONLY

    def post(self, request, control_id, pk):
        link = next((link for link in self.row.evidence if link.pk == pk), None)
        if link is None:
            raise Http404("No such evidence link.")
        if request.POST.get("confirm") != "1":
            return render(request, "compliance/evidence_remove_confirm.html", {"row": self.row, "link": link})
        try:
            evidence_unlink(actor=request.user, link=link)
        except (ValidationError, Conflict, PermissionDenied) as error:
            messages.error(request, refusal_text(error))
        else:
            messages.success(request, f"Removed {link.label} from {self.row.id}'s evidence.")
        return HttpResponseRedirect(self.row.statement.get_absolute_url() + "#evidence")


class CrosswalkView(TemplateView):
    """The NIST AI RMF subcategories, each mapped onto Annex A controls and their evidence."""

    template_name = "compliance/crosswalk.html"

    def get_context_data(self, **kwargs):
        asked = _filters(self.request, ("q", "function", "implementation"))
        rows = selectors.subcategory_rows(
            self.request.user, query=asked["q"], function=asked["function"], implementation=asked["implementation"]
        )
        return {
            **super().get_context_data(**kwargs),
            "rows": rows,
            "asked": asked,
            "functions": NIST_FUNCTIONS.items(),
            "implementations": Implementation.choices,
            "is_filtered": any(asked.values()),
            "evidenced": sum(1 for row in rows if row.evidence),
            "can_edit": is_governance(self.request.user),
        }


class SubcategoryView(GovernanceEditsView):
    template_name = "compliance/subcategory.html"
    form_class = SubcategoryForm

    @property
    def row(self):
        if not hasattr(self, "_row"):
            self._row = selectors.subcategory_row(self.request.user, self.kwargs["key"])
            if self._row is None:
                raise Http404("No such NIST AI RMF subcategory.")
        return self._row

    def get_initial(self):
        decision = self.row.decision
        return {
            "controls": self.row.controls,
            "implementation": decision.implementation,
            "notes": decision.notes,
            "owner": decision.owner_id,
        }

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "row": self.row,
            "function_title": NIST_FUNCTIONS[self.row.subcategory.function],
            "can_edit": is_governance(self.request.user),
        }

    def perform(self, form):
        data = form.cleaned_data
        return subcategory_update(
            actor=self.request.user,
            subcategory_id=self.row.id,
            controls=data["controls"],
            implementation=data["implementation"],
            notes=data["notes"],
            owner=data["owner"],
        )


class StatementExportView(View):
    """The Statement of Applicability with the crosswalk as CSV, JSON or PDF; each export audited with its
    SHA-256 (also sent as ``X-Content-SHA256``)."""

    def get(self, request, file_format):
        try:
            exported = statement_export(actor=request.user, file_format=file_format)
        except ValidationError:
            raise Http404("No such format.") from None
        response = HttpResponse(exported.data, content_type=exported.content_type)
        response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
        response["X-Content-SHA256"] = exported.sha256
        return response
