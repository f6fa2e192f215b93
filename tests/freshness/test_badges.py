"""Open findings show where people already look: a badge (worst state, how many more) on the feature list,
the feature page and its versions, the version page and the sign-off queue, and a panel on the feature page
saying whether promotions are blocked. Once the findings close, or the version stops being live, the badges
go. A feature someone cannot see shows them nothing."""

import pytest
from django.urls import reverse

from approvals.services import approval_request_create
from freshness.services import freshness_sweep
from tests.freshness.world import (  # noqa: F401  (default_gates: autouse; live, findings: fixtures)
    default_gates,
    evidence,
    findings,
    live,
    make_live,
    submitted_version,
)

FEATURES = reverse("registry:feature_list")
QUEUE = reverse("approvals:queue")


def labels(badges):
    return [badge["label"] for badge in badges]


def feature_list_badges(client):
    return {feature.slug: labels(feature.badges) for feature in client.get(FEATURES).context["object_list"]}


def fix_everything(findings):
    for kind in ("benchmark", "safety", "privacy_review"):
        evidence(findings.claims, kind, age_days=0.01)
    freshness_sweep()


def test_the_feature_list_shows_the_worst_state_and_how_many_more(client, findings, governance_admin):
    client.force_login(governance_admin)

    response = client.get(FEATURES)

    badges = {feature.slug: feature.badges for feature in response.context["object_list"]}
    assert labels(badges["claims-triage"]) == ["Evidence missing (+2)"]
    assert badges["claims-triage"][0]["title"] == "3 open evidence findings; new production promotions are blocked"
    assert badges["claims-triage"][0]["url"] == f"/freshness/?feature={findings.claims_feature.pk}"
    assert labels(badges["payment-helper"]) == ["Evidence failing (+1)"]
    assert labels(badges["fraud-signals"]) == ["Evidence missing"]
    assert badges["mail-sorter"] == []  # its only finding is closed
    page = response.content.decode()
    assert "Evidence missing (+2)" in page and "Evidence failing (+1)" in page


def test_a_due_soon_only_feature_gets_a_warning_not_a_block(client, live, product_owner):
    version = live.version(kinds=("safety", "privacy_review"), slug="mail-sorter")
    evidence(version, "benchmark", age_days=80)
    freshness_sweep()
    client.force_login(product_owner)

    [badge] = next(f.badges for f in client.get(FEATURES).context["object_list"] if f.slug == "mail-sorter")

    assert (badge["label"], badge["tone"]) == ("Evidence due soon", "warn")
    assert "blocked" not in badge["title"]


def test_the_feature_page_shows_the_badge_the_versions_badge_and_the_panel(client, findings, product_owner):
    client.force_login(product_owner)

    response = client.get(findings.claims_feature.get_absolute_url())

    assert labels(response.context["feature_badges"]) == ["Evidence missing (+2)"]
    by_number = {version.number: labels(version.badges) for version in response.context["versions"]}
    assert by_number == {findings.claims.number: ["Evidence missing (+2)"]}
    page = response.content.decode()
    assert "New promotions are blocked" in page
    assert "Evidence freshness" in page


def test_the_version_page_shows_the_versions_badge(client, findings, product_owner):
    client.force_login(product_owner)

    response = client.get(findings.claims.get_absolute_url())

    assert labels(response.context["version_badges"]) == ["Evidence missing (+2)"]
    assert response.context["version_badges"][0]["url"] == f"/freshness/?version={findings.claims.pk}"
    assert "Evidence missing (+2)" in response.content.decode()


@pytest.fixture
def pending_requests(findings, ml_engineer, eu):
    """A pending production request for a new version of claims triage and of the restricted fraud signals."""
    requests = {}
    for feature in (findings.claims_feature, findings.fraud_feature):
        version = submitted_version(feature, 2)
        requests[feature.slug] = approval_request_create(
            actor=ml_engineer, version=version, environment="production", regions=[eu]
        )
    return requests


def queue_badges(client):
    return {
        row["signoff"].request.version.feature.slug: labels(row["badges"]) for row in client.get(QUEUE).context["rows"]
    }


def test_the_queue_shows_the_badge_of_the_feature_under_review(client, pending_requests, security_reviewer):
    client.force_login(security_reviewer)

    response = client.get(QUEUE)

    assert queue_badges(client)["claims-triage"] == ["Evidence missing (+2)"]
    assert "Evidence missing (+2)" in response.content.decode()


def test_the_queue_shows_no_badge_of_a_restricted_feature_the_reviewer_cannot_see(
    client, pending_requests, security_reviewer
):
    client.force_login(security_reviewer)

    badges = queue_badges(client)

    assert badges["claims-triage"] == ["Evidence missing (+2)"]
    assert badges.get("fraud-signals", []) == []  # the sign-off is listed; its feature's findings are not


def test_outsiders_see_no_badge_of_a_restricted_feature(client, findings, outsider):
    client.force_login(outsider)

    badges = feature_list_badges(client)

    assert "fraud-signals" not in badges
    assert badges["claims-triage"] == ["Evidence missing (+2)"]
    assert client.get(findings.fraud_feature.get_absolute_url()).status_code == 404


def test_the_badges_go_when_the_findings_close(client, findings, pending_requests, product_owner, security_reviewer):
    client.force_login(product_owner)

    fix_everything(findings)

    assert feature_list_badges(client)["claims-triage"] == []
    response = client.get(findings.claims_feature.get_absolute_url())
    assert response.context["feature_badges"] == []
    assert all(version.badges == [] for version in response.context["versions"])
    assert "New promotions are blocked" not in response.content.decode()
    assert "Evidence is fresh" in response.content.decode()
    assert client.get(findings.claims.get_absolute_url()).context["version_badges"] == []
    client.force_login(security_reviewer)
    assert queue_badges(client)["claims-triage"] == []


def test_the_badges_go_as_soon_as_the_version_stops_being_live(client, findings, governance_admin, eu, us):
    replacement = submitted_version(findings.claims_feature, 3)
    for region in (eu, us):
        make_live(replacement, region=region)  # before any sweep has closed the old version's findings
    for kind in ("benchmark", "safety", "privacy_review"):
        evidence(replacement, kind)
    client.force_login(governance_admin)

    assert feature_list_badges(client)["claims-triage"] == []
    assert client.get(findings.claims.get_absolute_url()).context["version_badges"] == []
