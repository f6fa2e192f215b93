"""The feature box of the point-in-time page and of "Log an incident", and the incident page's owner box: a
text box that suggests a few matches as you type, instead of a <select> of every feature or every person, so
no page grows with the number of features or people. What the pages answer is unchanged
(``test_point_in_time`` and ``test_incident_pages_and_api`` cover that)."""

import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident
from tests.factories import FeatureFactory, UserFactory
from tests.query_counts import count_queries

LIVE_AT = reverse("registry:live_at")
FEATURE_SUGGESTIONS = reverse("registry:feature_suggestions")


def options(response):
    """The (value, text) of each <option> a suggestions response holds."""
    assert response.status_code == 200
    return re.findall(r'<option value="([^"]*)">([^<]*)</option>', response.content.decode())


def live_at_query(**overrides):
    return {
        "feature": "claims-triage",
        "environment": "production",
        "region": "eu",
        "at": timezone.now().strftime("%Y-%m-%dT%H:%M"),
        **overrides,
    }


# --- The feature box --------------------------------------------------------------------------------


def test_the_live_at_page_neither_lists_every_feature_nor_costs_more_for_more(client, feature, team, product_owner):
    client.force_login(product_owner)
    client.get("/")  # the session's first request does its once-per-sign-in work (second factor, idle stamp)
    FeatureFactory.create_batch(2, team=team)
    few, _ = count_queries(client, f"{LIVE_AT}?{urlencode(live_at_query())}")
    others = FeatureFactory.create_batch(10, team=team)

    many, response = count_queries(client, f"{LIVE_AT}?{urlencode(live_at_query())}")

    page = response.content.decode()
    assert many == few
    assert not any(other.name in page or other.slug in page for other in others)
    assert 'name="feature" value="claims-triage"' in page, "the box keeps what was asked"
    assert f'hx-get="{FEATURE_SUGGESTIONS}"' in page and '<datalist id="id_feature-suggestions">' in page


def test_the_live_at_page_explains_a_slug_that_names_no_visible_feature(client, restricted_feature, outsider):
    client.force_login(outsider)

    response = client.get(LIVE_AT, live_at_query(feature="fraud-signals"))

    assert response.context["event"] is False
    assert response.context["form"].errors["feature"] == [
        "No feature you may see has the slug “fraud-signals”: pick one of the suggestions."
    ]


def test_feature_suggestions_match_name_or_slug_and_come_by_name(client, feature, team, outsider):
    FeatureFactory(slug="claims-intake", name="Intake of claims", team=team)
    FeatureFactory(slug="fx-rates", name="Currency rates", team=team)
    client.force_login(outsider)

    by_name = options(client.get(FEATURE_SUGGESTIONS, {"feature": "Claims"}))
    by_slug = options(client.get(FEATURE_SUGGESTIONS, {"feature": "fx-"}))
    nothing_typed = options(client.get(FEATURE_SUGGESTIONS, {"feature": ""}))

    assert by_name == [("claims-triage", "Claims triage"), ("claims-intake", "Intake of claims")]
    assert by_slug == [("fx-rates", "Currency rates")]
    assert [slug for slug, _name in nothing_typed] == ["claims-triage", "fx-rates", "claims-intake"]


@pytest.mark.parametrize("persona, sees_it", [("outsider", False), ("ml_engineer", True), ("governance_admin", True)])
def test_feature_suggestions_offer_a_restricted_feature_only_to_those_who_may_see_it(
    client, request, restricted_feature, persona, sees_it
):
    client.force_login(request.getfixturevalue(persona))

    offered = options(client.get(FEATURE_SUGGESTIONS, {"feature": "fraud"}))

    assert offered == ([("fraud-signals", "Fraud signals")] if sees_it else [])


def test_feature_suggestions_stop_at_twenty_whatever_matches(client, team, outsider):
    FeatureFactory.create_batch(25, team=team)
    client.force_login(outsider)

    assert len(options(client.get(FEATURE_SUGGESTIONS, {"feature": "feature"}))) == 20


# --- The owner box ----------------------------------------------------------------------------------


@pytest.fixture
def incident(history, open_incident):
    return open_incident(severity="sev2")


def test_the_incident_page_neither_lists_every_person_nor_costs_more_for_more(client, incident, support_agent):
    client.force_login(support_agent)
    client.get("/")  # the session's first request does its once-per-sign-in work (second factor, idle stamp)
    UserFactory.create_batch(2)
    few, _ = count_queries(client, incident.get_absolute_url())
    people = UserFactory.create_batch(10)

    many, response = count_queries(client, incident.get_absolute_url())

    page = response.content.decode()
    assert many == few
    assert not any(f">{person.username}<" in page or f'"{person.username}"' in page for person in people)
    suggestions = reverse("incidents:owner_suggestions", args=[incident.pk])
    assert f'name="owner" value="{incident.owner.username}"' in page and f'hx-get="{suggestions}"' in page


