"""The webhook pages. The list shows the webhooks you may see with their last delivery; creating one shows
its secret once, on the next page only (rotating too); the detail page shows a prefix. Each persona gets what
its roles allow: governance all, a team's product owner and ML engineer their team's, auditors read only,
everyone else nothing (404 for a webhook, 403 for the create page). Disabling, rotating and deleting ask
first. The delivery log filters, paginates and shows each attempt's signed headers; lists cost the same
queries for 2 rows as for 8."""

import pytest
from django.urls import reverse

from registry.models import AuditEvent
from tests.query_counts import assert_constant
from webhooks.models import WebhookDelivery, WebhookSubscription
from webhooks.services import subscription_ping
from webhooks.tasks import deliver_webhook

LIST = reverse("webhooks:subscription_list")
CREATE = reverse("webhooks:subscription_create")
LOG = reverse("webhooks:delivery_list")


def url(name, subscription):
    return reverse(f"webhooks:{name}", args=[subscription.pk])


@pytest.fixture
def claims_hook(subscribe, product_owner, team):
    return subscribe(actor=product_owner, team=team, name="claims-bot")


@pytest.fixture
def global_hook(subscribe):
    return subscribe(name="governance-feed")


def create(client, **overrides):
    data = {
        "name": "release-bot",
        "target_url": "https://hooks.example.test/gatehouse",
        "events": ["version.submitted", "incident.opened"],
        "active": "on",
        **overrides,
    }
    return client.post(CREATE, {key: value for key, value in data.items() if value is not None}, follow=True)


# --- The secret, once ---------------------------------------------------------------------------------


def test_the_secret_is_shown_once_right_after_creation_and_never_again(client, product_owner, team):
    client.force_login(product_owner)

    response = create(client, team=team.slug)

    subscription = WebhookSubscription.objects.get()
    assert response.redirect_chain == [(subscription.get_absolute_url(), 302)]
    page = response.content.decode()
    assert subscription.secret in page and "will not be shown again" in page
    again = client.get(subscription.get_absolute_url()).content.decode()
    assert subscription.secret not in again and f"{subscription.secret_prefix}…" in again
    assert subscription.secret not in client.get(url("subscription_edit", subscription)).content.decode()
    assert subscription.secret not in client.get(LIST).content.decode()
    event = AuditEvent.objects.get(action="webhook.created")
    assert subscription.secret not in str(event.payload) and event.payload["team"] == "claims"


def test_rotating_asks_first_then_shows_the_new_secret_once(client, product_owner, claims_hook):
    client.force_login(product_owner)
    old = claims_hook.secret

    confirm = client.get(url("subscription_rotate", claims_hook))
    assert confirm.status_code == 200 and "Rotate the secret" in confirm.content.decode()
    response = client.post(url("subscription_rotate", claims_hook), follow=True)

    new = WebhookSubscription.objects.get(pk=claims_hook.pk).secret
    assert new != old and new in response.content.decode()
    assert new not in client.get(claims_hook.get_absolute_url()).content.decode()


# --- Creating and editing -----------------------------------------------------------------------------


def test_the_form_lists_every_event_with_what_it_means(client, governance_admin):
    client.force_login(governance_admin)

    page = client.get(CREATE).content.decode()

    for value in (
        "version.submitted",
        "approval.decided",
        "deployment.promoted",
        "deployment.rolled_back",
        "incident.opened",
        "incident.resolved",
        "finding.opened",
    ):
        assert f'value="{value}"' in page
    assert 'value="ping"' not in page
    assert "audit.action says which" in page
    assert "Every feature, restricted ones included" in page


