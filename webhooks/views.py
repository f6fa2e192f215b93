"""Webhook pages: the subscriptions you manage, each one's settings and recent deliveries, and the
delivery log with every attempt. A secret is shown once, on the page right after it was made."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from core.exceptions import Conflict
from core.views import FilteredListView, PermissionRuleMixin, ServiceFormView, found_or_404
from webhooks import selectors, services
from webhooks.choices import EVENT_DESCRIPTIONS, MAX_ATTEMPTS, RETRY_SCHEDULE, TIMEOUT_SECONDS, WebhookEvent
from webhooks.filters import DeliveryFilter, SubscriptionFilter
from webhooks.forms import SubscriptionForm
from webhooks.models import WebhookDelivery, WebhookSubscription
from webhooks.permissions import CREATOR_REFUSAL, MANAGER_REFUSAL, can_create_webhooks, can_manage_subscription

SECRET_SESSION_KEY = "webhooks:new-secret:{pk}"
RECENT_DELIVERIES = 10


def _keep_secret_for_next_page(request, subscription: WebhookSubscription, secret: str) -> None:
    """The page after the redirect shows it, and takes it out of the session as it does: once."""
    request.session[SECRET_SESSION_KEY.format(pk=subscription.pk)] = secret


class SubscriptionListView(FilteredListView):
    filterset_class = SubscriptionFilter
    template_name = "webhooks/subscription_list.html"
    partial_template_name = "webhooks/partials/subscription_table.html"

    def get_base_queryset(self):
        return selectors.subscription_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "can_create": can_create_webhooks(self.request.user)}


class SubscriptionMixin(PermissionRuleMixin):
    """The subscription in the URL, if the user may see it (404 otherwise)."""

    permission_object = "subscription"

    @found_or_404("No such webhook, or not one you may see.")
    def subscription(self) -> WebhookSubscription:
        return selectors.subscription_list(user=self.request.user).filter(pk=self.kwargs["pk"]).first()


class ManagedSubscriptionMixin(SubscriptionMixin):
    """...and only for those who manage it (found first: 404 before 403)."""

    permission_required = can_manage_subscription
    permission_denied_message = MANAGER_REFUSAL


@method_decorator(never_cache, name="dispatch")
class SubscriptionDetailView(SubscriptionMixin, TemplateView):
    template_name = "webhooks/subscription_detail.html"

    def get_context_data(self, **kwargs):
        subscription = self.subscription
        return {
            **super().get_context_data(**kwargs),
            "subscription": subscription,
            "new_secret": self.request.session.pop(SECRET_SESSION_KEY.format(pk=subscription.pk), None),
            "can_manage": can_manage_subscription(self.request.user, subscription),
            "events": [(WebhookEvent(event), EVENT_DESCRIPTIONS[event]) for event in subscription.events],
            "deliveries": selectors.recent_deliveries(subscription, limit=RECENT_DELIVERIES),
            "retry_schedule": RETRY_SCHEDULE,
            "max_attempts": MAX_ATTEMPTS,
            "timeout": TIMEOUT_SECONDS,
        }


class SubscriptionCreateView(PermissionRuleMixin, ServiceFormView):
    form_class = SubscriptionForm
    template_name = "webhooks/subscription_form.html"
    success_message = "Created {object}. Copy its secret now: it is not shown again."
    permission_required = can_create_webhooks
    permission_denied_message = CREATOR_REFUSAL

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def perform(self, form):
        subscription, secret = services.subscription_create(actor=self.request.user, **form.cleaned_data)
        _keep_secret_for_next_page(self.request, subscription, secret)
        return subscription


class SubscriptionEditView(ManagedSubscriptionMixin, ServiceFormView):
    form_class = SubscriptionForm
    template_name = "webhooks/subscription_form.html"
    success_message = "Saved {object}."

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "subscription": self.subscription}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "subscription": self.subscription}

    def perform(self, form):
        return services.subscription_update(
            actor=self.request.user, subscription=self.subscription, **form.cleaned_data
        )


class SubscriptionActionView(ManagedSubscriptionMixin, View):
    """POST does it. With a ``confirm`` text, GET first asks (for what cannot be undone or stops deliveries)."""

    confirm: dict | None = None

    def get(self, request, pk):
        subscription = self.subscription
        if self.confirm is None:
            return redirect(subscription)
        texts = {key: text.format(s=subscription) for key, text in self.confirm.items()}
        return render(request, "webhooks/subscription_confirm.html", {"subscription": subscription, **texts})

    def post(self, request, pk):
        subscription = self.subscription
        try:
            return self.act(subscription)
        except (ValidationError, Conflict) as error:
            messages.error(request, error.message if isinstance(error, Conflict) else " ".join(error.messages))
            return redirect(subscription)

    def act(self, subscription):
        raise NotImplementedError


class SubscriptionPingView(SubscriptionActionView):
    def act(self, subscription):
        delivery = services.subscription_ping(actor=self.request.user, subscription=subscription)
        messages.success(self.request, f"Ping sent to {subscription.target_url}. Its outcome is below.")
        return redirect(delivery)


class SubscriptionRotateView(SubscriptionActionView):
    confirm = {
        "title": "Rotate the secret of {s.name}?",
        "body": "A new secret replaces the current one at once: every delivery from now on, retries included, is "
        "signed with it, and the receiver rejects them until it has the new secret. The new secret is shown once.",
        "button": "Rotate the secret",
    }

    def act(self, subscription):
        subscription, secret = services.subscription_rotate_secret(actor=self.request.user, subscription=subscription)
        _keep_secret_for_next_page(self.request, subscription, secret)
        messages.success(self.request, "New secret made. Copy it now: it is not shown again.")
        return redirect(subscription)


class SubscriptionDisableView(SubscriptionActionView):
    confirm = {
        "title": "Disable {s.name}?",
        "body": "No new events are recorded for it while it is disabled, and deliveries already queued wait until "
        "it is enabled again.",
        "button": "Disable",
    }

    def act(self, subscription):
        services.subscription_update(actor=self.request.user, subscription=subscription, active=False)
        messages.success(self.request, f"Disabled {subscription}.")
        return redirect(subscription)


class SubscriptionEnableView(SubscriptionActionView):
    def act(self, subscription):
        services.subscription_update(actor=self.request.user, subscription=subscription, active=True)
        messages.success(self.request, f"Enabled {subscription}: queued deliveries go out within a minute.")
        return redirect(subscription)


class SubscriptionDeleteView(SubscriptionActionView):
    confirm = {
        "title": "Delete {s.name}?",
        "body": "Its delivery log goes with it and deliveries not yet sent are never sent. The audit trail keeps "
        "the record of the subscription. To pause deliveries instead, disable it.",
        "button": "Delete",
        "danger": "1",
    }

    def act(self, subscription):
        services.subscription_delete(actor=self.request.user, subscription=subscription)
        messages.success(self.request, f"Deleted {subscription}.")
        return redirect("webhooks:subscription_list")


class DeliveryListView(FilteredListView):
    filterset_class = DeliveryFilter
    template_name = "webhooks/delivery_list.html"
    partial_template_name = "webhooks/partials/delivery_table.html"

    def get_base_queryset(self):
        return selectors.deliveries_visible_to(self.request.user)


class DeliveryMixin(PermissionRuleMixin):
    """The delivery in the URL, if the user may see its subscription (404 otherwise)."""

    permission_object = "delivery"

    @found_or_404("No such delivery, or not one you may see.")
    def delivery(self) -> WebhookDelivery:
        return selectors.deliveries_visible_to(self.request.user).filter(pk=self.kwargs["pk"]).first()


class DeliveryDetailView(DeliveryMixin, TemplateView):
    template_name = "webhooks/delivery_detail.html"

    def get_context_data(self, **kwargs):
        delivery = self.delivery
        return {
            **super().get_context_data(**kwargs),
            "delivery": delivery,
            "payload": json.dumps(delivery.payload, indent=2, ensure_ascii=False),
            "attempts": selectors.delivery_attempts(delivery),
            "can_manage": can_manage_subscription(self.request.user, delivery.subscription),
        }


class DeliveryRedeliverView(DeliveryMixin, View):
    permission_required = staticmethod(lambda user, delivery: can_manage_subscription(user, delivery.subscription))
    permission_denied_message = MANAGER_REFUSAL

    def post(self, request, pk):
        try:
            services.delivery_redeliver(actor=request.user, delivery=self.delivery)
        except Conflict as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Queued for delivery again.")
        return redirect(reverse("webhooks:delivery_detail", args=[pk]))
