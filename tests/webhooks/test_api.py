"""Webhooks over the API: subscriptions created (the secret in that answer only), read, changed, rotated
(the new secret in that answer only), pinged and deleted by those who manage them, with the services'
refusals as 400/403/404; deliveries listed with the pages' filters, read with their payload and attempts,
and redelivered. Lists cost the same queries for 2 rows as for 8."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from registry.services import api_token_create
from tests.query_counts import assert_constant
from webhooks.models import WebhookDelivery, WebhookSubscription
from webhooks.services import subscription_ping
from webhooks.tasks import deliver_webhook

SUBSCRIPTIONS = "/api/v1/webhooks/subscriptions/"
DELIVERIES = "/api/v1/webhooks/deliveries/"


def as_user(user):
    _, raw = api_token_create(actor=user, user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def body(**overrides):
    return {
        "name": "ci-bridge",
        "target_url": "https://hooks.example.test/ci",
        "events": ["deployment.promoted"],
        **overrides,
    }


def test_creating_returns_the_secret_once_and_reading_never_does(product_owner, team):
    api = as_user(product_owner)

    created = api.post(SUBSCRIPTIONS, body(team="claims"), format="json")

    assert created.status_code == 201, created.content
    data = created.json()
    subscription = WebhookSubscription.objects.get()
    assert data["secret"] == subscription.secret and data["secret_prefix"] == subscription.secret[:6]
    assert (data["team"], data["events"], data["active"], data["created_by"]) == (
        "claims",
        ["deployment.promoted"],
        True,
        "pat-product",
    )
    read = api.get(f"{SUBSCRIPTIONS}{subscription.pk}/").json()
    assert "secret" not in read and read["secret_prefix"] == subscription.secret[:6]
    assert subscription.secret not in api.get(SUBSCRIPTIONS).content.decode()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"events": []}, "events"),
        ({"events": ["ping"]}, "events"),
        ({"target_url": "ftp://hooks.example.test/x"}, "target_url"),
        ({"target_url": "https://user:pw@hooks.example.test/x"}, "target_url"),
        ({"name": "  "}, "name"),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(governance_admin, overrides, field):
    response = as_user(governance_admin).post(SUBSCRIPTIONS, body(**overrides), format="json")

    assert response.status_code == 400 and field in response.json(), response.content


def test_plain_http_is_refused_unless_allowed(governance_admin, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False

    response = as_user(governance_admin).post(
        SUBSCRIPTIONS, body(target_url="http://hooks.example.test/x"), format="json"
    )

    assert response.status_code == 400 and "https" in str(response.json()["target_url"])


def test_only_governance_creates_a_webhook_for_every_feature(product_owner, governance_admin, other_team):
    assert as_user(product_owner).post(SUBSCRIPTIONS, body(), format="json").status_code == 403
    assert as_user(product_owner).post(SUBSCRIPTIONS, body(team="payments"), format="json").status_code == 403
    assert as_user(governance_admin).post(SUBSCRIPTIONS, body(), format="json").status_code == 201


def test_changing_rotating_pinging_and_deleting(product_owner, team, subscribe, receiver):
    hook = subscribe(actor=product_owner, team=team)
    api = as_user(product_owner)
    detail = f"{SUBSCRIPTIONS}{hook.pk}/"

    changed = api.patch(detail, {"active": False, "events": ["incident.opened", "version.submitted"]}, format="json")
    assert changed.status_code == 200 and changed.json()["active"] is False
    assert changed.json()["events"] == ["version.submitted", "incident.opened"]
    assert "secret" not in changed.json()

    rotated = api.post(f"{detail}rotate-secret/")
    assert (
        rotated.status_code == 200
        and rotated.json()["secret"] == WebhookSubscription.objects.get().secret != hook.secret
    )

    pinged = api.post(f"{detail}ping/")
    assert pinged.status_code == 202 and pinged.json()["event"] == "ping" and pinged.json()["status"] == "pending"

    assert api.delete(detail).status_code == 204
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    "persona, read, change",
    [
        ("governance_admin", 200, 200),
        ("ml_engineer", 200, 200),
        ("auditor", 200, 403),
        ("other_product_owner", 404, 404),
        ("support_agent", 404, 404),
        ("outsider", 404, 404),
    ],
)
def test_each_persona_reads_and_changes_what_its_roles_allow(
    request, subscribe, product_owner, team, persona, read, change
):
    hook = subscribe(actor=product_owner, team=team)
    api = as_user(request.getfixturevalue(persona))
    detail = f"{SUBSCRIPTIONS}{hook.pk}/"

    assert api.get(detail).status_code == read
    assert api.patch(detail, {"name": "renamed"}, format="json").status_code == change
    assert api.post(f"{detail}rotate-secret/").status_code == (200 if change == 200 else change)
    assert len(api.get(SUBSCRIPTIONS).json()["results"]) == (1 if read == 200 else 0)


def test_deliveries_are_listed_filtered_read_and_redelivered(governance_admin, subscribe, receiver):
    hook = subscribe(name="feed")
    other = subscribe(name="other")
    ping = subscription_ping(actor=governance_admin, subscription=hook)
    subscription_ping(actor=governance_admin, subscription=other)
    deliver_webhook(str(ping.pk))
    api = as_user(governance_admin)

    rows = api.get(DELIVERIES, {"subscription": hook.pk}).json()["results"]
    assert [(row["id"], row["status"], row["subscription_name"]) for row in rows] == [
        (str(ping.pk), "succeeded", "feed")
    ]
    assert len(api.get(DELIVERIES, {"status": "pending"}).json()["results"]) == 1
    assert "payload" not in rows[0]
    detail = api.get(f"{DELIVERIES}{ping.pk}/").json()
    assert detail["payload"]["event"] == "ping" and detail["attempt_log"][0]["status_code"] == 200
    assert detail["attempt_log"][0]["request_headers"]["X-Gatehouse-Delivery"] == str(ping.pk)

    redelivered = api.post(f"{DELIVERIES}{ping.pk}/redeliver/")
    assert redelivered.status_code == 202 and redelivered.json()["status"] == "pending"
    WebhookDelivery.objects.filter(pk=ping.pk).update(status="delivering")
    assert api.post(f"{DELIVERIES}{ping.pk}/redeliver/").status_code == 409


def test_deliveries_of_webhooks_you_cannot_see_do_not_exist_for_you(governance_admin, subscribe, other_product_owner):
    ping = subscription_ping(actor=governance_admin, subscription=subscribe())
    api = as_user(other_product_owner)

    assert api.get(DELIVERIES).json()["results"] == []
    assert api.get(f"{DELIVERIES}{ping.pk}/").status_code == 404
    assert api.post(f"{DELIVERIES}{ping.pk}/redeliver/").status_code == 404


def test_the_lists_cost_the_same_queries_for_2_as_for_8(
    client, governance_admin, pinged_hooks, django_assert_max_num_queries
):
    client.force_login(governance_admin)

    assert_constant(client, SUBSCRIPTIONS, pinged_hooks(), django_assert_max_num_queries, 10)
    assert_constant(client, DELIVERIES, pinged_hooks(), django_assert_max_num_queries, 10)


def test_the_schema_documents_the_webhook_endpoints_without_warnings(tmp_path):
    schema = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(schema))

    text = schema.read_text()
    for path in (
        "/api/v1/webhooks/subscriptions/{id}/rotate-secret/",
        "/api/v1/webhooks/subscriptions/{id}/ping/",
        "/api/v1/webhooks/deliveries/{id}/redeliver/",
    ):
        assert f"{path}:" in text