def test_owner_suggestions_match_username_or_name_among_people_who_can_own_it(client, incident, support_agent):
    UserFactory(username="rosa-sre", first_name="Rosa", last_name="Reliability", roles=["support"])
    UserFactory(username="ron-sre", first_name="Ron", last_name="Reliability", is_active=False, roles=["support"])
    UserFactory(username="raj-ops", first_name="Raj", last_name="Sreedhar", roles=["ml"])
    UserFactory(username="sam-sre", first_name="Sam", last_name="Reliability", roles=["auditor"])  # oversees
    UserFactory(username="sid-sre", first_name="Sid", last_name="Reliability")  # no team, no role
    client.force_login(support_agent)
    url = reverse("incidents:owner_suggestions", args=[incident.pk])

    assert options(client.get(url, {"owner": "sre"})) == [
        ("raj-ops", "Raj Sreedhar (raj-ops)"),
        ("rosa-sre", "Rosa Reliability (rosa-sre)"),
    ]
    assert options(client.get(url, {"owner": "reliab"})) == [("rosa-sre", "Rosa Reliability (rosa-sre)")]


def test_owner_suggestions_stop_at_twenty(client, incident, support_agent):
    UserFactory.create_batch(25, roles=["support"])
    client.force_login(support_agent)

    assert len(options(client.get(reverse("incidents:owner_suggestions", args=[incident.pk]), {"owner": ""}))) == 20


def test_owner_suggestions_are_for_those_who_may_reassign(client, incident, auditor, outsider):
    url = reverse("incidents:owner_suggestions", args=[incident.pk])

    client.force_login(auditor)
    assert client.get(url, {"owner": "s"}).status_code == 403
    client.force_login(outsider)
    assert client.get(url, {"owner": "s"}).status_code == 403


def test_an_unknown_owner_comes_back_with_what_was_typed(client, incident, support_agent):
    client.force_login(support_agent)

    response = client.post(reverse("incidents:assign", args=[incident.pk]), {"owner": "nobody-here"})

    assert response.status_code == 422
    page = response.content.decode()
    assert "No active user has the username “nobody-here”." in page
    assert 'name="owner" value="nobody-here"' in page
    assert f'hx-get="{reverse("incidents:owner_suggestions", args=[incident.pk])}"' in page


# --- The feature box of "Log an incident" -----------------------------------------------------------

CREATE = reverse("incidents:incident_create")


def incident_form_data(**overrides):
    return {
        "feature": "claims-triage",
        "environment": "production",
        "region": "eu",
        "severity": "sev3",
        "impact_start": timezone.now().strftime("%Y-%m-%dT%H:%M"),
        "title": "Answers in the wrong language",
        "description": "Dutch questions get French answers.",
        "customer_impact": "Confused customers.",
        **overrides,
    }


def test_the_log_an_incident_page_neither_lists_every_feature_nor_costs_more_for_more(
    client, feature, team, support_agent
):
    client.force_login(support_agent)
    client.get("/")  # the session's first request does its once-per-sign-in work (second factor, idle stamp)
    FeatureFactory.create_batch(2, team=team)
    few, _ = count_queries(client, CREATE)
    others = FeatureFactory.create_batch(10, team=team)

    many, response = count_queries(client, CREATE)

    page = response.content.decode()
    assert many == few
    assert not any(f.name in page or f.slug in page for f in [feature, *others])
    assert f'hx-get="{FEATURE_SUGGESTIONS}"' in page and '<datalist id="id_feature-suggestions">' in page
    assert 'list="id_feature-suggestions"' in page and 'hx-include="this"' in page, (
        "the box asks for suggestions with its own value, not the preview's fields"
    )


def test_the_log_one_link_of_a_feature_page_preselects_its_feature_in_the_box(client, feature, support_agent):
    client.force_login(support_agent)
    link = re.search(rf'href="({CREATE}\?feature=[^"]+)"', client.get(feature.get_absolute_url()).content.decode())

    page = client.get(link.group(1)).content.decode()

    assert 'name="feature" value="claims-triage"' in page


@pytest.mark.parametrize("slug", ["fraud-signals", "no-such-feature"], ids=["restricted", "unknown"])
def test_a_feature_the_reporter_may_not_see_is_refused_as_an_unknown_one_and_the_rest_is_kept(
    client, restricted_feature, feature, outsider, slug
):
    client.force_login(outsider)

    response = client.post(CREATE, incident_form_data(feature=slug))

    assert response.status_code == 200 and not Incident.objects.exists()
    assert response.context["form"].errors == {
        "feature": [f"No feature you may see has the slug “{slug}”: pick one of the suggestions."]
    }
    page = response.content.decode()
    assert f'name="feature" value="{slug}"' in page and f'hx-get="{FEATURE_SUGGESTIONS}"' in page
    assert 'value="Answers in the wrong language"' in page and "Dutch questions get French answers." in page
    assert "Confused customers." in page and 'value="sev3" selected' in page
    assert "Fraud signals" not in page


def test_a_restricted_feature_is_accepted_from_the_box_for_those_who_may_see_it(
    client, restricted_feature, ml_engineer
):
    client.force_login(ml_engineer)

    response = client.post(CREATE, incident_form_data(feature="fraud-signals"))

    assert response.status_code == 302
    assert Incident.objects.get().feature == restricted_feature


def test_an_incident_cannot_go_to_someone_who_cannot_hold_the_job(client, incident, support_agent, auditor):
    nobody = UserFactory(username="nobody-at-all")
    client.force_login(support_agent)

    for person, why in ((auditor, "auditors oversee"), (nobody, "no team and no role")):
        response = client.post(reverse("incidents:assign", args=[incident.pk]), {"owner": person.username})
        assert response.status_code == 422 and why in response.content.decode()
    incident.refresh_from_db()
    assert incident.owner not in (auditor, nobody)
