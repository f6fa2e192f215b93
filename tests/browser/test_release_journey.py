"""A high-risk release end to end in the browser: request, queues, separation of duties, promotion,
rollback, and the audit trail showing every step in order."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from approvals.defaults import install_default_policies
from approvals.models import GateAssignment, GatePolicy, GateRequirement
from approvals.services import approval_request_create, promotion_execute, signoff_decide
from registry.models import AuditEvent, Deployment
from registry.services import evaluation_record, version_create, version_submit
from tests.factories import (
    CatalogModelFactory,
    FeatureFactory,
    PolicyPackFactory,
    PromptVersionFactory,
    RegionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

EVIDENCE = [
    ("benchmark", "triage-gold", "accuracy"),
    ("safety", "harm-v2", "refusal"),
    ("privacy_review", "dpia", "passed"),
]


def _record_evidence(actor, version):
    for kind, suite, metric in EVIDENCE:
        evaluation_record(
            actor=actor,
            version=version,
            kind=kind,
            suite=suite,
            metric=metric,
            score=0.95,
            threshold=0.9,
            run_at=timezone.now() - timedelta(days=2),
        )


@pytest.fixture
def release(team, product_owner, ml_engineer, security_reviewer, legal_reviewer):
    """Claims triage, high risk: v1 already live in production (eu), v2 submitted with fresh evidence."""
    install_default_policies(GatePolicy, GateRequirement, GateAssignment)
    eu = RegionFactory(code="eu", name="European Union")
    feature = FeatureFactory(
        slug="claims-triage",
        name="Claims triage",
        team=team,
        risk_tier="high",
        regions=[eu],
        rollback_path="Roll back in Gatehouse.",
        monitors="https://grafana.example.test/d/claims",
        accountable_owner=product_owner,
    )
    pins = {
        "model": CatalogModelFactory(identifier="claude-sonnet-4", regions=[eu]),
        "policy_pack": PolicyPackFactory(allowed_regions=[eu]),
    }
    second_ml = UserFactory(username="ml-two", first_name="Wei", last_name="Chen", roles=["ml"])
    v1 = version_submit(
        actor=ml_engineer,
        version=version_create(
            actor=ml_engineer,
            feature=feature,
            prompt=PromptVersionFactory(name="triage", version=1),
            change_summary="First release.",
            **pins,
        ),
    )
    _record_evidence(ml_engineer, v1)
    first = approval_request_create(actor=ml_engineer, version=v1, environment="production", regions=[eu])
    for signoff, signer in zip(
        first.signoffs.order_by("role"), [legal_reviewer, second_ml, product_owner, security_reviewer]
    ):
        signoff_decide(actor=signer, signoff=signoff, decision="approve", reason="ok")
    promotion_execute(actor=product_owner, request=first)
    v2 = version_submit(
        actor=ml_engineer,
        version=version_create(
            actor=ml_engineer,
            feature=feature,
            prompt=PromptVersionFactory(name="triage", version=2),
            change_summary="Sharper urgency prompt.",
            **pins,
        ),
    )
    _record_evidence(ml_engineer, v2)
    return {"feature": feature, "v1": v1, "v2": v2, "eu": eu, "second_ml": second_ml}


def _sign_from_queue(page, live_server, role_label, reason):
    page.goto(f"{live_server.url}/approvals/queue/")
    row = page.locator("tbody tr", has_text=role_label)
    expect(row).to_have_count(1)
    row.get_by_role("link", name="Review").click()
    panel = page.locator(".signoff", has_text=role_label)
    panel.locator("textarea").fill(reason)
    panel.get_by_role("button", name="Approve").click()
    expect(page.locator(".signoff", has_text=role_label)).to_contain_text("approved")


def test_a_high_risk_release_goes_through_review_promotion_and_rollback(
    as_user, live_server, release, ml_engineer, security_reviewer, legal_reviewer, product_owner, governance_admin
):
    feature, v2 = release["feature"], release["v2"]

    # The ML engineer requests the production gate for v2.
    ml = as_user(ml_engineer)
    ml.goto(f"{live_server.url}{v2.get_absolute_url()}")
    ml.get_by_role("link", name="Request a gate").click()
    ml.check("input[name=environment][value=production]")
    ml.fill("#id_note", "Sharper urgency prompt; same model.")
    ml.get_by_role("button", name="Request the gate").click()
    expect(ml.locator("h1")).to_contain_text("Claims triage v2 → production")
    expect(ml.locator("#signoffs")).to_contain_text("Security reviewer")

    # The author is offered no way to sign their own version: the ML sign-off says why, and who may.
    ml_panel = ml.locator(".signoff", has_text="ML engineer")
    expect(ml_panel.get_by_role("button", name="Approve")).to_have_count(0)
    expect(ml_panel).to_contain_text("You wrote this version")
    expect(ml_panel).to_contain_text("Who may sign:")
    expect(ml_panel).to_contain_text("waiting")

    # Security and legal sign off from their queues; the queue badge counted the work.
    security = as_user(security_reviewer)
    expect(security.locator("#main-nav a[href$='/approvals/queue/'] .count-badge")).to_have_text("1")
    _sign_from_queue(security, live_server, "Security reviewer", "Prompt injection tests pass.")
    legal = as_user(legal_reviewer)
    _sign_from_queue(legal, live_server, "Legal reviewer", "DPIA covers the new prompt.")
    _sign_from_queue(as_user(release["second_ml"]), live_server, "ML engineer", "Benchmarks hold.")

    # The product owner signs the last role; the request is approved and they promote.
    product = as_user(product_owner)
    _sign_from_queue(product, live_server, "Product owner", "Go.")
    expect(product.locator("#signoffs")).to_contain_text("Approved")
    product.get_by_role("link", name="Promote to production").click()
    product.get_by_role("button", name="Promote v2").click()
    live = product.locator("#live + .table-wrap")
    expect(live).to_contain_text("v2")
    expect(product.locator(".messages")).to_contain_text("live in production (eu)")
    assert Deployment.objects.get(feature=feature, environment="production").version == v2

    # A rollback returns the previous version, preselected.
    live.get_by_role("link", name="Roll back…").click()
    expect(product.locator("#id_to_version label:has(input:checked)")).to_contain_text("v1")
    product.fill("#id_reason", "Urgency scores drifted after release.")
    product.get_by_role("button", name="Roll back now").click()
    expect(product.locator(".messages")).to_contain_text("from v2 to v1")
    expect(product.locator("#live + .table-wrap")).to_contain_text("v1")
    assert Deployment.objects.get(feature=feature, environment="production").version == release["v1"]

    # The audit page shows every step of this release, in order.
    governance = as_user(governance_admin)
    governance.goto(f"{live_server.url}/audit/?feature={feature.slug}")
    # Each action reads in words; its code is on hover (the title).
    actions = governance.locator("#results tbody tr .audit-action").evaluate_all("spans => spans.map(s => s.title)")
    steps = [action.strip() for action in reversed(actions)]  # the page lists newest first
    since_request = steps[steps.index("approval.requested", steps.index("deployment.promoted")) :]
    assert since_request == [
        "approval.requested",
        "signoff.approved",  # security
        "signoff.approved",  # legal
        "signoff.approved",  # the second ML engineer
        "signoff.approved",  # product
        "approval.approved",
        "deployment.promoted",
        "deployment.rolled_back",
    ]
    assert AuditEvent.objects.filter(action="signoff.approved", actor=ml_engineer).count() == 0
