"""Drill pages: saved drills, a new drill with a preview, the printable report, and the catalog pages'
impact section."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from core.views import FilteredListView, PermissionRuleMixin, ServiceFormView, add_service_error, found_or_404
from drills import selectors, services
from drills.filters import DrillRunFilter
from drills.forms import DrillForm
from drills.impact import UnknownEntry, find_entry
from drills.panels import impact_panel_body
from drills.permissions import READER_REFUSAL, RUNNER_REFUSAL, can_read_drills, can_run_drills


class ReaderRequiredMixin(PermissionRuleMixin):
    permission_required = can_read_drills
    permission_denied_message = READER_REFUSAL


class DrillRunListView(ReaderRequiredMixin, FilteredListView):
    filterset_class = DrillRunFilter
    template_name = "drills/drillrun_list.html"
    partial_template_name = "drills/partials/drillrun_table.html"

    def get_base_queryset(self):
        return selectors.drill_run_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object_list"] = selectors.attach_visible_figures(context["object_list"], user=self.request.user)
        context["can_run"] = can_run_drills(self.request.user)
        return context


class DrillCreateView(PermissionRuleMixin, ServiceFormView):
    """GET: the form. POST with ``preview``: the report as it would be now, nothing saved (htmx swaps it
    in; without JavaScript the page comes back with it). POST otherwise: run, save, show the report."""

    form_class = DrillForm
    template_name = "drills/drillrun_form.html"
    success_message = "Saved {object}. Nothing live changed."
    permission_required = can_run_drills
    permission_denied_message = RUNNER_REFUSAL

    def get_initial(self):
        return {"kind": self.request.GET.get("kind", "vendor_unavailable"), "days": 30}

    def form_valid(self, form):
        if "preview" not in self.request.POST:
            return super().form_valid(form)
        try:
            spec, result = services.drill_preview(actor=self.request.user, **form.subject())
        except ValidationError as error:
            add_service_error(form, error)
            return self.form_invalid(form)
        context = self.get_context_data(
            form=form,
            preview_title=spec.title,
            report=selectors.report_for(None, user=self.request.user, kind=spec.kind, result=result.as_json()),
        )
        if getattr(self.request, "htmx", False):
            return render(self.request, "drills/partials/preview.html", {**context, "oob_fields": True})
        return self.render_to_response(context)

    def form_invalid(self, form):
        if getattr(self.request, "htmx", False) and "preview" in self.request.POST:
            return render(
                self.request, "drills/partials/preview.html", {"form": form, "invalid": True, "oob_fields": True}
            )
        return super().form_invalid(form)

    def perform(self, form):
        return services.drill_run(actor=self.request.user, note=form.cleaned_data["note"], **form.subject())


class DrillRunDetailView(ReaderRequiredMixin, TemplateView):
    template_name = "drills/drillrun_detail.html"

    @found_or_404("No such drill.")
    def run(self):
        return selectors.drill_runs_visible_to(self.request.user).filter(pk=self.kwargs["pk"]).first()

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "run": self.run,
            "report": selectors.report_for(self.run, user=self.request.user),
            "can_run": can_run_drills(self.request.user),
        }


@method_decorator(never_cache, name="dispatch")
class ImpactView(View):
    """The body of a catalog page's "Impact" section, a page of features at a time (htmx loads it, and its
    pager swaps it in place); asked without htmx (a browser without JavaScript follows the section's
    link), the same as a page of its own. Every signed-in user, as the catalog pages; features they may
    not see are left out."""

    def get(self, request, kind: str, key: str):
        try:
            entry_kind, entry = find_entry(kind, key)
        except UnknownEntry as unknown:
            raise Http404(str(unknown)) from None
        panel = impact_panel_body(user=request.user, kind=entry_kind, entry=entry, page=request.GET.get("page"))
        partial = getattr(request, "htmx", False) and not request.htmx.boosted
        return render(
            request, "drills/partials/impact_panel_body.html" if partial else "drills/impact.html", {"panel": panel}
        )
