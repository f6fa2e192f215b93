"""FilterSets shared by the webhooks pages and the API."""

import django_filters
from django import forms

from core.filters import SearchFilterSet
from registry.filters import team_filter
from webhooks.choices import DeliveryStatus, WebhookEvent
from webhooks.models import WebhookDelivery, WebhookSubscription


def _visible_subscriptions(request):
    from webhooks.selectors import subscriptions_visible_to

    if request is None:
        return WebhookSubscription.objects.none()
    return subscriptions_visible_to(request.user).order_by("name", "id")


class SubscriptionFilter(SearchFilterSet):
    search_fields = ("name", "target_url")
    team = team_filter()
    active = django_filters.BooleanFilter(
        label="Active", widget=forms.Select(choices=[("", "Either"), ("true", "Active"), ("false", "Disabled")])
    )

    class Meta:
        model = WebhookSubscription
        fields = ["q", "team", "active"]


class DeliveryFilter(django_filters.FilterSet):
    subscription = django_filters.ModelChoiceFilter(
        queryset=_visible_subscriptions, empty_label="All webhooks", label="Webhook"
    )
    event = django_filters.ChoiceFilter(choices=WebhookEvent.choices, empty_label="All events")
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices, empty_label="All statuses")
    feature = django_filters.CharFilter(field_name="payload__feature__slug", label="Feature (slug)")

    class Meta:
        model = WebhookDelivery
        fields = ["subscription", "event", "status", "feature"]
