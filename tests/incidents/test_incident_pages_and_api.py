"""The incident pages and the incidents API: lists filtered by the one FilterSet, paginated, with an htmx
partial; the form that keeps what was typed and previews what was live; the detail page with its live
version and timeline; the API doing what the pages do through the same services; restricted incidents
invisible to those who cannot see their feature."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.choices import EventKind
from incidents.models import Incident
from incidents.services import incident_comment, incident_transition
from tests.factories import FeatureFactory
from tests.incidents.conftest import fresh, hours_ago

LIST = reverse("incidents:incident_list")
CREATE = reverse("incidents:incident_create")
PREVIEW = reverse("incidents:live_at_preview")
API = "/api/v1/incidents/"


class Incidents:
    """Four incidents: two on claims triage (a fresh SEV1 in eu, a resolved SEV3 in us three days ago), an
    investigating SEV2 on another team's feature, and a SEV1 on a restricted feature."""

    def __init__(
        self, *, open_incident, on_call, other_team, other_product_owner, restricted_feature, ml_engineer, eu, us
    ):
        self.payments = FeatureFactory(
            slug="payment-helper",
            name="Payment helper",
            team=other_team,
            accountable_owner=other_product_owner,
            regions=[eu],
        )
        self.misroute = open_incident(severity="sev1", title="Claims routed to the wrong queue")
        self.slow = open_incident(
            severity="sev3",
            region=us,
            impact_start=timezone.now() - timedelta(days=3),
            title="Slow answers in us",
            description="Latency above the SLO.",
        )
        incident_transition(actor=on_call, incident=self.slow, status="resolved")
        self.refunds = open_incident(
            feature=self.payments,
            severity="sev2",
            title="Refund amounts hallucinated",
            description="The helper invents refund amounts.",
        )
        incident_transition(actor=other_product_owner, incident=self.refunds, status="investigating")
        self.fraud = open_incident(
            actor=ml_engineer,
            feature=restricted_feature,
            severity="sev1",
            title="Fraud scores all zero",
            description="Every score is 0.",
        )

    @property
    def visible_to_everyone(self):
        return [self.misroute, self.slow, self.refunds]


@pytest.fixture
def incidents(
    history, open_incident, on_call, other_team, other_product_owner, restricted_feature, ml_engineer, eu, us
):
    return Incidents(
        open_incident=open_incident,
        on_call=on_call,
        other_team=other_team,
        other_product_owner=other_product_owner,
        restricted_feature=restricted_feature,
        ml_engineer=ml_engineer,
        eu=eu,
        us=us,
    )


def listed(response):
    return [incident.pk for incident in response.context["object_list"]]


def pks(*incidents):
    return sorted(incident.pk for incident in incidents)


# --- The list page -------------------------------------------------------------------------------


def test_the_list_shows_every_visible_incident_newest_impact_first(client, incidents, governance_admin, support_agent):
    client.force_login(governance_admin)
    assert listed(client.get(LIST)) == [
        incidents.fraud.pk,
        incidents.refunds.pk,
        incidents.misroute.pk,
        incidents.slow.pk,
    ]

    client.force_login(support_agent)
    response = client.get(LIST)
    assert sorted(listed(response)) == pks(*incidents.visible_to_everyone)
    assert "Fraud scores all zero" not in response.content.decode()


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"status": "resolved"}, ["slow"]),
        ({"status": "investigating"}, ["refunds"]),
        ({"severity": "sev1"}, ["misroute", "fraud"]),
        ({"feature": "payment-helper"}, ["refunds"]),
        ({"team": "claims"}, ["misroute", "slow", "fraud"]),
        ({"team": "payments", "severity": "sev1"}, []),
        ({"q": "hallucinated"}, ["refunds"]),
        ({"q": "LATENCY"}, ["slow"]),
        ({"q": "claims triage"}, ["misroute", "slow"]),
        ({"since": "{yesterday}"}, ["misroute", "refunds", "fraud"]),
        ({"until": "{yesterday}"}, ["slow"]),
        ({"since": "{four_days_ago}", "until": "{two_days_ago}"}, ["slow"]),
    ],
)
def test_the_list_filters_by_status_severity_feature_team_dates_and_search(
    client, incidents, governance_admin, query, expected
):
    today = timezone.localdate(incidents.misroute.impact_start)  # not now: half an hour ago may be yesterday
    dates = {
        "yesterday": today - timedelta(days=1),
        "two_days_ago": today - timedelta(days=2),
        "four_days_ago": today - timedelta(days=4),
    }
    query = {key: value.format(**dates) for key, value in query.items()}
    client.force_login(governance_admin)

    response = client.get(LIST, query)

    assert sorted(listed(response)) == pks(*(getattr(incidents, name) for name in expected))
    if not expected:
        assert "No incident matches these filters." in response.content.decode()