def test_a_team_member_creates_for_their_team_only(client, product_owner, team, other_team):
    client.force_login(product_owner)

    assert "Every feature" not in client.get(CREATE).content.decode()
    response = create(client, team=other_team.slug)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = create(client, team=None)
    assert "This field is required" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_invalid_input_is_shown_on_the_form_with_what_was_typed(client, governance_admin, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    client.force_login(governance_admin)

    response = create(client, target_url="http://hooks.example.test/x", events=[])
    page = response.content.decode()
    assert response.status_code == 200
    assert "Choose at least one event" in page or "This field is required" in page
    response = create(client, target_url="http://hooks.example.test/x")
    assert "Use https" in response.content.decode() and "http://hooks.example.test/x" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_editing_changes_the_settings_and_is_audited(client, product_owner, claims_hook, receiver):
    client.force_login(product_owner)
    form = client.get(url("subscription_edit", claims_hook)).content.decode()
    assert 'value="claims-bot"' in form and f'value="{receiver.url}"' in form
    assert 'value="incident.opened" checked' in form and 'name="team"' not in form

    response = client.post(
        url("subscription_edit", claims_hook),
        {
            "name": "claims-bot-2",
            "target_url": receiver.url,
            "events": ["incident.resolved"],
            "active": "on",
        },
    )

    assert response.status_code == 302
    hook = WebhookSubscription.objects.get(pk=claims_hook.pk)
    assert (hook.name, hook.events, hook.team_id) == ("claims-bot-2", ["incident.resolved"], claims_hook.team_id)
    assert AuditEvent.objects.get(action="webhook.updated").payload["name"] == ["claims-bot", "claims-bot-2"]


def test_disabling_asks_first_and_enabling_does_not(client, product_owner, claims_hook):
    client.force_login(product_owner)

    assert "Disable claims-bot?" in client.get(url("subscription_disable", claims_hook)).content.decode()
    client.post(url("subscription_disable", claims_hook))
    assert not WebhookSubscription.objects.get(pk=claims_hook.pk).active
    assert client.get(url("subscription_enable", claims_hook)).status_code == 302  # a GET changes nothing
    assert not WebhookSubscription.objects.get(pk=claims_hook.pk).active
    client.post(url("subscription_enable", claims_hook))
    assert WebhookSubscription.objects.get(pk=claims_hook.pk).active


def test_deleting_asks_first_then_removes_it_and_its_log(client, product_owner, claims_hook):
    client.force_login(product_owner)
    subscription_ping(actor=product_owner, subscription=claims_hook)

    confirm = client.get(url("subscription_delete", claims_hook)).content.decode()
    assert "Delete claims-bot?" in confirm and "delivery log goes with it" in confirm
    assert WebhookSubscription.objects.exists()
    response = client.post(url("subscription_delete", claims_hook))

    assert response.status_code == 302 and response["Location"] == LIST
    assert not WebhookSubscription.objects.exists() and not WebhookDelivery.objects.exists()
    assert AuditEvent.objects.get(action="webhook.deleted").payload["deliveries"] == 1


def test_a_test_ping_from_the_page_lands_on_its_delivery(client, product_owner, claims_hook, receiver):
    client.force_login(product_owner)

    response = client.post(url("subscription_ping", claims_hook), follow=True)

    delivery = WebhookDelivery.objects.get(event="ping")
    assert response.redirect_chain[-1][0] == delivery.get_absolute_url()
    assert "Ping sent" in response.content.decode()


# --- Who sees what ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona, create_status, claims_status, global_status, manages",
    [
        ("governance_admin", 200, 200, 200, True),
        ("product_owner", 200, 200, 404, True),
        ("ml_engineer", 200, 200, 404, True),
        ("auditor", 403, 200, 200, False),
        ("other_product_owner", 200, 404, 404, False),
        ("security_reviewer", 403, 404, 404, False),
        ("support_agent", 403, 404, 404, False),
        ("outsider", 403, 404, 404, False),
    ],
)
def test_each_persona_gets_what_its_roles_allow(
    request,
    client,
    claims_hook,
    global_hook,
    persona,
    create_status,
    claims_status,
    global_status,
    manages,
):
    user = request.getfixturevalue(persona)
    client.force_login(user)

    assert client.get(CREATE).status_code == create_status
    assert client.get(claims_hook.get_absolute_url()).status_code == claims_status
    assert client.get(global_hook.get_absolute_url()).status_code == global_status
    listed = {s.name for s in client.get(LIST).context["object_list"]}
    assert ("claims-bot" in listed) == (claims_status == 200)
    assert ("governance-feed" in listed) == (global_status == 200)
    edit = client.get(url("subscription_edit", claims_hook)).status_code
    assert edit == (200 if manages else 403 if claims_status == 200 else 404)
    delete = client.post(url("subscription_delete", claims_hook)).status_code
    assert delete == (302 if manages else 403 if claims_status == 200 else 404)
    assert WebhookSubscription.objects.filter(pk=claims_hook.pk).exists() == (not manages)


