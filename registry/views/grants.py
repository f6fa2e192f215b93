"""Reviewer grants on a restricted feature: governance grants and revokes; everyone who sees the feature
sees who else was brought in, why and until when."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils import timezone

from core.views import ServiceFormView, found_or_404
from registry import selectors, services
from registry.forms import EndReasonForm, ReviewerGrantForm
from registry.models import ReviewerGrant
from registry.permissions import is_governance
from registry.views.features import FeatureMixin


class GovernanceOnlyMixin(FeatureMixin):
    """Governance admins only, on a feature they may see (found first: 404 before 403)."""

    permission_required = staticmethod(lambda user, feature: is_governance(user))
    permission_denied_message = "Only governance admins grant and revoke reviewer access."


class ReviewerGrantCreateView(GovernanceOnlyMixin, ServiceFormView):
    form_class = ReviewerGrantForm
    template_name = "registry/reviewer_grant_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "feature": self.feature}

    def perform(self, form):
        grant = services.reviewer_grant_create(
            actor=self.request.user,
            feature=self.feature,
            user=form.cleaned_data["user"],
            reason=form.cleaned_data["reason"],
            expires_at=timezone.now() + timedelta(days=form.cleaned_data["days"]),
        )
        messages.success(
            self.request,
            f"{grant.user.get_full_name() or grant.user.username} may see {self.feature} until "
            f"{timezone.localtime(grant.expires_at):%d %b %Y %H:%M %Z}.",
        )
        return grant

    def get_success_url(self):
        return self.feature.get_absolute_url() + "#reviewers"


class ReviewerGrantRevokeView(GovernanceOnlyMixin, ServiceFormView):
    """A confirmation page with the reason; the grant ends when it is submitted."""

    form_class = EndReasonForm
    template_name = "registry/reviewer_grant_revoke.html"

    @found_or_404("No such grant.")
    def grant(self) -> ReviewerGrant:
        return selectors.reviewer_grants_of_feature(feature=self.feature).get(pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        if not self.grant.is_active():
            messages.info(request, "That grant has already ended.")
            return HttpResponseRedirect(self.feature.get_absolute_url() + "#reviewers")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "grant": self.grant}

    def perform(self, form):
        grant = services.reviewer_grant_revoke(
            actor=self.request.user, grant=self.grant, reason=form.cleaned_data["reason"]
        )
        messages.success(
            self.request, f"Revoked {grant.user.get_full_name() or grant.user.username}'s access to {self.feature}."
        )
        return grant

    def get_success_url(self):
        return self.feature.get_absolute_url() + "#reviewers"
