"""Evidence pack pages: ask for a pack (from the feature or version page), watch it build, download it,
and the list of your own pack exports. The pages call ``packs.services``; nothing decides rights here."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from core.exceptions import Conflict
from core.views import FilteredListView, ServiceFormView, found_or_404
from packs import selectors, services
from packs.choices import CONTENT_TYPES, PackFormat, PackKind
from packs.filters import PackExportFilter
from packs.forms import PackRequestForm
from packs.models import PackExport
from packs.panels import pack_panel_body
from packs.permissions import REFUSAL, can_export_packs_of
from packs.render import HTML_DOCUMENT_POLICY
from registry.mixins import FeatureLookupMixin
from registry.models import AIFeature, FeatureVersion
from registry.selectors import feature_detail, version_detail


class ExportListView(FilteredListView):
    filterset_class = PackExportFilter
    template_name = "packs/export_list.html"
    partial_template_name = "packs/partials/export_table.html"

    def get_base_queryset(self):
        return selectors.export_list(user=self.request.user)


class ExportRequestView(FeatureLookupMixin, ServiceFormView):
    """``/packs/new/<slug>/`` for the feature (all versions), ``/packs/new/<slug>/v<number>/`` for one version."""

    form_class = PackRequestForm
    success_message = (
        "Asked for the {object.kind_phrase} of {object.subject}. Its status is below; the download link appears "
        "when it is ready."
    )
    template_name = "packs/export_form.html"
    permission_required = can_export_packs_of
    permission_denied_message = REFUSAL

    @cached_property
    def version(self) -> FeatureVersion | None:
        return self.named_version if "number" in self.kwargs else None

    @found_or_404("No such version.")
    def named_version(self) -> FeatureVersion:
        return version_detail(user=self.request.user, slug=self.feature.slug, number=self.kwargs["number"])

    def get_initial(self):
        kind = self.request.GET.get("kind", "")
        return {"kind": kind} if kind in PackKind.values else {}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "feature": self.feature, "version": self.version}

    def perform(self, form):
        return services.pack_export_request(
            actor=self.request.user,
            feature=self.feature,
            version=self.version,
            pack_format=form.cleaned_data["format"],
            kind=form.cleaned_data["kind"],
        )


@method_decorator(never_cache, name="dispatch")
class PackPanelView(View):
    """The body of the "Evidence pack" section of a feature or version page (htmx loads it)."""

    @found_or_404("No such feature or version, or it is restricted.")
    def subject(self) -> tuple[AIFeature, FeatureVersion | None] | None:
        """The feature in the URL and the version its ``?version=`` names (None without one)."""
        slug, number = self.kwargs["slug"], self.request.GET.get("version")
        feature = feature_detail(user=self.request.user, slug=slug)
        try:
            version = version_detail(user=self.request.user, slug=slug, number=int(number)) if number else None
        except ValueError:
            return None
        return feature, version

    def get(self, request, slug):
        feature, version = self.subject
        body = pack_panel_body(user=request.user, feature=feature, version=version)
        return render(request, "packs/partials/panel_body.html", {"panel": body})


class ExportMixin:
    @found_or_404("No such evidence pack, or not one you asked for.")
    def export(self) -> PackExport:
        return selectors.export_detail(user=self.request.user, pk=self.kwargs["pk"])


@method_decorator(never_cache, name="dispatch")
class ExportDetailView(ExportMixin, TemplateView):
    """The export's status; htmx polls it (the partial alone) until the pack is ready or failed."""

    template_name = "packs/export_detail.html"

    def get_template_names(self):
        if getattr(self.request, "htmx", False) and not self.request.htmx.boosted:
            return ["packs/partials/export_status.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "export": self.export}


@method_decorator(never_cache, name="dispatch")
class ExportDownloadView(ExportMixin, View):
    def get(self, request, pk):
        export = self.export
        try:
            handle = services.pack_export_download(actor=request.user, export=export)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect(export)
        response = FileResponse(
            handle, as_attachment=True, filename=export.download_name, content_type=CONTENT_TYPES[export.format]
        )
        if export.format == PackFormat.HTML:
            response["Content-Security-Policy"] = HTML_DOCUMENT_POLICY
        return response
