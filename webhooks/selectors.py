"""Reads of the webhooks app, restricted to the subscriptions the user may see."""

from django.db.models import OuterRef, QuerySet, Subquery

from registry.permissions import sees_everything
from webhooks.models import WebhookDelivery, WebhookSubscription
from webhooks.permissions import managed_team_ids


def subscriptions_visible_to(user) -> QuerySet[WebhookSubscription]:
    subscriptions = WebhookSubscription.objects.all()
    if sees_everything(user):
        return subscriptions
    return subscriptions.filter(team_id__in=managed_team_ids(user))


def subscription_list(*, user) -> QuerySet[WebhookSubscription]:
    """With the newest delivery's status and time (two subqueries, not a query per row)."""
    newest = WebhookDelivery.objects.filter(subscription=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        subscriptions_visible_to(user)
        .select_related("team", "created_by")
        .annotate(
            last_status=Subquery(newest.values("status")[:1]),
            last_delivery_at=Subquery(newest.values("created_at")[:1]),
        )
        .order_by("name", "id")
    )


def deliveries_visible_to(user) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(subscription__in=subscriptions_visible_to(user))
        .select_related("subscription", "subscription__team")
        .order_by("-created_at", "-id")
    )


def recent_deliveries(subscription: WebhookSubscription, *, limit: int) -> list[WebhookDelivery]:
    """The subscription's newest ``limit`` deliveries, newest first."""
    return list(subscription.deliveries.order_by("-created_at", "-id")[:limit])


def delivery_attempts(delivery: WebhookDelivery) -> list:
    """Every attempt at ``delivery``, newest first."""
    return list(delivery.attempt_log.order_by("-at", "-id"))
