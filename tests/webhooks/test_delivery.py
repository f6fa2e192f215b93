"""Sending: each delivery is POSTed as JSON signed with the subscription's secret (checked here against an
independent HMAC); a 2xx is success; anything else is retried with growing waits until the sixth attempt
fails, when the owner is told once; redirects are not followed; an unreachable receiver is an error, not a
crash. A redelivery starts a new round with the same id and payload, signed with the current secret."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.exceptions import Conflict
from registry.models import Notification
from tests.webhooks.conftest import make_due, open_incident
from webhooks.choices import MAX_ATTEMPTS, RETRY_DELAYS
from webhooks.delivery import delivery_attempt
from webhooks.models import WebhookDelivery
from webhooks.services import (
    delivery_redeliver,
    subscription_create,
    subscription_ping,
    subscription_rotate_secret,
    subscription_update,
)
from webhooks.tasks import deliver_due, deliver_webhook


@pytest.fixture
def hook(governance_admin, receiver):
    subscription, secret = subscription_create(
        actor=governance_admin,
        name="release-bot",
        target_url=receiver.url,
        events=["incident.opened"],
    )
    subscription.raw_secret = secret
    return subscription


@pytest.fixture
def ping(hook, governance_admin):
    """A ping queued (not yet sent: on-commit callbacks do not run in these tests)."""
    return subscription_ping(actor=governance_admin, subscription=hook)


def send(delivery):
    return deliver_webhook.delay(str(delivery.pk)).get()


def expected_signature(secret, timestamp, body):
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_a_delivery_is_a_signed_json_post_the_receiver_can_verify(hook, ping, receiver):
    assert send(ping) == "succeeded"

    [request] = receiver.requests
    headers = request.headers
    assert request.path == "/hooks/gatehouse"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Gatehouse-Webhooks/1"
    assert headers["X-Gatehouse-Event"] == "ping"
    assert headers["X-Gatehouse-Delivery"] == str(ping.pk)
    assert abs(int(headers["X-Gatehouse-Timestamp"]) - time.time()) < 60
    assert headers["X-Gatehouse-Signature"] == expected_signature(
        hook.raw_secret, headers["X-Gatehouse-Timestamp"], request.body
    )
    assert request.json == WebhookDelivery.objects.get(pk=ping.pk).payload
    assert request.json["event"] == "ping" and request.json["actor"] == "gia-governance"
    assert request.json["object"] == {"type": "webhooksubscription", "id": str(hook.pk), "repr": "release-bot"}


def test_success_records_the_attempt_and_the_answer(ping):
    send(ping)

    delivery = WebhookDelivery.objects.get(pk=ping.pk)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert delivery.next_attempt_at is None and delivery.delivered_at is not None
    assert delivery.last_response_excerpt == "ok" and delivery.last_error == ""
    [attempt] = delivery.attempt_log.all()
    assert attempt.succeeded and attempt.status_code == 200
    assert attempt.request_headers["X-Gatehouse-Signature"].startswith("sha256=")


def test_a_500_is_retried_after_a_wait_and_a_later_success_ends_it(ping, receiver):
    receiver.answer((500, "database on fire"))

    before = timezone.now()
    assert send(ping) == "retrying"

    delivery = WebhookDelivery.objects.get(pk=ping.pk)
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (1, 500, "HTTP 500")
    assert delivery.last_response_excerpt == "database on fire"
    wait = delivery.next_attempt_at - before
    assert RETRY_DELAYS[0] <= wait <= RETRY_DELAYS[0] * 1.1 + timedelta(seconds=5)
    assert len(receiver.requests) == 1  # the eager re-queue found it not yet due
    assert send(ping) == ""  # still not due

    make_due(ping)
    assert send(ping) == "succeeded"

    delivery = WebhookDelivery.objects.get(pk=ping.pk)
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 200]
    assert len(receiver.requests) == 2


def test_the_waits_grow_and_the_sixth_failure_gives_up_and_tells_the_owner_once(ping, hook, receiver, governance_admin):
    receiver.answer(*[503] * MAX_ATTEMPTS)
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        make_due(ping)
        started = timezone.now()
        outcome = send(ping)
        delivery = WebhookDelivery.objects.get(pk=ping.pk)
        if attempt < MAX_ATTEMPTS:
            assert outcome == "retrying"
            waits.append(delivery.next_attempt_at - started)

    assert outcome == "failed"
    assert waits == sorted(waits) and waits[0] >= timedelta(seconds=30) and waits[-1] >= timedelta(hours=6)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", MAX_ATTEMPTS, None)
    assert delivery.attempt_log.count() == MAX_ATTEMPTS
    assert send(ping) == ""  # finished: nothing more is sent
    assert len(receiver.requests) == MAX_ATTEMPTS
    [notice] = Notification.objects.filter(user=governance_admin, key__startswith="webhook-failed:")
    assert "release-bot" in notice.subject and notice.url == ping.get_absolute_url()


def test_a_redirect_is_not_followed(ping, receiver):
    receiver.answer(302)

    assert send(ping) == "retrying"

    delivery = WebhookDelivery.objects.get(pk=ping.pk)
    assert delivery.last_status_code == 302 and "not followed" in delivery.last_error
    assert len(receiver.requests) == 1


def test_an_unreachable_receiver_is_recorded_as_an_error(governance_admin, receiver):
    subscription, _ = subscription_create(
        actor=governance_admin, name="gone", target_url="http://127.0.0.1:9/x", events=["incident.opened"]
    )
    delivery = subscription_ping(actor=governance_admin, subscription=subscription)

    assert send(delivery) == "retrying"

    delivery = WebhookDelivery.objects.get(pk=delivery.pk)
    assert delivery.last_status_code is None and "refused" in delivery.last_error.lower()
    assert delivery.attempt_log.get().error == delivery.last_error


def test_a_redelivery_sends_the_same_event_again_signed_with_the_current_secret(hook, ping, receiver, governance_admin):
    send(ping)
    _, new_secret = subscription_rotate_secret(actor=governance_admin, subscription=hook)

    redelivered = delivery_redeliver(actor=governance_admin, delivery=WebhookDelivery.objects.get(pk=ping.pk))
    assert (redelivered.status, redelivered.attempts) == ("pending", 0)
    assert send(ping) == "succeeded"

    first, second = receiver.requests
    assert first.body == second.body
    assert second.headers["X-Gatehouse-Delivery"] == str(ping.pk)
    assert second.headers["X-Gatehouse-Signature"] == expected_signature(
        new_secret, second.headers["X-Gatehouse-Timestamp"], second.body
    )
    assert WebhookDelivery.objects.get(pk=ping.pk).attempt_log.count() == 2


def test_a_redelivery_of_a_waiting_retry_sends_it_now(ping, receiver, governance_admin):
    receiver.answer(500)
    send(ping)

    delivery_redeliver(actor=governance_admin, delivery=WebhookDelivery.objects.get(pk=ping.pk))
    assert send(ping) == "succeeded"

    assert WebhookDelivery.objects.get(pk=ping.pk).attempts == 2


def test_a_delivery_being_sent_cannot_be_redelivered(ping, governance_admin):
    WebhookDelivery.objects.filter(pk=ping.pk).update(status="delivering")

    with pytest.raises(Conflict):
        delivery_redeliver(actor=governance_admin, delivery=WebhookDelivery.objects.get(pk=ping.pk))


def test_only_those_who_manage_the_webhook_redeliver(ping, product_owner, auditor):
    for person in (product_owner, auditor):
        with pytest.raises(PermissionDenied):
            delivery_redeliver(actor=person, delivery=WebhookDelivery.objects.get(pk=ping.pk))


def test_a_disabled_webhooks_queued_deliveries_wait_and_its_pings_still_go(
    hook,
    governance_admin,
    receiver,
    feature,
    support_agent,
    django_capture_on_commit_callbacks,
):
    open_incident(support_agent, feature)
    event = hook.deliveries.get()
    subscription_update(actor=governance_admin, subscription=hook, active=False)
    assert send(event) == ""
    ping = subscription_ping(actor=governance_admin, subscription=hook)
    assert send(ping) == "succeeded"

    subscription_update(actor=governance_admin, subscription=hook, active=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver_due() == 1

    assert [request.headers["X-Gatehouse-Event"] for request in receiver.requests] == ["ping", "incident.opened"]


def test_a_lapsed_claim_is_picked_up_again_by_the_sweep(ping, receiver, django_capture_on_commit_callbacks):
    """A worker that died mid-request leaves its claim; once the lease lapses the sweep sends it."""
    WebhookDelivery.objects.filter(pk=ping.pk).update(
        status="delivering", attempts=1, next_attempt_at=timezone.now() + timedelta(seconds=60)
    )
    assert delivery_attempt(delivery_id=ping.pk) == ""

    make_due(ping)
    with django_capture_on_commit_callbacks(execute=True):
        deliver_due()

    delivery = WebhookDelivery.objects.get(pk=ping.pk)
    assert (delivery.status, delivery.attempts, len(receiver.requests)) == ("succeeded", 2, 1)
    assert json.loads(receiver.requests[0].body)["id"] == str(ping.pk)


def test_the_log_keeps_only_a_short_one_line_excerpt_of_the_answer(ping, receiver, client, governance_admin):
    """Issue 16: 500 characters of the answer were a read-back channel into internal services."""
    receiver.answer((500, "<html><script>alert(1)</script>\r\n\x1b[31mSECRET-ROW-1\x00\t" + "z" * 1000 + "TAIL"))

    send(ping)

    delivery = WebhookDelivery.objects.get(pk=ping.pk)
    excerpt = delivery.last_response_excerpt
    assert len(excerpt) <= 120 and "TAIL" not in excerpt
    assert not [char for char in excerpt if ord(char) < 32 or ord(char) == 127], repr(excerpt)
    assert excerpt.startswith("<html><script>alert(1)</script> [31mSECRET-ROW-1 zzz")
    assert delivery.attempt_log.get().response_excerpt == excerpt
    client.force_login(governance_admin)
    page = client.get(delivery.get_absolute_url()).content.decode()
    assert "HTTP 500" in page and "&lt;script&gt;alert(1)" in page and "<script>alert(1)" not in page


def test_a_name_that_does_not_resolve_reads_as_words_not_an_errno(governance_admin, receiver, settings):
    subscription, _ = subscription_create(
        actor=governance_admin, name="typo", events=["incident.opened"], target_url="http://no-such-receiver.invalid/x"
    )
    delivery = subscription_ping(actor=governance_admin, subscription=subscription)

    send(delivery)

    delivery = WebhookDelivery.objects.get(pk=delivery.pk)
    error = delivery.last_error
    assert error == "Could not resolve host no-such-receiver.invalid (no DNS record for that name)."
    assert "Errno" not in error and "gaierror" not in error
    # The technical form is kept apart, for whoever debugs the receiver.
    assert delivery.last_error_detail.startswith("gaierror: ")
    assert delivery.attempt_log.get().error_detail == delivery.last_error_detail
