"""Every change to a webhook is one audited service call: who, what changed (the secret never, only its first
characters), in the transaction of the change. Deliveries themselves are operational rows, not audited."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from registry.models import AuditEvent
from registry.services import audit_verify
from tests.factories import UserFactory
from webhooks.models import WebhookDelivery, WebhookSubscription
from webhooks.services import (
    delivery_redeliver,
    subscription_create,
    subscription_delete,
    subscription_ping,
    subscription_rotate_secret,
    subscription_update,
)
from webhooks.tasks import deliver_webhook


def test_each_change_is_audited_and_no_event_holds_a_secret(governance_admin, receiver):
    hook, first_secret = subscription_create(
        actor=governance_admin,
        name="feed",
        target_url=receiver.url,
        events=["incident.opened", "version.submitted", "incident.opened"],
    )
    subscription_update(actor=governance_admin, subscription=hook, name="feed")  # no change: nothing recorded
    subscription_update(actor=governance_admin, subscription=hook, active=False)
    _, second_secret = subscription_rotate_secret(actor=governance_admin, subscription=hook)
    ping = subscription_ping(actor=governance_admin, subscription=hook)
    deliver_webhook(str(ping.pk))
    delivery_redeliver(actor=governance_admin, delivery=WebhookDelivery.objects.get(pk=ping.pk))
    subscription_delete(actor=governance_admin, subscription=hook)

    events = list(AuditEvent.objects.filter(action__startswith="webhook").order_by("sequence"))
    assert [event.action for event in events] == [
        "webhook.created",
        "webhook.updated",
        "webhook.secret_rotated",
        "webhook.pinged",
        "webhook_delivery.redelivered",
        "webhook.deleted",
    ]
    assert {event.actor_id for event in events} == {governance_admin.pk}
    assert events[0].payload["events"] == ["version.submitted", "incident.opened"]  # once each, in the documented order
    assert events[1].payload == {"active": [True, False]}
    assert events[2].payload == {"secret_prefix": [first_secret[:6], second_secret[:6]]}
    assert events[4].payload["status"] == ["succeeded", "pending"]
    assert events[5].object_repr == "feed" and events[5].payload["deliveries"] == 1
    text = str([event.payload for event in events])
    assert first_secret not in text and second_secret not in text
    assert audit_verify().ok


def test_a_product_owner_who_is_also_an_auditor_only_reads(team):
    reader = UserFactory(username="rita-reader", roles=["product", "auditor"], teams=[team])

    with pytest.raises(PermissionDenied):
        subscription_create(
            actor=reader, name="x", target_url="https://hooks.example.test/x", events=["incident.opened"], team=team
        )


def test_a_team_member_without_a_product_or_ml_role_cannot_manage_the_teams_webhooks(team, subscribe, product_owner):
    hook = subscribe(actor=product_owner, team=team)
    member = UserFactory(username="sid-support", roles=["support"], teams=[team])

    with pytest.raises(PermissionDenied):
        subscription_update(actor=member, subscription=hook, active=False)


def test_every_invalid_field_is_reported_at_once_and_nothing_is_saved(governance_admin):
    with pytest.raises(ValidationError) as refused:
        subscription_create(actor=governance_admin, name=" ", target_url="hooks.example.test", events=["nope"])

    assert set(refused.value.message_dict) == {"name", "target_url", "events"}
    assert not WebhookSubscription.objects.exists() and not AuditEvent.objects.filter(action="webhook.created")
