""" "What was live for feature F in environment E, region R at time T, and on whose approval?" from the
deployment history: the newest event at or before T, on the selector, the page and the API alike."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.models import SignOff
from registry.models import DeploymentEvent
from registry.selectors import live_at
from registry.services import deployment_rollback
from tests.incidents.conftest import place_promotion

T1 = timezone.now().replace(microsecond=0) - timedelta(hours=5)
T2 = T1 + timedelta(hours=2)
SECOND = timedelta(seconds=1)


@pytest.fixture
def timeline(releases):
    """v1 went live at T1 and v2 at T2, in eu and us."""
    v1, v2 = releases(2)
    place_promotion(v1, T1)
    place_promotion(v2, T2)
    return v1, v2


def signers_of(request_id):
    """Who signed the approval request, from its sign-offs (what approval_summary must repeat)."""
    signers = SignOff.objects.filter(request_id=request_id, signer__isnull=False).values_list(
        "signer__username", flat=True
    )
    assert len(signers) >= 4, "ml, security, legal and product signed"
    return sorted(signers)


def number_at(feature, region, at, environment="production"):
    event = live_at(feature=feature, environment=environment, region=region, at=at)
    return event.to_version.number if event else None


@pytest.mark.parametrize(
    "at, expected",
    [
        pytest.param(T1 - SECOND, None, id="a-second-before-T1"),
        pytest.param(T1, 1, id="exactly-T1"),
        pytest.param(T2 - SECOND, 1, id="a-second-before-T2"),
        pytest.param(T2, 2, id="exactly-T2"),
        pytest.param(T2 + SECOND, 2, id="after-T2"),
    ],
)
def test_live_at_counts_an_event_at_exactly_the_moment_asked(timeline, feature, eu, at, expected):
    assert number_at(feature, eu, at) == expected


def test_live_at_is_per_environment_and_region(timeline, feature, eu, us, ml_engineer):
    deployment_rollback(actor=ml_engineer, feature=feature, environment="production", region=us, reason="us only.")
    now = timezone.now()

    assert (number_at(feature, eu, now), number_at(feature, us, now)) == (2, 1)
    assert number_at(feature, eu, now, environment="staging") is None


def test_after_a_rollback_live_at_returns_the_rolled_back_to_version(timeline, feature, eu, ml_engineer):
    v1, _v2 = timeline
    event = deployment_rollback(
        actor=ml_engineer, feature=feature, environment="production", region=eu, reason="Complaints doubled."
    )

    found = live_at(feature=feature, environment="production", region=eu, at=event.at)

    assert (found, found.to_version, found.kind) == (event, v1, "rolled_back")
    assert number_at(feature, eu, event.at - timedelta(microseconds=1)) == 2, "just before the rollback"


def test_two_events_at_the_same_moment_resolve_to_the_later_one(timeline, feature, eu, ml_engineer):
    rollback = deployment_rollback(
        actor=ml_engineer, feature=feature, environment="production", region=eu, reason="Immediately."
    )
    DeploymentEvent.objects.filter(pk=rollback.pk).update(at=T2)

    assert number_at(feature, eu, T2) == 1


# --- The page --------------------------------------------------------------------------------------


def page_query(at, **overrides):
    return {
        "feature": "claims-triage",
        "environment": "production",
        "region": "eu",
        "at": at.strftime("%Y-%m-%dT%H:%M:%S"),
        **overrides,
    }


def test_the_page_shows_version_model_prompt_policy_pack_and_approvers(client, timeline, product_owner, pins):
    v1, _v2 = timeline
    client.force_login(product_owner)

    response = client.get(reverse("registry:live_at"), page_query(T1 + timedelta(minutes=30)))

    page = response.content.decode()
    event = response.context["event"]
    assert event.to_version == v1
    assert "Claims triage v1" in page
    assert "claude-sonnet-4" in page and pins["model"].vendor.name in page
    assert str(v1.prompt) in page and str(v1.policy_pack) in page
    signers = [signoff["signer"] for signoff in event.approval_summary["signoffs"]]
    assert sorted(signers) == signers_of(event.approval_request_id)
    for signoff in event.approval_summary["signoffs"]:
        assert f"{signoff['signer']} ({signoff['role']})" in page
    assert f"#{event.approval_summary['request']}" in page


def test_the_page_says_when_nothing_was_live(client, timeline, product_owner):
    client.force_login(product_owner)

    response = client.get(reverse("registry:live_at"), page_query(T1 - timedelta(hours=1)))

    assert response.context["event"] is None
    assert "Nothing was live there at that time." in response.content.decode()


def test_the_page_hides_a_restricted_feature_from_an_outsider(client, restricted_feature, outsider):
    client.force_login(outsider)

    response = client.get(reverse("registry:live_at"), page_query(timezone.now(), feature="fraud-signals"))

    assert response.status_code == 200
    assert response.context["event"] is False and response.context["form"].errors["feature"]
    assert "Fraud signals" not in response.content.decode()


# --- The API ---------------------------------------------------------------------------------------


def api(client, **query):
    return client.get("/api/v1/live-at/", query)


def api_query(at, **overrides):
    return {"feature": "claims-triage", "environment": "production", "region": "eu", "at": at.isoformat(), **overrides}


def test_the_api_returns_the_version_and_its_approval(client, timeline, product_owner, pins):
    v1, _v2 = timeline
    client.force_login(product_owner)

    response = api(client, **api_query(T1))

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["feature"], body["environment"], body["region"], body["how"]) == (
        "claims-triage",
        "production",
        "eu",
        "promoted",
    )
    assert body["version"]["number"] == 1 and body["version"]["id"] == v1.pk
    assert body["made_live_by"] == "pat-product"
    assert body["approval"]["gate"] == "production"
    assert body["approval"]["requested_by"] == "mel-ml"
    assert (
        body["approval"]["request"] == DeploymentEvent.objects.get(to_version=v1, region__code="eu").approval_request_id
    )
    assert sorted(signoff["signer"] for signoff in body["approval"]["signoffs"]) == signers_of(
        body["approval"]["request"]
    )


def test_the_api_answers_the_rolled_back_to_version_after_a_rollback(client, timeline, ml_engineer, feature, eu):
    client.force_login(ml_engineer)
    deployment_rollback(actor=ml_engineer, feature=feature, environment="production", region=eu, reason="Back.")

    body = api(client, **api_query(timezone.now())).json()

    assert (body["version"]["number"], body["how"], body["approval"]) == (1, "rolled_back", {})


def test_the_api_answers_404_when_nothing_was_live(client, timeline, product_owner):
    client.force_login(product_owner)

    response = api(client, **api_query(T1 - SECOND))

    assert response.status_code == 404
    assert "claims-triage" in response.json()["detail"]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"at": "yesterday"}, "at"),
        ({"at": ""}, "at"),
        ({"region": "mars"}, "region"),
        ({"environment": "moon"}, "environment"),
        ({"feature": "no-such-feature"}, "feature"),
    ],
)
def test_the_api_answers_400_for_bad_input(client, timeline, product_owner, overrides, field):
    client.force_login(product_owner)

    response = api(client, **{**api_query(timezone.now()), **overrides})

    assert response.status_code == 400
    assert field in response.json()


def test_the_api_hides_a_restricted_feature_from_an_outsider_with_the_unknown_feature_answer(
    client, restricted_feature, outsider, ml_engineer
):
    client.force_login(outsider)
    hidden = api(client, **api_query(timezone.now(), feature="fraud-signals"))
    unknown = api(client, **api_query(timezone.now(), feature="fraud-signalz"))

    assert hidden.status_code == unknown.status_code == 400
    assert hidden.json()["feature"] == [
        message.replace("fraud-signalz", "fraud-signals") for message in unknown.json()["feature"]
    ]

    client.force_login(ml_engineer)
    assert api(client, **api_query(timezone.now(), feature="fraud-signals")).status_code == 404, "the team sees it"


def test_the_api_needs_a_signed_in_caller(client, timeline):
    assert api(client, **api_query(timezone.now())).status_code == 401
