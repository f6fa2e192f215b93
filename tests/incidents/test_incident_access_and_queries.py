"""Who may open which incident URL (every route of the ``incidents`` namespace needs a signing-in,
governance opens every page, a restricted feature's incidents answer 404 to outsiders as if they did not
exist), and the incident lists and pages cost the same number of queries for 2 rows as for 8."""

import itertools
from datetime import timedelta

import pytest
from django.urls import get_resolver, reverse
from django.utils import timezone

from incidents.choices import EventKind
from incidents.models import EvidenceSnapshot
from incidents.services import incident_add_link, incident_comment, incident_mark_serious, incident_open
from registry.models import DeploymentEvent
from registry.services import version_create, version_submit
from tests.factories import (
    CatalogModelFactory,
    FeatureFactory,
    PolicyPackFactory,
    PromptVersionFactory,
    TeamFactory,
    UserFactory,
    VendorFactory,
)
from tests.incidents.conftest import fresh, hours_ago
from tests.query_counts import assert_constant

ROUTES = get_resolver().namespace_dict["incidents"][1].url_patterns
ALL_NAMES = [route.name for route in ROUTES]
PAGE_NAMES = [route.name for route in ROUTES if hasattr(route.callback.view_class, "get")]
ACTION_NAMES = [name for name in ALL_NAMES if name not in PAGE_NAMES]
INCIDENT_ROUTE_NAMES = [route.name for route in ROUTES if "pk" in route.pattern.converters]
ACTION_BODY = {
    "body": "x",
    "status": "investigating",
    "owner": "olly-outsider",
    "url": "https://example.test/",
    "reason": "x",
}


def url(name, incident):
    route = next(route for route in ROUTES if route.name == name)
    unknown = set(route.pattern.converters) - {"pk", "snapshot"}
    assert not unknown, f"incidents:{name} takes {unknown}, which this test does not know how to fill"
    kwargs = {"pk": incident.pk} if route.pattern.converters else {}
    if "snapshot" in route.pattern.converters:
        kwargs["snapshot"] = snapshot_of(incident).pk
    return reverse(f"incidents:{name}", kwargs=kwargs)


def snapshot_of(incident) -> EvidenceSnapshot:
    """The incident's evidence snapshot (one stored as it is, to have an address to open)."""
    return incident.snapshots.first() or EvidenceSnapshot.objects.create(
        incident=incident,
        taken_at=timezone.now(),
        taken_by=incident.reporter,
        trigger="manual",
        content={"incident": {"title": incident.title}},
        content_sha256="0" * 64,
    )


def serious(incident):
    """Marked serious, so every page of its report opens (an incident that is not has no draft)."""
    return incident_mark_serious(
        actor=incident.reporter, incident=incident, criteria=["rights"], aware_at=timezone.now()
    )


def kinds(incident):
    return [event.kind for event in fresh(incident).events.all()]


@pytest.fixture
def incident(history, open_incident):
    return serious(open_incident(severity="sev1"))


@pytest.fixture
def restricted_incident(open_incident, restricted_feature, ml_engineer):
    return serious(
        open_incident(actor=ml_engineer, feature=restricted_feature, severity="sev3", title="Fraud scores all zero")
    )


def test_the_incidents_namespace_has_pages_and_actions_to_check():
    assert set(PAGE_NAMES) == {
        "incident_list",
        "incident_create",
        "live_at_preview",
        "incident_detail",
        "owner_suggestions",
        "report",
        "report_json",
        "snapshot_detail",
        "snapshot_json",
    }
    assert set(ACTION_NAMES) == {
        "comment",
        "transition",
        "assign",
        "link",
        "rollback",
        "serious",
        "report_notes",
        "report_submit",
        "snapshot_take",
    }


