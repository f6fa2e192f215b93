"""Two workers sending the same delivery at the same moment (a redelivered message and the sweep, say)
send it once: the claim takes the row with SKIP LOCKED and leaves it claimed for the other to skip. A
webhook deleted while a change delivers to it neither deadlocks nor leaves an orphan delivery."""

import threading
import time

import pytest
from django.db import transaction
from django.utils import timezone

from registry.services import audit_record
from tests.concurrency import run_at_once
from webhooks import services, tasks
from webhooks.delivery import delivery_attempt
from webhooks.models import WebhookDelivery, WebhookSubscription
from webhooks.services import subscription_create, subscription_ping

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_concurrent_sends_of_one_delivery_post_it_once(governance_admin, receiver):
    subscription, _ = subscription_create(
        actor=governance_admin, name="feed", target_url=receiver.url, events=["incident.opened"]
    )
    ping = subscription_ping(actor=governance_admin, subscription=subscription)  # sent on commit: once
    assert len(receiver.requests) == 1
    WebhookDelivery.objects.filter(pk=ping.pk).update(status="pending", attempts=0, next_attempt_at=timezone.now())
    receiver.requests.clear()

    outcomes = run_at_once(4, lambda index: delivery_attempt(delivery_id=ping.pk), name="sender")

    assert sorted(outcomes) == ["", "", "", "succeeded"], outcomes
    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get(pk=ping.pk)
    assert (delivery.status, delivery.attempts, delivery.attempt_log.count()) == ("succeeded", 1, 2)


def test_deleting_a_webhook_while_a_change_delivers_to_it_neither_deadlocks_nor_leaves_a_delivery(
    governance_admin,
    monkeypatch,
):
    """The audit listener inserts deliveries after the chain lock, and an insert locks the subscription row
    it points at (a foreign key check). So webhook services lock their subscription in a mode that lets
    those inserts through, and a delete removes rows only once it holds the chain."""
    hook, _ = subscription_create(
        actor=governance_admin, name="feed", target_url="https://hooks.example.test/x", events=["incident.opened"]
    )
    monkeypatch.setattr(tasks.deliver_webhook, "apply_async", lambda *args, **kwargs: None)
    deleting = threading.Event()
    real_audit = services.audit_record_many

    def slow_audit(entries):  # the delete has locked (and before the fix, deleted) its rows: let the change in
        deleting.set()
        time.sleep(1)
        return real_audit(entries)

    monkeypatch.setattr(services, "audit_record_many", slow_audit)

    def work(index):
        if index == 0:
            services.subscription_delete(actor=governance_admin, subscription=hook)
            return "deleted"
        assert deleting.wait(10)
        with transaction.atomic():
            audit_record(actor=governance_admin, action="incident.opened", object_type="incident", object_id=1)
        return "appended"

    outcomes = run_at_once(2, work, name="writer")

    assert sorted(map(str, outcomes)) == ["appended", "deleted"], outcomes
    assert not WebhookSubscription.objects.exists() and not WebhookDelivery.objects.exists()
