"""Pages of a feature's regulatory profile and technical file, and the register of profiles."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from compliance import selectors
from compliance.choices import Category, DocumentKind, ProfileStatus, TransparencyDuty
from compliance.forms import ConfirmForm, ProfileForm
from compliance.models import RegulatoryProfile
from compliance.permissions import can_confirm_profile, can_propose_profile, can_write_document
from compliance.services.profile import PROFILE_FIELDS, profile_confirm, profile_propose
from compliance.technical_file import completeness, technical_file
from compliance.views import refusal_text
from core.exceptions import Conflict
from core.views import ServiceFormView
from registry.mixins import FeatureLookupMixin
from registry.models import FeatureVersion


def _version_asked(request, feature) -> FeatureVersion | None:
    number = request.GET.get("version", "")
    if not number:
        return None
    if not number.isdigit():
        raise Http404("No such version.")
    found = FeatureVersion.objects.filter(feature=feature, number=int(number)).first()
    if found is None:
        raise Http404("No such version.")
    return found


def _documents_state(feature, profile) -> list[dict]:
    documents = selectors.documents_of(feature)
    open_ones = selectors.open_revisions(feature)
    required = set(profile.required_documents) if profile else set()
    rows = []
    for kind in DocumentKind:
        document = documents.get(kind.value)
        rows.append(
            {
                "kind": kind.value,
                "label": kind.label,
                "required": kind.value in required,
                "current": document.current if document else None,
                "open": open_ones.get(kind.value),
                "url": reverse("compliance:document", args=[feature.slug, kind.value]),
            }
        )
    return rows


def _profile_or_none(feature) -> RegulatoryProfile | None:
    try:
        return feature.regulatory_profile
    except RegulatoryProfile.DoesNotExist:
        return None


class RegisterView(TemplateView):
    """Every feature the user may see, with its EU AI Act category and whether governance confirmed it."""

    template_name = "compliance/register.html"

    def get_context_data(self, **kwargs):
        from registry.selectors import features_visible_to

        category = self.request.GET.get("category", "")
        status = self.request.GET.get("status", "")
        query = self.request.GET.get("q", "").strip()
        features = features_visible_to(self.request.user).select_related("team", "regulatory_profile")
        if query:
            features = features.filter(Q(name__icontains=query) | Q(slug__icontains=query))
        if category == Category.UNDETERMINED:
            features = features.filter(
                Q(regulatory_profile__isnull=True)
                | Q(regulatory_profile__confirmed_category__in=["", Category.UNDETERMINED])
            )
        elif category in Category.values:
            features = features.filter(regulatory_profile__confirmed_category=category)
        if status == "to_confirm":
            features = features.filter(regulatory_profile__status=ProfileStatus.PROPOSED)
        elif status == "none":
            features = features.filter(regulatory_profile__isnull=True)
        page = Paginator(features.order_by("name"), 25).get_page(self.request.GET.get("page"))
        for feature in page.object_list:
            feature.profile_row = _profile_or_none(feature)
        params = self.request.GET.copy()
        params.pop("page", None)
        return {
            **super().get_context_data(**kwargs),
            "page_obj": page,
            "rows": page.object_list,
            "categories": Category.choices,
            "category": category,
            "status": status,
            "q": query,
            "querystring": params.urlencode(),
            "is_filtered": bool(category or status or query),
        }


class FeatureComplianceView(FeatureLookupMixin, TemplateView):
    template_name = "compliance/feature.html"

    def get_context_data(self, **kwargs):
        feature = self.feature
        user = self.request.user
        profile = selectors.profile_of(feature)
        version = _version_asked(self.request, feature)
        found = completeness(feature, version)
        return {
            **super().get_context_data(**kwargs),
            "feature": feature,
            "profile": profile,
            "completeness": found,
            "documents": _documents_state(feature, profile),
            "versions": FeatureVersion.objects.filter(feature=feature).order_by("-number"),
            "version": version,
            "can_propose": can_propose_profile(user, feature),
            "can_confirm": can_confirm_profile(user, feature),
            "can_write": can_write_document(user, feature),
            "confirm_form": ConfirmForm(),
            "duties": [TransparencyDuty(duty).label for duty in (profile.transparency_duties if profile else [])],
        }


class PanelView(FeatureLookupMixin, TemplateView):
    """htmx: the feature page's compliance section (read when the page has loaded)."""

    template_name = "compliance/partials/feature_panel_body.html"

    def get_context_data(self, **kwargs):
        feature = self.feature
        profile = selectors.profile_of(feature)
        return {
            **super().get_context_data(**kwargs),
            "feature": feature,
            "profile": profile,
            "completeness": completeness(feature, profile=profile) if profile else None,
        }