def test_an_invalid_filter_shows_nothing_rather_than_everything(client, incidents, governance_admin):
    client.force_login(governance_admin)

    assert listed(client.get(LIST, {"severity": "sev9"})) == []


def test_the_list_is_paginated(client, incidents, governance_admin, settings):
    settings.GATEHOUSE_PAGE_SIZE = 3
    client.force_login(governance_admin)

    first, second = client.get(LIST), client.get(LIST, {"page": 2})

    assert len(listed(first)) == 3 and len(listed(second)) == 1
    assert set(listed(first)).isdisjoint(listed(second))
    assert "Page 1 of 2" in first.content.decode()
    assert listed(client.get(LIST, {"page": 99})) == listed(second), "a page too far shows the last one"


def test_filters_are_kept_in_the_pagination_links(client, incidents, governance_admin, settings):
    settings.GATEHOUSE_PAGE_SIZE = 1
    client.force_login(governance_admin)

    page = client.get(LIST, {"team": "claims"}).content.decode()

    assert "?team=claims&amp;page=2" in page


def test_htmx_gets_only_the_results_table(client, incidents, governance_admin):
    client.force_login(governance_admin)

    response = client.get(LIST, {"severity": "sev1"}, HTTP_HX_REQUEST="true")

    names = [template.name for template in response.templates]
    assert "incidents/partials/incident_table.html" in names and "base.html" not in names
    page = response.content.decode()
    assert "<html" not in page and "Fraud scores all zero" in page and "Slow answers in us" not in page


def test_the_list_shows_the_version_live_then(client, incidents, governance_admin):
    client.force_login(governance_admin)

    page = client.get(LIST, {"feature": "claims-triage"}).content.decode()

    assert incidents.misroute.reference in page and "v2" in page


# --- Logging one ---------------------------------------------------------------------------------


def form_data(**overrides):
    return {
        "feature": "claims-triage",
        "environment": "production",
        "region": "eu",
        "severity": "sev2",
        "impact_start": hours_ago(2).strftime("%Y-%m-%dT%H:%M"),
        "title": "Claims routed to the wrong queue",
        "description": "Motor claims land in the travel queue.",
        "customer_impact": "A day's delay.",
        **overrides,
    }


def test_logging_an_incident_fills_in_what_was_live_and_shows_it(client, history, support_agent, on_call):
    v1, _v2 = history
    client.force_login(support_agent)

    response = client.post(CREATE, form_data(), follow=True)

    incident = Incident.objects.get()
    assert response.redirect_chain[-1][0] == incident.get_absolute_url()
    assert (incident.live_version, incident.owner, incident.reporter) == (v1, on_call, support_agent)
    assert f"Logged {incident}" in response.content.decode()


def test_the_form_keeps_what_was_typed_when_the_service_refuses(client, history, support_agent):
    client.force_login(support_agent)
    future = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    response = client.post(CREATE, form_data(impact_start=future, title="Typed with care"))

    assert response.status_code == 200
    form = response.context["form"]
    assert "Impact cannot start in the future." in form.errors["impact_start"]
    page = response.content.decode()
    assert 'value="Typed with care"' in page and "Motor claims land in the travel queue." in page
    assert future in page
    assert not Incident.objects.exists()


def test_the_form_keeps_what_was_typed_when_a_field_is_missing(client, history, support_agent):
    client.force_login(support_agent)

    response = client.post(CREATE, form_data(title="", description="Still here."))

    assert response.status_code == 200 and "title" in response.context["form"].errors
    assert "Still here." in response.content.decode()
    assert not Incident.objects.exists()


def test_the_form_preselects_the_feature_from_the_query(client, history, support_agent):
    client.force_login(support_agent)

    assert client.get(CREATE, {"feature": "claims-triage"}).context["form"].initial["feature"] == "claims-triage"


