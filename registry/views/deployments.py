"""Rollback and withdrawal from the feature page, what was live when, and the user's notifications."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.views.generic import ListView, TemplateView

from core.views import ClampedPaginationMixin, ServiceFormView, SuggestionsView, found_or_404
from core.widgets import RadioGroup, in_time_zone
from registry import selectors, services
from registry.choices import Environment
from registry.extensions import refused_routes
from registry.models import Deployment
from registry.permissions import can_edit_feature, can_roll_back
from registry.views.features import FeatureMixin
from registry.widgets import FeatureSlugField


class RollbackForm(forms.Form):
    # Radio buttons, not a menu: each choice is read whole (its change summary wraps instead of being cut).
    to_version = forms.ModelChoiceField(
        queryset=None, label="Roll back to", empty_label=None, widget=RadioGroup(label="Roll back to")
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Recorded with the rollback.")

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_version"].queryset = candidates
        self.fields["to_version"].label_from_instance = lambda version: (
            f"v{version.number}: {version.model.identifier}, {version.prompt}"
            + (f" ({version.change_summary})" if version.change_summary else "")
        )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why withdraw",
        help_text="Recorded in the deployment history and the audit trail; resolve gives it to callers there.",
    )


class PointerMixin(FeatureMixin):
    """The live pointer the URL names (environment and region of the feature), or 404."""

    @cached_property
    def deployment(self) -> Deployment:
        if self.kwargs["environment"] not in Environment.values:
            raise Http404("No such environment.")
        return self.live_pointer

    @found_or_404("The feature is not live there.")
    def live_pointer(self) -> Deployment | None:
        return selectors.live_pointer(
            feature=self.feature, environment=self.kwargs["environment"], region_code=self.kwargs["region"]
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["deployment"] = self.deployment
        context["refusal"] = refused_routes(selectors.deployment_as_queryset(self.deployment)).get(
            self.deployment.pk, ""
        )
        return context

    def get_success_url(self):
        return self.feature.get_absolute_url() + "#live"


class RollbackView(PointerMixin, ServiceFormView):
    """GET: choose the version to return to (the last good one is preselected). POST: roll back.
    Where there is none, the page says so and offers a withdrawal instead."""

    form_class = RollbackForm
    template_name = "registry/rollback_form.html"
    permission_required = can_roll_back

    def candidates(self):
        found = services.rollback_candidates(
            feature=self.feature, environment=self.deployment.environment, region=self.deployment.region
        )
        return services.rollback_choices(feature=self.feature, candidates=found)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "candidates": self.candidates()}

    def get_initial(self):
        target = services.default_rollback_target(
            feature=self.feature, environment=self.deployment.environment, region=self.deployment.region
        )
        return {"to_version": target}

    def perform(self, form):
        event = services.deployment_rollback(
            actor=self.request.user,
            feature=self.feature,
            environment=self.deployment.environment,
            region=self.deployment.region,
            to_version=form.cleaned_data["to_version"],
            reason=form.cleaned_data["reason"],
        )
        messages.success(
            self.request,
            f"Rolled back {self.feature} in {event.environment}/{event.region.code} from v{event.from_version.number} "
            f"to v{event.to_version.number}.",
        )
        return self.feature


class WithdrawView(PointerMixin, ServiceFormView):
    """GET: what withdrawing this region means, and a reason to give. POST: withdraw it."""

    form_class = WithdrawForm
    template_name = "registry/withdraw_form.html"
    permission_required = can_edit_feature

    def perform(self, form):
        event = services.deployment_withdraw(
            actor=self.request.user,
            feature=self.feature,
            environment=self.deployment.environment,
            region=self.deployment.region,
            reason=form.cleaned_data["reason"],
        )
        messages.success(
            self.request,
            f"Withdrew {self.feature} from {event.environment}/{event.region.code} (v{event.from_version.number} no "
            "longer serves there). Resolve answers 409 there until a version is promoted again.",
        )
        return self.feature


class NotificationListView(ClampedPaginationMixin, ListView):
    template_name = "registry/notification_list.html"
    paginate_by = 50

    def get_queryset(self):
        return selectors.notifications_of(self.request.user)

    def post(self, request):
        count = services.notification_mark_read(user=request.user)
        messages.success(request, f"Marked {count} notice{'s' if count != 1 else ''} read.")
        return redirect("registry:notification_list")


class LiveAtForm(forms.Form):
    # A box with suggestions, not a <select> of every visible feature (5,000 options: 280 kB, 0.25 s a view).
    feature = FeatureSlugField()
    environment = forms.ChoiceField(choices=Environment.choices, initial=Environment.PRODUCTION)
    region = forms.ModelChoiceField(queryset=selectors.region_list(), to_field_name="code")
    at = forms.DateTimeField(
        label="At",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"],
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["feature"].queryset = selectors.features_visible_to(user).order_by("name")
        in_time_zone(self.fields["at"])


class FeatureSuggestionsView(SuggestionsView):
    """htmx: the features the user may see matching what was typed in a feature box (the live-at page's)."""

    def get_suggestions(self, typed, limit):
        return selectors.feature_suggestions(user=self.request.user, typed=typed, limit=limit)


class LiveAtView(TemplateView):
    """ "What was live for feature F in environment E, region R at time T?" — with who approved it."""

    template_name = "registry/live_at.html"

    def get_context_data(self, **kwargs):
        form = LiveAtForm(self.request.GET or None, user=self.request.user)
        event = False
        if form.is_valid():
            data = form.cleaned_data
            event = selectors.live_at(
                feature=data["feature"], environment=data["environment"], region=data["region"], at=data["at"]
            )
        return {**super().get_context_data(**kwargs), "form": form, "event": event}