@pytest.mark.parametrize("name", ALL_NAMES)
def test_anonymous_visitors_are_sent_to_sign_in_and_back(client, incident, name):
    target = url(name, incident)
    before = kinds(incident)

    for response in (client.get(target), client.post(target, ACTION_BODY)):
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={target}"
    assert kinds(incident) == before


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_page_opens_for_a_governance_admin(client, incident, restricted_incident, governance_admin, name):
    client.force_login(governance_admin)

    for target in {url(name, incident), url(name, restricted_incident)}:
        response = client.get(target)
        assert response.status_code == 200, f"incidents:{name} answered {response.status_code}"


@pytest.mark.parametrize("name", ACTION_NAMES)
def test_actions_refuse_get(client, incident, governance_admin, name):
    client.force_login(governance_admin)

    assert client.get(url(name, incident)).status_code == 405


@pytest.mark.parametrize("name", INCIDENT_ROUTE_NAMES)
def test_a_restricted_features_incident_does_not_exist_for_an_outsider(client, restricted_incident, outsider, name):
    client.force_login(outsider)
    target = url(name, restricted_incident)
    before = kinds(restricted_incident)

    responses = [client.post(target, ACTION_BODY)] if name in ACTION_NAMES else [client.get(target)]

    for response in responses:
        assert response.status_code == 404, f"incidents:{name} answered {response.status_code}"
        assert b"Fraud scores" not in response.content
    stored = fresh(restricted_incident)
    assert (stored.status, stored.owner.username) == ("open", "pat-product")
    assert kinds(restricted_incident) == before


def test_an_outsider_sees_an_ordinary_features_incident(client, incident, outsider):
    client.force_login(outsider)

    assert client.get(incident.get_absolute_url()).status_code == 200


# --- Query counts -------------------------------------------------------------------------------

_serial = itertools.count(1)


class Growth:
    """Incidents each on its own feature, team, owners, reporter and live version (with its own model,
    vendor, prompt and policy pack), so a missing select_related shows as a growing count."""

    def __init__(self, *, eu):
        self.eu = eu

    def add_incidents(self, count):
        for _ in range(count):
            n = next(_serial)
            team = TeamFactory(slug=f"incident-team-{n}")
            feature = FeatureFactory(
                slug=f"incident-feature-{n}",
                team=team,
                regions=[self.eu],
                accountable_owner=UserFactory(username=f"accountable-{n}"),
                incident_owner=UserFactory(username=f"oncall-{n}"),
            )
            author = UserFactory(username=f"author-{n}", roles=["ml"], teams=[team])
            version = version_submit(
                actor=author,
                version=version_create(
                    actor=author,
                    feature=feature,
                    change_summary=f"Change {n}.",
                    model=CatalogModelFactory(vendor=VendorFactory(slug=f"incident-vendor-{n}"), regions=[self.eu]),
                    prompt=PromptVersionFactory(name=f"incident-prompt-{n}"),
                    policy_pack=PolicyPackFactory(name=f"incident-policy-{n}", allowed_regions=[self.eu]),
                ),
            )
            DeploymentEvent.objects.create(
                feature=feature,
                environment="production",
                region=self.eu,
                kind="promoted",
                to_version=version,
                actor=UserFactory(username=f"releaser-{n}"),
                reason=f"Release {n}.",
                at=hours_ago(2),
            )
            incident_open(
                actor=UserFactory(username=f"reporter-{n}", roles=["support"]),
                feature=feature,
                environment="production",
                region=self.eu,
                severity=["sev1", "sev2", "sev3"][n % 3],
                impact_start=hours_ago(1, minutes=n),
                title=f"Incident {n}",
                description="Something went wrong.",
            )


@pytest.fixture
def growth(eu):
    return Growth(eu=eu)


