"""The delivery log speaks in words: "Could not resolve host …", "Connection refused by …", "Timed out after
N s", with the network library's own message (``gaierror: [Errno -2] …``) kept for whoever debugs it, on hover
in the list and in a details element on the delivery's page."""

import re
import socket

import pytest

from webhooks.choices import TIMEOUT_SECONDS
from webhooks.delivery import human_error, technical_detail
from webhooks.models import WebhookDelivery
from webhooks.services import subscription_create, subscription_ping
from webhooks.tasks import deliver_webhook

pytestmark = pytest.mark.django_db


def send(delivery):
    return deliver_webhook.delay(str(delivery.pk)).get()


@pytest.fixture
def unresolvable(governance_admin, receiver):
    subscription, _ = subscription_create(
        actor=governance_admin, name="typo", events=["incident.opened"], target_url="https://example.invalid/hooks"
    )
    delivery = subscription_ping(actor=governance_admin, subscription=subscription)
    send(delivery)
    return WebhookDelivery.objects.get(pk=delivery.pk)


def test_each_network_failure_reads_as_words_naming_the_host():
    url = "https://hooks.example.test:8443/in"
    assert human_error(socket.gaierror(-2, "Name or service not known"), url) == (
        "Could not resolve host hooks.example.test (no DNS record for that name)."
    )
    assert human_error(ConnectionRefusedError(111, "Connection refused"), url) == (
        "Connection refused by hooks.example.test on port 8443 (nothing listens there)."
    )
    assert human_error(TimeoutError("timed out"), url) == (
        f"Timed out after {TIMEOUT_SECONDS} s: hooks.example.test did not answer."
    )
    assert human_error(OSError("something odd"), url) == "Could not reach hooks.example.test."
    assert technical_detail(socket.gaierror(-2, "Name or service not known")) == (
        "gaierror: [Errno -2] Name or service not known"
    )


def test_the_delivery_list_shows_the_words_and_the_detail_on_hover(client, governance_admin, unresolvable):
    client.force_login(governance_admin)

    page = client.get("/webhooks/deliveries/").content.decode()

    assert "Could not resolve host example.invalid" in page
    assert 'title="gaierror: ' in page  # the technical form, on hover
    visible = re.sub(r'title="[^"]*"', "", page)
    assert "gaierror" not in visible and "Errno" not in visible


def test_the_delivery_page_keeps_the_technical_detail_in_a_details_element(client, governance_admin, unresolvable):
    client.force_login(governance_admin)

    page = client.get(unresolvable.get_absolute_url()).content.decode()

    assert '<p class="attempt-error">Could not resolve host example.invalid (no DNS record for that name).</p>' in page
    detail = page[page.index('<details class="error-detail">') :]
    assert detail.index("<summary") < detail.index("gaierror: [Errno")  # behind the summary, not in the sentence


def test_the_api_gives_the_words_and_the_technical_detail_apart(governance_admin, unresolvable):
    from tests.webhooks.test_api import as_user

    found = as_user(governance_admin).get(f"/api/v1/webhooks/deliveries/{unresolvable.pk}/").json()

    assert found["last_error"].startswith("Could not resolve host example.invalid")
    assert found["last_error_detail"].startswith("gaierror: ")
    assert found["attempt_log"][0]["error_detail"] == found["last_error_detail"]


def test_errors_stored_raw_before_are_reworded_and_kept_as_detail(governance_admin, receiver):
    import importlib

    from django.apps import apps

    from webhooks.models import WebhookAttempt

    reword = importlib.import_module("webhooks.migrations.0008_error_words").reword
    subscription, _ = subscription_create(
        actor=governance_admin, name="old", events=["incident.opened"], target_url="https://example.invalid/hooks"
    )
    raw = "gaierror: [Errno -2] Name or service not known"
    old = subscription_ping(actor=governance_admin, subscription=subscription)
    WebhookDelivery.objects.filter(pk=old.pk).update(last_error=raw, attempts=1)
    WebhookAttempt.objects.create(
        delivery=old,
        at=old.created_at,
        error="<urlopen error [Errno 111] Connection refused>",
        duration_ms=3,
        succeeded=False,
    )
    worded = subscription_ping(actor=governance_admin, subscription=subscription)
    WebhookDelivery.objects.filter(pk=worded.pk).update(last_error="HTTP 500", last_status_code=500)

    reword(apps, None)

    old = WebhookDelivery.objects.get(pk=old.pk)
    assert (old.last_error, old.last_error_detail) == (
        "Could not resolve host example.invalid (no DNS record for that name).",
        raw,
    )
    attempt = old.attempt_log.get()
    assert attempt.error == "Connection refused by example.invalid (nothing listens there)."
    assert attempt.error_detail == "<urlopen error [Errno 111] Connection refused>"
    assert WebhookDelivery.objects.get(pk=worded.pk).last_error == "HTTP 500"  # an answer, in words already