def test_the_form_offers_only_visible_features(client, restricted_feature, feature, outsider, ml_engineer):
    client.force_login(outsider)
    assert list(client.get(CREATE).context["form"].fields["feature"].queryset) == [feature]

    response = client.post(CREATE, form_data(feature="fraud-signals"))
    assert "feature" in response.context["form"].errors and not Incident.objects.exists()

    client.force_login(ml_engineer)
    assert set(client.get(CREATE).context["form"].fields["feature"].queryset) == {feature, restricted_feature}


def test_auditors_cannot_open_the_form(client, auditor):
    client.force_login(auditor)

    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, form_data()).status_code == 403


@pytest.mark.parametrize(
    "hours, expected",
    [pytest.param(2, "Claims triage v1", id="then-v1"), pytest.param(0.25, "Claims triage v2", id="now-v2")],
)
def test_the_live_at_preview_shows_the_version_for_the_feature_region_and_time(
    client, history, support_agent, hours, expected
):
    client.force_login(support_agent)
    at = (timezone.now() - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")

    response = client.get(
        PREVIEW,
        {"feature": "claims-triage", "environment": "production", "region": "eu", "impact_start": at},
        HTTP_HX_REQUEST="true",
    )

    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert expected in page and "claude-sonnet-4" in page


def test_the_live_at_preview_says_when_nothing_was_live(client, history, support_agent):
    client.force_login(support_agent)

    page = client.get(
        PREVIEW, {"feature": "claims-triage", "region": "eu", "at": hours_ago(5).strftime("%Y-%m-%dT%H:%M")}
    ).content.decode()

    assert "Nothing was live there at that time." in page


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"feature": "claims-triage", "region": "eu"}, id="no-time"),
        pytest.param({"feature": "claims-triage", "region": "eu", "at": "soon"}, id="bad-time"),
        pytest.param({"feature": "claims-triage", "region": "mars", "at": "2026-01-01T10:00"}, id="unknown-region"),
        pytest.param({"feature": "fraud-signals", "region": "eu", "at": "2026-01-01T10:00"}, id="restricted-feature"),
    ],
)
def test_the_live_at_preview_asks_again_for_incomplete_or_hidden_input(
    client, history, restricted_feature, outsider, query
):
    client.force_login(outsider)

    page = client.get(PREVIEW, query).content.decode()

    assert "Choose a feature, region and time" in page and "Fraud" not in page


# --- The detail page ----------------------------------------------------------------------------


def test_the_detail_page_shows_the_live_version_its_approvers_and_the_timeline(
    client, history, open_incident, on_call, pins
):
    _v1, v2 = history
    incident = open_incident(severity="sev1")
    incident_comment(actor=on_call, incident=incident, body="Paging the claims team.")
    incident_transition(actor=on_call, incident=incident, status="investigating", note="Looking at the router.")
    client.force_login(on_call)

    response = client.get(incident.get_absolute_url())

    page = response.content.decode()
    assert f"{incident.reference}: Claims routed to the wrong queue" in page
    assert f'href="{v2.get_absolute_url()}">v2</a>' in page
    assert "claude-sonnet-4" in page and str(v2.prompt) in page and str(v2.policy_pack) in page
    for signoff in response.context["approval"]["signoffs"]:
        assert f"{signoff['signer']} ({signoff['role']})" in page
    assert [event.kind for event in response.context["timeline"]] == ["opened", "comment", "status"]
    assert (
        page.index("SEV1 opened by sue-support.")
        < page.index("Paging the claims team.")
        < page.index("Looking at the router.")
    )
    assert response.context["can_work"] is True


def test_the_detail_page_says_when_the_version_is_no_longer_live(client, history, open_incident, ml_engineer):
    from incidents.services import incident_rollback

    incident = open_incident(severity="sev1")
    incident_rollback(actor=ml_engineer, incident=incident, reason="Back to v1.")
    client.force_login(ml_engineer)

    page = client.get(incident.get_absolute_url()).content.decode()

    assert "no longer live: v1 is" in page
    assert "rolled back v2 → v1" in page


def test_the_detail_page_says_when_nothing_was_live(client, open_incident, support_agent):
    incident = open_incident()
    client.force_login(support_agent)

    assert (
        "Nothing was live in production/eu at impact start." in client.get(incident.get_absolute_url()).content.decode()
    )


