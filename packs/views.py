"""Evidence pack pages: ask for a pack (from the feature or version page), watch it build, download it,
and the list of your own pack exports. The pages call ``packs.services``; nothing decides rights here."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from packs import selectors, services
from packs.choices import CONTENT_TYPES, PackFormat
from packs.filters import PackExportFilter
from packs.forms import PackRequestForm
from packs.models import PackExport
from packs.panels import pack_panel_body
from packs.permissions import REFUSAL, can_export_packs_of
from packs.render import HTML_DOCUMENT_POLICY
from registry.exceptions import Conflict
from registry.models import AIFeature, FeatureVersion
from registry.selectors import feature_detail, version_detail
from registry.views.base import FilteredListView, ServiceFormView


class ExportListView(FilteredListView):
    filterset_class = PackExportFilter
    template_name = "packs/export_list.html"
    partial_template_name = "packs/partials/export_table.html"

    def get_base_queryset(self):
        return selectors.export_list(user=self.request.user)


class ExportRequestView(ServiceFormView):
    """``/packs/new/<slug>/`` for the feature (all versions), ``/packs/new/<slug>/v<number>/`` for one version."""

    form_class = PackRequestForm
    success_message = ("Building the evidence pack of {object.subject}. This page shows its progress; the download "
                       "link appears when it is ready.")
    template_name = "packs/export_form.html"

    @cached_property
    def feature(self) -> AIFeature:
        try:
            return feature_detail(user=self.request.user, slug=self.kwargs["slug"])
        except AIFeature.DoesNotExist:
            raise Http404("No such feature, or it is restricted.") from None

    @cached_property
    def version(self) -> FeatureVersion | None:
        if "number" not in self.kwargs:
            return None
        try:
            return version_detail(user=self.request.user, slug=self.feature.slug, number=self.kwargs["number"])
        except FeatureVersion.DoesNotExist:
            raise Http404("No such version.") from None

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_export_packs_of(request.user, self.feature):
            raise PermissionDenied(REFUSAL)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "feature": self.feature, "version": self.version}

    def perform(self, form):
        return services.pack_export_request(actor=self.request.user, feature=self.feature, version=self.version,
                                            pack_format=form.cleaned_data["format"])


@method_decorator(never_cache, name="dispatch")
class PackPanelView(View):
    """The body of the "Evidence pack" section of a feature or version page (htmx loads it)."""

    def get(self, request, slug):
        try:
            feature = feature_detail(user=request.user, slug=slug)
            number = request.GET.get("version")
            version = version_detail(user=request.user, slug=slug, number=int(number)) if number else None
        except (AIFeature.DoesNotExist, FeatureVersion.DoesNotExist, ValueError):
            raise Http404("No such feature or version, or it is restricted.") from None
        body = pack_panel_body(user=request.user, feature=feature, version=version)
        return render(request, "packs/partials/panel_body.html", {"panel": body})


class ExportMixin:
    @cached_property
    def export(self) -> PackExport:
        try:
            return selectors.export_detail(user=self.request.user, pk=self.kwargs["pk"])
        except PackExport.DoesNotExist:
            raise Http404("No such evidence pack, or not one you asked for.") from None


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
        response = FileResponse(handle, as_attachment=True, filename=export.download_name,
                                content_type=CONTENT_TYPES[export.format])
        if export.format == PackFormat.HTML:
            response["Content-Security-Policy"] = HTML_DOCUMENT_POLICY
        return response