@pytest.mark.parametrize(
    "target, persona, max_queries",
    [
        pytest.param(reverse("incidents:incident_list"), "support_agent", 9, id="list-page"),
        pytest.param(
            reverse("incidents:incident_list") + "?severity=sev1&q=Incident", "support_agent", 9, id="list-filtered"
        ),
        pytest.param("/api/v1/incidents/", "support_agent", 5, id="api-list"),
        pytest.param("/api/v1/incidents/", "governance_admin", 5, id="api-list-governance"),
    ],
)
def test_incident_lists_cost_the_same_queries_for_2_or_8_incidents(
    client, request, growth, django_assert_max_num_queries, target, persona, max_queries
):
    client.force_login(request.getfixturevalue(persona))

    def grow(count):
        growth.add_incidents(count * 3 if "sev1" in target else count)

    assert_constant(client, target, grow, django_assert_max_num_queries, max_queries)


def test_the_list_page_partial_costs_the_same_for_2_or_8_incidents(
    client, growth, support_agent, django_assert_max_num_queries
):
    client.force_login(support_agent)
    target = reverse("incidents:incident_list")
    client.defaults["HTTP_HX_REQUEST"] = "true"

    assert_constant(client, target, growth.add_incidents, django_assert_max_num_queries, 8)


@pytest.fixture
def busy_incident(incident, ml_engineer):
    """Grow the incident's timeline: each step a comment and a link by someone new, and a reassignment."""
    from incidents.services import incident_assign

    def grow(count):
        for _ in range(count):
            n = next(_serial)
            helper = UserFactory(username=f"helper-{n}", roles=["support"])
            incident_comment(actor=helper, incident=incident, body=f"Comment {n}.")
            incident_add_link(
                actor=helper, incident=incident, url=f"https://grafana.example.test/d/{n}", title=f"Graph {n}"
            )
            incident_assign(actor=helper, incident=incident, owner=helper)

    return incident, grow


@pytest.mark.parametrize("persona, max_queries", [("ml_engineer", 24), ("support_agent", 21)])
def test_the_detail_page_costs_the_same_as_the_timeline_grows(
    client, request, busy_incident, django_assert_max_num_queries, persona, max_queries
):
    """The team member's page also carries the rollback form; support's does not."""
    incident, grow = busy_incident
    client.force_login(request.getfixturevalue(persona))

    assert_constant(
        client,
        incident.get_absolute_url(),
        grow,
        django_assert_max_num_queries,
        max_queries,
        rows=lambda response: len(response.context["timeline"]),
    )


def test_the_detail_page_costs_the_same_with_rollbacks_on_the_timeline(
    client, releases, open_incident, ml_engineer, django_assert_max_num_queries
):
    """Rollback entries link their deployment events: alternate back and forth between v1 and v2."""
    from incidents.services import incident_rollback

    releases(11)  # each rollback steps one release further back: it never returns to one rolled back from
    incident = open_incident(severity="sev1")

    def grow(count):
        for _ in range(count):
            incident_rollback(actor=ml_engineer, incident=incident, reason=f"Step back {next(_serial)}.")

    client.force_login(ml_engineer)
    assert_constant(
        client,
        incident.get_absolute_url(),
        grow,
        django_assert_max_num_queries,
        23,
        rows=lambda response: len(
            [event for event in response.context["timeline"] if event.kind == EventKind.ROLLBACK]
        ),
    )


def test_the_api_timeline_costs_the_same_as_it_grows(
    client, busy_incident, support_agent, django_assert_max_num_queries
):
    incident, grow = busy_incident
    client.force_login(support_agent)

    assert_constant(client, f"/api/v1/incidents/{incident.pk}/timeline/", grow, django_assert_max_num_queries, 5)


def test_the_live_at_preview_costs_a_few_queries(client, history, support_agent, django_assert_max_num_queries):
    client.force_login(support_agent)
    query = {
        "feature": "claims-triage",
        "region": "eu",
        "at": (timezone.now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
    }
    client.get(reverse("incidents:live_at_preview"), query)

    with django_assert_max_num_queries(10):
        assert "Claims triage v1" in client.get(reverse("incidents:live_at_preview"), query).content.decode()