def test_working_the_incident_from_its_page(client, history, open_incident, on_call, ml_engineer):
    incident = open_incident(severity="sev2")
    client.force_login(on_call)

    client.post(reverse("incidents:comment", args=[incident.pk]), {"body": "On it."})
    client.post(reverse("incidents:transition", args=[incident.pk]), {"status": "mitigated", "note": "Flag off."})
    client.post(
        reverse("incidents:link", args=[incident.pk]), {"url": "https://grafana.example.test/d/1", "title": "Graph"}
    )
    response = client.post(
        reverse("incidents:assign", args=[incident.pk]), {"owner": ml_engineer.username}, follow=True
    )

    assert response.redirect_chain[-1][0] == incident.get_absolute_url()
    assert [event.kind for event in response.context["timeline"]] == ["opened", "comment", "status", "link", "owner"]
    stored = fresh(incident)
    assert (stored.status, stored.owner) == ("mitigated", ml_engineer)


def test_a_refused_step_comes_back_on_the_page_with_what_was_typed(client, open_incident, on_call):
    incident = open_incident(severity="sev1")
    incident_transition(actor=on_call, incident=incident, status="resolved")
    client.force_login(on_call)

    response = client.post(
        reverse("incidents:transition", args=[incident.pk]),
        {"status": "closed", "root_cause": "The June index picked up an HR folder."},
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert "A SEV1 closes only with a root cause and follow-ups." in page
    assert "The June index picked up an HR folder." in page  # nothing typed is lost
    assert fresh(incident).status == "resolved"


def test_someone_who_cannot_work_the_incident_gets_no_forms_and_a_403(client, open_incident, auditor):
    incident = open_incident()
    client.force_login(auditor)

    response = client.get(incident.get_absolute_url())
    assert response.status_code == 200 and response.context["can_work"] is False
    assert "Update status" not in response.content.decode()

    assert (
        client.post(reverse("incidents:transition", args=[incident.pk]), {"status": "investigating"}).status_code == 403
    )
    assert fresh(incident).status == "open"


# --- The API ------------------------------------------------------------------------------------


def test_the_api_lists_incidents_with_the_same_filters(client, incidents, governance_admin):
    client.force_login(governance_admin)

    everything = client.get(API).json()
    sev1 = client.get(API, {"severity": "sev1", "team": "claims"}).json()

    assert everything["count"] == 4
    assert sorted(row["id"] for row in sev1["results"]) == pks(incidents.misroute, incidents.fraud)
    assert client.get(API, {"q": "hallucinated"}).json()["count"] == 1


def test_the_api_retrieves_an_incident_with_what_was_live(client, incidents, support_agent, on_call):
    client.force_login(support_agent)

    body = client.get(f"{API}{incidents.misroute.pk}/").json()

    assert body["reference"] == incidents.misroute.reference
    assert (body["feature"], body["region"], body["severity"], body["status"]) == (
        "claims-triage",
        "eu",
        "sev1",
        "open",
    )
    assert (body["live_version"], body["owner"], body["reporter"]) == (2, on_call.username, support_agent.username)


def test_the_api_opens_an_incident(client, history, support_agent, bearer, on_call):
    response = client.post(
        API,
        {
            "feature": "claims-triage",
            "region": "eu",
            "severity": "sev2",
            "impact_start": hours_ago(2).isoformat(),
            "title": "Wrong queue",
            "description": "Motor claims in the travel queue.",
        },
        content_type="application/json",
        **bearer(support_agent),
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["live_version"], body["owner"], body["environment"], body["source"]) == (
        1,
        on_call.username,
        "production",
        "manual",
    )
    assert Incident.objects.get().pk == body["id"]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"impact_start": "2999-01-01T00:00:00Z"}, "impact_start"),
        ({"region": "apac"}, "region"),
        ({"severity": "sev9"}, "severity"),
        ({"feature": "nope"}, "feature"),
    ],
)
def test_the_api_refuses_an_impossible_incident_with_400(client, history, support_agent, overrides, field):
    client.force_login(support_agent)
    body = {
        "feature": "claims-triage",
        "region": "eu",
        "severity": "sev2",
        "impact_start": hours_ago(1).isoformat(),
        "title": "Wrong queue",
        "description": "x",
        **overrides,
    }

    response = client.post(API, body, content_type="application/json")

    assert response.status_code == 400 and field in response.json()
    assert not Incident.objects.exists()


def test_auditors_cannot_open_incidents_through_the_api(client, history, auditor):
    client.force_login(auditor)

    response = client.post(
        API,
        {
            "feature": "claims-triage",
            "region": "eu",
            "severity": "sev2",
            "impact_start": hours_ago(1).isoformat(),
            "title": "t",
            "description": "d",
        },
        content_type="application/json",
    )

    assert response.status_code == 403 and not Incident.objects.exists()