class ProfileEditView(FeatureLookupMixin, ServiceFormView):
    template_name = "compliance/profile_form.html"
    form_class = ProfileForm
    invalid_status = 400  # the form again, with what was typed and why it was refused
    http_method_names = ["get", "post", "head", "options"]
    permission_required = can_propose_profile
    permission_denied_message = "Only the {view.feature.team} team and governance propose {view.feature}'s profile."

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "may_confirm": can_confirm_profile(self.request.user, self.feature)}

    def get_initial(self):
        profile = selectors.profile_of(self.feature)
        if profile is None:
            return {"markets": list(self.feature.regions.all()), "retention_years": 10}
        return {
            **{name: getattr(profile, name) for name in PROFILE_FIELDS},
            "markets": list(profile.markets.all()),
        }

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "feature": self.feature,
            "profile": selectors.profile_of(self.feature),
        }

    def perform(self, form):
        data = dict(form.cleaned_data)
        markets = data.pop("markets")
        confirm = data.pop("confirm", False)
        return profile_propose(actor=self.request.user, feature=self.feature, markets=markets, confirm=confirm, **data)

    def form_valid(self, form):
        response = super().form_valid(form)
        if response.status_code == 302:
            confirmed = getattr(self.object, "confirmed", False)
            messages.success(
                self.request,
                "Profile saved and confirmed: its rules apply from now."
                if confirmed
                else "Profile proposed; governance has been asked to confirm it.",
            )
        return response

    def get_success_url(self):
        return reverse("compliance:profile", args=[self.feature.slug])


class ProfileConfirmView(FeatureLookupMixin, View):
    permission_required = can_confirm_profile
    permission_denied_message = "Only governance confirms a regulatory profile."

    def post(self, request, slug):
        form = ConfirmForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        try:
            profile_confirm(actor=request.user, feature=self.feature, reason=reason)
        except (Conflict, ValidationError, PermissionDenied) as error:
            messages.error(request, refusal_text(error))
        else:
            messages.success(request, "Profile confirmed: its rules apply from now.")
        return HttpResponseRedirect(reverse("compliance:profile", args=[slug]))


def _export_url(user, feature, version) -> str:
    """The export page of the packs app, which builds, keeps and audits the file as it does evidence packs
    (and says who may export)."""
    if version is not None:
        return reverse("packs:export_request_version", args=[feature.slug, version.number]) + "?kind=technical_file"
    return reverse("packs:export_request", args=[feature.slug]) + "?kind=technical_file"


class TechnicalFileView(FeatureLookupMixin, TemplateView):
    """The whole technical file on screen; the exports (PDF, HTML, JSON) are built as evidence packs are."""

    template_name = "compliance/technical_file.html"

    def get_context_data(self, **kwargs):
        version = _version_asked(self.request, self.feature)
        return {
            **super().get_context_data(**kwargs),
            "feature": self.feature,
            "file": technical_file(self.feature, version),
            "export_url": _export_url(self.request.user, self.feature, version),
            "versions": FeatureVersion.objects.filter(feature=self.feature).order_by("-number"),
            "version": version,
        }