def test_someone_with_no_webhooks_is_told_who_manages_them(client, outsider):
    client.force_login(outsider)

    page = client.get(LIST).content.decode()

    assert "Governance admins manage webhooks for every feature" in page
    assert CREATE not in page


def test_the_user_menu_links_to_webhooks(client, outsider):
    client.force_login(outsider)

    assert f'href="{LIST}"' in client.get(reverse("registry:home")).content.decode()


# --- The delivery log ---------------------------------------------------------------------------------


@pytest.fixture
def log(claims_hook, global_hook, product_owner, governance_admin, receiver):
    """Three deliveries: a succeeded claims ping, a failed claims ping, a pending governance ping."""
    sent = subscription_ping(actor=product_owner, subscription=claims_hook)
    failed = subscription_ping(actor=product_owner, subscription=claims_hook)
    pending = subscription_ping(actor=governance_admin, subscription=global_hook)
    deliver_webhook(str(sent.pk))
    WebhookDelivery.objects.filter(pk=failed.pk).update(status="failed", next_attempt_at=None, last_error="HTTP 500")
    return {"sent": sent, "failed": failed, "pending": pending}


def listed(response):
    return {delivery.pk for delivery in response.context["object_list"]}


def test_the_delivery_log_filters_by_webhook_event_and_status(client, governance_admin, log, claims_hook):
    client.force_login(governance_admin)

    assert listed(client.get(LOG)) == {d.pk for d in log.values()}
    assert listed(client.get(LOG, {"subscription": claims_hook.pk})) == {log["sent"].pk, log["failed"].pk}
    assert listed(client.get(LOG, {"status": "failed"})) == {log["failed"].pk}
    assert listed(client.get(LOG, {"event": "incident.opened"})) == set()
    response = client.get(LOG, {"event": "incident.opened"})
    assert "No delivery matches these filters" in response.content.decode()
    partial = client.get(LOG, {"status": "pending"}, HTTP_HX_REQUEST="true")
    assert partial.templates[0].name == "webhooks/partials/delivery_table.html"


def test_a_team_member_sees_only_their_teams_deliveries_and_cannot_filter_to_others(
    client, product_owner, log, global_hook
):
    client.force_login(product_owner)

    assert listed(client.get(LOG)) == {log["sent"].pk, log["failed"].pk}
    assert listed(client.get(LOG, {"subscription": global_hook.pk})) == set()
    assert client.get(log["pending"].get_absolute_url()).status_code == 404


def test_a_delivery_page_shows_the_signed_headers_the_answer_and_the_payload(client, product_owner, log):
    client.force_login(product_owner)

    page = client.get(log["sent"].get_absolute_url()).content.decode()

    attempt = WebhookDelivery.objects.get(pk=log["sent"].pk).attempt_log.get()
    assert attempt.request_headers["X-Gatehouse-Signature"] in page
    assert "X-Gatehouse-Timestamp" in page and "HTTP 200" in page
    assert "&quot;event&quot;: &quot;ping&quot;" in page
    assert "Redeliver" in page


def test_redeliver_from_the_page_queues_it_again(client, product_owner, log, django_capture_on_commit_callbacks):
    client.force_login(product_owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("webhooks:delivery_redeliver", args=[log["failed"].pk]))

    assert response.status_code == 302
    delivery = WebhookDelivery.objects.get(pk=log["failed"].pk)
    assert (delivery.status, delivery.attempts) == ("succeeded", 1)
    assert AuditEvent.objects.filter(action="webhook_delivery.redelivered").count() == 1


def test_an_auditor_reads_the_log_but_cannot_redeliver(client, auditor, log):
    client.force_login(auditor)

    assert "Redeliver" not in client.get(log["failed"].get_absolute_url()).content.decode()
    assert client.post(reverse("webhooks:delivery_redeliver", args=[log["failed"].pk])).status_code == 403


# --- Query counts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [LIST, LOG])
def test_the_lists_cost_the_same_queries_for_2_as_for_8_rows(
    client, product_owner, team, pinged_hooks, page, django_assert_max_num_queries
):
    client.force_login(product_owner)

    assert_constant(client, page, pinged_hooks(actor=product_owner, team=team), django_assert_max_num_queries, 12)