def test_the_api_moves_an_incident_along_and_refuses_what_is_not_allowed(client, incidents, on_call):
    client.force_login(on_call)
    url = f"{API}{incidents.misroute.pk}/transition/"

    refused = client.post(url, {"status": "closed"}, content_type="application/json")
    moved = client.post(url, {"status": "mitigated", "note": "Flag off."}, content_type="application/json")

    assert refused.status_code == 409 and incidents.misroute.reference in refused.json()["detail"]
    assert moved.status_code == 200 and moved.json()["status"] == "mitigated" and moved.json()["mitigated_at"]
    resolved = client.post(url, {"status": "resolved"}, content_type="application/json")
    assert resolved.status_code == 200
    unexplained = client.post(url, {"status": "closed"}, content_type="application/json")
    assert unexplained.status_code == 400 and "root_cause" in unexplained.json()
    closed = client.post(
        url, {"status": "closed", "root_cause": "Prompt.", "follow_ups": "Test."}, content_type="application/json"
    )
    assert closed.status_code == 200 and closed.json()["closed_at"]


def test_the_api_refuses_a_transition_by_someone_who_cannot_work_it(client, incidents, outsider):
    client.force_login(outsider)

    response = client.post(
        f"{API}{incidents.misroute.pk}/transition/", {"status": "investigating"}, content_type="application/json"
    )

    assert response.status_code == 403 and fresh(incidents.misroute).status == "open"


def test_the_api_comments_and_returns_the_timeline_in_order(client, incidents, on_call):
    client.force_login(on_call)
    base = f"{API}{incidents.misroute.pk}/"

    created = client.post(f"{base}comment/", {"body": "Paging the team."}, content_type="application/json")
    client.post(f"{base}transition/", {"status": "investigating"}, content_type="application/json")
    timeline = client.get(f"{base}timeline/").json()

    assert (
        created.status_code == 201
        and created.json()["kind"] == "comment"
        and created.json()["actor"] == on_call.username
    )
    assert [(entry["kind"], entry["actor"]) for entry in timeline] == [
        ("opened", "sue-support"),
        ("comment", "oona-oncall"),
        ("status", "oona-oncall"),
    ]
    assert timeline[2]["payload"] == {"status": ["open", "investigating"]}
    assert client.post(f"{base}comment/", {"body": ""}, content_type="application/json").status_code == 400


def test_restricted_incidents_are_invisible_to_an_outsider(client, incidents, outsider):
    client.force_login(outsider)
    base = f"{API}{incidents.fraud.pk}/"

    assert client.get(API, {"feature": "fraud-signals"}).json()["count"] == 0
    assert incidents.fraud.pk not in [row["id"] for row in client.get(API).json()["results"]]
    assert client.get(base).status_code == 404
    assert client.get(f"{base}timeline/").status_code == 404
    assert client.post(f"{base}comment/", {"body": "Hi"}, content_type="application/json").status_code == 404
    assert (
        client.post(f"{base}transition/", {"status": "investigating"}, content_type="application/json").status_code
        == 404
    )
    assert client.post(f"{base}rollback/", {"reason": "x"}, content_type="application/json").status_code == 404
    assert client.get(incidents.fraud.get_absolute_url()).status_code == 404
    assert client.get(LIST, {"feature": "fraud-signals"}).context["object_list"].count() == 0
    assert fresh(incidents.fraud).events.exclude(kind=EventKind.OPENED).count() == 0


def test_opening_on_a_restricted_feature_through_the_api_looks_like_an_unknown_feature(
    client, restricted_feature, outsider
):
    client.force_login(outsider)
    body = {
        "region": "eu",
        "severity": "sev2",
        "impact_start": hours_ago(1).isoformat(),
        "title": "t",
        "description": "d",
    }

    hidden = client.post(API, {**body, "feature": "fraud-signals"}, content_type="application/json")
    unknown = client.post(API, {**body, "feature": "fraud-signalz"}, content_type="application/json")

    assert hidden.status_code == unknown.status_code == 400
    assert hidden.json()["feature"] == [
        message.replace("fraud-signalz", "fraud-signals") for message in unknown.json()["feature"]
    ]
    assert not Incident.objects.exists()
