"""Reviewer grants on a restricted feature: governance grants and revokes; everyone who sees the feature
sees who else was brought in, why and until when."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.utils import timezone
from django.utils.functional import cached_property

from registry import selectors, services
from registry.forms import EndReasonForm, ReviewerGrantForm
from registry.models import ReviewerGrant
from registry.permissions import is_governance
from core.views import ServiceFormView
from registry.views.features import FeatureMixin


class GovernanceOnlyMixin(FeatureMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.feature  # 404 first for a feature the user may not see
            if not is_governance(request.user):
                raise PermissionDenied("Only governance admins grant and revoke reviewer access.")
        return super().dispatch(request, *args, **kwargs)


class ReviewerGrantCreateView(GovernanceOnlyMixin, ServiceFormView):
    form_class = ReviewerGrantForm
    template_name = "registry/reviewer_grant_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "feature": self.feature}

    def perform(self, form):
        grant = services.reviewer_grant_create(
            actor=self.request.user, feature=self.feature, user=form.cleaned_data["user"],
            reason=form.cleaned_data["reason"], expires_at=timezone.now() + timedelta(days=form.cleaned_data["days"]),
        )
        messages.success(
            self.request,
            f"{grant.user.get_full_name() or grant.user.username} may see {self.feature} until "
            f"{grant.expires_at:%d %b %Y %H:%M} UTC.",
        )
        return grant

    def get_success_url(self):
        return self.feature.get_absolute_url() + "#reviewers"


class ReviewerGrantRevokeView(GovernanceOnlyMixin, ServiceFormView):
    """A confirmation page with the reason; the grant ends when it is submitted."""

    form_class = EndReasonForm
    template_name = "registry/reviewer_grant_revoke.html"

    @cached_property
    def grant(self) -> ReviewerGrant:
        try:
            return selectors.reviewer_grants_of_feature(feature=self.feature).get(pk=self.kwargs["pk"])
        except ReviewerGrant.DoesNotExist:
            raise Http404("No such grant.") from None

    def get(self, request, *args, **kwargs):
        if not self.grant.is_active():
            messages.info(request, "That grant has already ended.")
            return HttpResponseRedirect(self.feature.get_absolute_url() + "#reviewers")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "grant": self.grant}

    def perform(self, form):
        grant = services.reviewer_grant_revoke(actor=self.request.user, grant=self.grant, reason=form.cleaned_data["reason"])
        messages.success(self.request, f"Revoked {grant.user.get_full_name() or grant.user.username}'s access to {self.feature}.")
        return grant

    def get_success_url(self):
        return self.feature.get_absolute_url() + "#reviewers"
