"""Restricted features in the browser: an ML engineer of another team finds no trace of one anywhere they
look, and governance brings an outside security reviewer in with a reviewer grant; the reviewer signs from
their queue, and once the grant expires the feature is gone for them again."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from approvals.defaults import install_default_policies
from approvals.models import GateAssignment, GatePolicy, GateRequirement
from approvals.services import approval_request_create
from registry.models import ReviewerGrant
from registry.services import evaluation_record, version_create, version_submit
from tests.factories import CatalogModelFactory, FeatureFactory, PolicyPackFactory, PromptVersionFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = [
    "/",
    "/features/",
    "/approvals/queue/",
    "/approvals/requests/",
    "/incidents/",
    "/freshness/",
    "/readiness/",
    "/notifications/",
    "/live-at/",
    "/features/?q=fraud",
    "/approvals/requests/?status=pending",
]


@pytest.fixture
def restricted(team, eu, ml_engineer, product_owner):
    install_default_policies(GatePolicy, GateRequirement, GateAssignment)
    feature = FeatureFactory(
        slug="fraud-scoring",
        name="Fraud scoring",
        team=team,
        restricted=True,
        risk_tier="high",
        regions=[eu],
        accountable_owner=product_owner,
        incident_owner=product_owner,
        rollback_path="Flag back.",
        monitors="https://grafana.example.test/d/fraud",
    )
    version = version_submit(
        actor=ml_engineer,
        version=version_create(
            actor=ml_engineer,
            feature=feature,
            change_summary="First release.",
            prompt=PromptVersionFactory(),
            model=CatalogModelFactory(regions=[eu]),
            policy_pack=PolicyPackFactory(allowed_regions=[eu]),
        ),
    )
    for kind in ("benchmark", "safety", "privacy_review"):
        evaluation_record(
            actor=ml_engineer,
            version=version,
            kind=kind,
            suite=kind,
            metric="score",
            score=0.95,
            threshold=0.9,
            run_at=timezone.now() - timedelta(days=1),
        )
    request = approval_request_create(actor=ml_engineer, version=version, environment="production", regions=[eu])
    return {"feature": feature, "request": request}


def test_an_ml_engineer_of_another_team_finds_no_trace_of_a_restricted_feature(
    as_user, live_server, restricted, other_team
):
    outsider_ml = UserFactory(username="oli-ml", roles=["ml"], teams=[other_team])
    page = as_user(outsider_ml)

    for path in PAGES:
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("body")).not_to_contain_text("Fraud scoring")
        expect(page.locator("body")).not_to_contain_text("fraud-scoring")
    # The request needs an ML sign-off and they are an ML engineer: still nothing waits for them.
    expect(page.locator("#main-nav a[href$='/approvals/queue/'] .count-badge")).to_have_count(0)
    for path in (f"/approvals/requests/{restricted['request'].pk}/", "/features/fraud-scoring/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 404


def test_governance_grants_a_reviewer_who_signs_and_the_grant_expires(
    as_user, live_server, restricted, governance_admin, security_reviewer
):
    feature, request = restricted["feature"], restricted["request"]

    # The request says nobody eligible can sign for security; governance follows its link.
    admin = as_user(governance_admin)
    admin.goto(f"{live_server.url}{request.get_absolute_url()}")
    expect(admin.locator("#unstaffed")).to_contain_text("Security reviewer")
    admin.locator("#unstaffed").get_by_role("link", name="Grant a reviewer").click()
    admin.get_by_label("Person", exact=True).select_option(value=str(security_reviewer.pk))
    admin.get_by_label("For how many days").fill("7")
    admin.get_by_label("Why this person needs to see it").fill("Org-wide security review of the release.")
    admin.get_by_role("button", name="Grant access").click()
    expect(admin.locator(".messages")).to_contain_text("may see Fraud scoring until")
    grants = admin.locator("#reviewers + p + .table-wrap, #reviewers ~ .table-wrap").first
    expect(grants).to_contain_text("Org-wide security review of the release.")

    # The reviewer now finds the request in their queue and signs it.
    reviewer = as_user(security_reviewer)
    reviewer.goto(f"{live_server.url}/approvals/queue/")
    row = reviewer.locator("tbody tr", has_text="Security")
    expect(row).to_contain_text("Fraud scoring")
    row.get_by_role("link", name="Review").click()
    panel = reviewer.locator(".signoff", has_text="Security").first
    panel.locator("textarea").fill("Threat model reviewed.")
    panel.get_by_role("button", name="Approve").click()
    expect(reviewer.locator(".signoff", has_text="Security").first).to_contain_text("approved")

    # The grant runs out: the reviewer no longer sees the feature or its request.
    ReviewerGrant.objects.filter(feature=feature).update(expires_at=timezone.now() - timedelta(minutes=1))
    for path in (request.get_absolute_url(), feature.get_absolute_url()):
        assert reviewer.goto(f"{live_server.url}{path}").status == 404
    reviewer.goto(f"{live_server.url}/approvals/requests/")
    expect(reviewer.locator("body")).not_to_contain_text("Fraud scoring")
    admin.goto(f"{live_server.url}{feature.get_absolute_url()}")  # a new load, not a jump within the page
    expect(admin.locator("body")).to_contain_text("expired")
