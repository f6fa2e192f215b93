"""Catalog pages: each entry shows which features and versions use it (only those the user may see)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.views.generic import TemplateView

from core.views import FilteredListView, PermissionRuleMixin, ServiceFormView
from registry import extensions, selectors, services
from registry.filters import CatalogModelFilter, DatasetFilter, PolicyPackFilter, PromptVersionFilter, VendorFilter
from registry.forms import CatalogModelForm, DatasetForm, PolicyPackForm, PromptVersionForm, VendorForm
from registry.permissions import can_manage_catalog


class CatalogListView(FilteredListView):
    """A catalog list. ``entry`` names the kind for the permission check of its "add" button."""

    entry = ""
    title = ""
    create_url_name = ""
    template_name = "registry/catalog_list.html"

    def get_template_names(self):
        if getattr(self.request, "htmx", False) and not self.request.htmx.boosted:
            return [f"registry/partials/{self.entry}_table.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "title": self.title,
            "entry": self.entry,
            "table_template": f"registry/partials/{self.entry}_table.html",
            "create_url_name": self.create_url_name,
            "can_create": can_manage_catalog(self.request.user, self.entry),
        }


class CatalogCreateView(PermissionRuleMixin, ServiceFormView):
    entry = ""
    title = ""
    template_name = "registry/catalog_form.html"
    success_message = "Added {object} to the catalog."
    permission_required = can_manage_catalog
    permission_object = "entry"

    def get_permission_denied_message(self):
        return f"You may not add {self.title.lower()} to the catalog."

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": self.title}


# --- Vendors --------------------------------------------------------------------------------


class VendorListView(CatalogListView):
    entry, title, create_url_name = "vendor", "Vendors", "registry:vendor_create"
    filterset_class = VendorFilter

    def get_base_queryset(self):
        return selectors.vendor_list()


class VendorCreateView(CatalogCreateView):
    entry, title, form_class = "vendor", "Vendors", VendorForm

    def perform(self, form):
        return services.vendor_create(actor=self.request.user, **form.cleaned_data)


class VendorDetailView(TemplateView):
    template_name = "registry/vendor_detail.html"

    def get_context_data(self, **kwargs):
        vendor = get_object_or_404(selectors.vendors(), slug=self.kwargs["slug"])
        user = self.request.user
        return {
            **super().get_context_data(**kwargs),
            "vendor": vendor,
            "models": selectors.catalog_model_list().filter(vendor=vendor),
            "usage": selectors.versions_using(user=user, kind="vendor", entry=vendor),
            "panels": extensions.catalog_panels_for(self.request, "vendor", vendor),
        }


# --- Models ---------------------------------------------------------------------------------


class CatalogModelListView(CatalogListView):
    entry, title, create_url_name = "model", "Models", "registry:model_create"
    filterset_class = CatalogModelFilter

    def get_base_queryset(self):
        return selectors.catalog_model_list()


class CatalogModelCreateView(CatalogCreateView):
    entry, title, form_class = "model", "Models", CatalogModelForm

    def perform(self, form):
        return services.catalog_model_create(actor=self.request.user, **form.cleaned_data)


class CatalogModelDetailView(TemplateView):
    template_name = "registry/model_detail.html"

    def get_context_data(self, **kwargs):
        model = get_object_or_404(selectors.catalog_model_list(), pk=self.kwargs["pk"])
        return {
            **super().get_context_data(**kwargs),
            "model": model,
            "usage": selectors.versions_using(user=self.request.user, kind="model", entry=model),
            "panels": extensions.catalog_panels_for(self.request, "model", model),
        }


# --- Prompts --------------------------------------------------------------------------------


class PromptListView(CatalogListView):
    entry, title, create_url_name = "prompt", "Prompt versions", "registry:prompt_create"
    filterset_class = PromptVersionFilter

    def get_base_queryset(self):
        return selectors.prompt_list(user=self.request.user)


class PromptCreateView(CatalogCreateView):
    entry, title, form_class = "prompt", "Prompt versions", PromptVersionForm

    def get_initial(self):
        return {"name": self.request.GET.get("name", "")}

    def perform(self, form):
        return services.prompt_version_create(actor=self.request.user, **form.cleaned_data)


class PromptDetailView(TemplateView):
    template_name = "registry/prompt_detail.html"

    def get_context_data(self, **kwargs):
        prompt = get_object_or_404(selectors.prompt_list(user=self.request.user), pk=self.kwargs["pk"])
        return {
            **super().get_context_data(**kwargs),
            "prompt": prompt,
            "siblings": selectors.prompt_list(user=self.request.user)
            .filter(name=prompt.name)
            .order_by("-version")
            .select_related(None)
            .only("pk", "name", "version"),
            "usage": selectors.versions_using(user=self.request.user, kind="prompt", entry=prompt),
            "panels": extensions.catalog_panels_for(self.request, "prompt", prompt),
            "can_create": can_manage_catalog(self.request.user, "prompt"),
        }


# --- Policy packs ---------------------------------------------------------------------------


class PolicyPackListView(CatalogListView):
    entry, title, create_url_name = "policy", "Policy packs", "registry:policy_create"
    filterset_class = PolicyPackFilter

    def get_base_queryset(self):
        return selectors.policy_pack_list()


class PolicyPackCreateView(CatalogCreateView):
    entry, title, form_class = "policy", "Policy packs", PolicyPackForm

    def perform(self, form):
        return services.policy_pack_create(actor=self.request.user, **form.cleaned_data)


class PolicyPackDetailView(TemplateView):
    template_name = "registry/policy_detail.html"

    def get_context_data(self, **kwargs):
        pack = get_object_or_404(selectors.policy_pack_list(), pk=self.kwargs["pk"])
        return {
            **super().get_context_data(**kwargs),
            "pack": pack,
            "usage": selectors.versions_using(user=self.request.user, kind="policy", entry=pack),
            "panels": extensions.catalog_panels_for(self.request, "policy", pack),
        }


# --- Datasets -------------------------------------------------------------------------------


class DatasetListView(CatalogListView):
    entry, title, create_url_name = "dataset", "Datasets", "registry:dataset_create"
    filterset_class = DatasetFilter

    def get_base_queryset(self):
        return selectors.dataset_list(user=self.request.user)


class DatasetCreateView(CatalogCreateView):
    entry, title, form_class = "dataset", "Datasets", DatasetForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def perform(self, form):
        return services.dataset_create(actor=self.request.user, **form.cleaned_data)


class DatasetDetailView(TemplateView):
    template_name = "registry/dataset_detail.html"

    def get_context_data(self, **kwargs):
        dataset = get_object_or_404(selectors.dataset_list(user=self.request.user), pk=self.kwargs["pk"])
        return {
            **super().get_context_data(**kwargs),
            "dataset": dataset,
            "links": selectors.dataset_usage(user=self.request.user, dataset=dataset),
            "panels": extensions.catalog_panels_for(self.request, "dataset", dataset),
        }
