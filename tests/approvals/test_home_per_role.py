"""The dashboard per role: governance sees the organisation's posture, a reviewer their queue with due
dates, support open incidents and the decision look-up, an owner their features' readiness; nobody sees
a trace of a feature they may not see, in lists or in counts."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.models import SignOff
from incidents.services import incident_open
from registry.choices import RiskTier
from tests.factories import FeatureFactory, VersionFactory
from tests.query_counts import count_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(feature, new_version, record_evidence, request_gate):
    version = new_version()
    record_evidence(version)
    request = request_gate(version)
    # Four days old against the production gate's 48-hour review SLA.
    SignOff.objects.filter(request=request, role="security").update(created_at=timezone.now() - timedelta(days=4))
    return request


@pytest.fixture
def sev1(feature, support_agent, eu):
    return incident_open(
        actor=support_agent,
        feature=feature,
        environment="production",
        region=eu,
        severity="sev1",
        impact_start=timezone.now() - timedelta(hours=2),
        title="Letters sent to the wrong customers",
        description="Two customers received each other's letters.",
        customer_impact="Personal data disclosed.",
    )


@pytest.fixture
def hidden(other_team):
    """Another team's restricted feature: nothing about it reaches a product owner of ``team``."""
    feature = FeatureFactory(
        slug="secret-scoring", name="Secret scoring", team=other_team, restricted=True, risk_tier=RiskTier.REGULATED
    )
    VersionFactory(feature=feature)
    return feature


def home(client, user):
    client.force_login(user)
    response = client.get(reverse("registry:home"))
    assert response.status_code == 200
    return response, response.content.decode()


def figure(response, label):
    return next(item["value"] for item in response.context["posture"] if item["label"] == label)


def test_governance_sees_the_posture_with_counts_that_lead_to_the_lists(client, governance_admin, pending, sev1):
    response, html = home(client, governance_admin)

    assert figure(response, "open incidents") == 1 and figure(response, "of them SEV1 or SEV2") == 1
    assert figure(response, "sign-offs pending") == SignOff.objects.filter(request=pending, status="pending").count()
    assert figure(response, "past their review SLA") == 1
    assert 'id="home-signoffs"' in html and "past the review SLA" in html
    assert 'id="home-incidents"' in html and f'href="{reverse("incidents:incident_list")}?severity=sev1"' in html
    assert 'id="home-evidence"' in html and 'id="home-tiers"' in html and 'id="control-changes"' in html
    assert "You are not in a team that owns features" not in html
    assert 'id="home-queue"' not in html  # governance signs nothing here


def test_a_reviewer_sees_their_queue_nearest_due_first_with_the_overdue_flagged(client, security_reviewer, pending):
    response, html = home(client, security_reviewer)

    assert 'id="home-queue"' in html and "overdue" in html
    assert f"{pending.get_absolute_url()}#signoff-" in html
    assert not response.context["posture"] and 'id="home-signoffs"' not in html


def test_a_legal_reviewer_with_nothing_waiting_is_told_so(client, legal_reviewer):
    _response, html = home(client, legal_reviewer)
    assert "No sign-offs waiting for you." in html


def test_support_sees_open_incidents_and_can_look_up_a_decision(client, support_agent, sev1):
    _response, html = home(client, support_agent)

    assert 'id="home-incidents"' in html and sev1.title in html
    assert f'action="{reverse("routing:decision_lookup")}"' in html and 'name="token"' in html


def test_an_owner_sees_what_blocks_each_of_their_features(client, product_owner, feature):
    response, html = home(client, product_owner)

    assert 'id="home-readiness"' in html and feature.name in html
    panel = next(panel for panel in response.context["home_panels"] if panel["template"].endswith("home_owner.html"))
    [row] = [row for row in panel["context"]["rows"] if row["feature"] == feature]
    assert row["missing"] and "Approved production version" in row["missing"]


def test_an_owner_learns_nothing_of_another_teams_restricted_feature(client, product_owner, hidden, feature):
    response, html = home(client, product_owner)

    assert "Secret scoring" not in html and "secret-scoring" not in html
    assert response.context["feature_total"] == 1
    assert dict((tier.value, count) for tier, count in response.context["tiers"])["regulated"] == 0


def test_the_governance_home_costs_the_same_queries_whatever_the_number_of_features(
    client, governance_admin, team, feature
):
    client.force_login(governance_admin)
    client.get(reverse("registry:home"))
    small, _response = count_queries(client, reverse("registry:home"))
    for number in range(6):
        FeatureFactory(slug=f"more-{number}", team=team)
    client.get(reverse("registry:home"))  # the readiness cache learns the new features once
    large, _response = count_queries(client, reverse("registry:home"))
    assert large == small
