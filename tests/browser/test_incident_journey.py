"""Support logs an incident for a moment before the last promotion and sees the older version filled
in; the owner rolls back from the incident page; the timeline and the feature page show it; a
promotion during the open SEV1 is refused."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from approvals.defaults import install_default_policies
from approvals.models import GateAssignment, GatePolicy, GateRequirement
from approvals.services import approval_request_create, promotion_execute, signoff_decide
from incidents.models import Incident
from registry.models import Deployment, DeploymentEvent
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


@pytest.fixture
def history(team, product_owner, ml_engineer, security_reviewer, legal_reviewer):
    """Claims triage in production/eu: v1 live since 3 hours ago, v2 since a minute ago, v3 approved."""
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
        incident_owner=product_owner,
    )
    model = CatalogModelFactory(identifier="claude-sonnet-4", regions=[eu])
    pack = PolicyPackFactory(allowed_regions=[eu])
    second_ml = UserFactory(username="ml-two", roles=["ml"])

    def approved(number):
        version = version_submit(
            actor=ml_engineer,
            version=version_create(
                actor=ml_engineer,
                feature=feature,
                model=model,
                policy_pack=pack,
                change_summary=f"Release {number}.",
                prompt=PromptVersionFactory(name="triage", version=number),
            ),
        )
        for kind in ("benchmark", "safety", "privacy_review"):
            evaluation_record(
                actor=ml_engineer,
                version=version,
                kind=kind,
                suite="suite",
                metric="m",
                score=0.95,
                threshold=0.9,
                run_at=timezone.now() - timedelta(days=1),
            )
        request = approval_request_create(actor=ml_engineer, version=version, environment="production", regions=[eu])
        signers = {"legal": legal_reviewer, "ml": second_ml, "product": product_owner, "security": security_reviewer}
        for signoff in request.signoffs.all():
            signoff_decide(actor=signers[signoff.role], signoff=signoff, decision="approve", reason="ok")
        return version, request

    v1, first = approved(1)
    promotion_execute(actor=product_owner, request=first)
    DeploymentEvent.objects.filter(to_version=v1).update(at=timezone.now() - timedelta(hours=3))
    v2, second = approved(2)
    promotion_execute(actor=product_owner, request=second)
    v3, third = approved(3)
    return {"feature": feature, "eu": eu, "v1": v1, "v2": v2, "v3": v3, "third": third}


def test_support_logs_an_incident_and_the_owner_rolls_back_from_it(
    as_user, live_server, history, support_agent, product_owner
):
    feature = history["feature"]
    impact = timezone.now() - timedelta(hours=2)  # after v1 went live, before v2 did
    FeatureFactory(slug="fx-rates", name="Currency rates", team=feature.team)  # the feature box must not suggest it

    # Support logs a SEV1 for two hours ago and sees v1 filled in as what was live then.
    support = as_user(support_agent)
    support.goto(f"{live_server.url}/incidents/")
    support.get_by_role("link", name="Log an incident").click()
    # The feature box suggests as you type (htmx fills its datalist); support picks the suggestion.
    support.locator("#id_feature").press_sequentially("claims")
    support.wait_for_function(
        "() => [...document.querySelectorAll('#id_feature-suggestions option')].map(o => o.value).join() === 'claims-triage'"
    )
    support.fill("#id_feature", support.locator("#id_feature-suggestions option").get_attribute("value"))
    support.select_option("#id_region", "eu")
    support.select_option("#id_severity", "sev1")
    support.fill("#id_impact_start", impact.strftime("%Y-%m-%dT%H:%M"))
    support.locator("#id_impact_start").dispatch_event("change")
    expect(support.locator("#live-at")).to_contain_text("Claims triage v1")
    support.fill("#id_title", "Vulnerable customers routed to the general queue")
    support.fill("#id_description", "Several flagged claims went to the general queue since this morning.")
    support.get_by_role("button", name="Log the incident").click()
    expect(support.locator("h1")).to_contain_text("Vulnerable customers routed")
    live_then = support.locator("section.card", has_text="What was live when it began")
    expect(live_then).to_contain_text("v1")
    expect(live_then).to_contain_text("no longer live: v2 is")
    incident = Incident.objects.get()
    assert incident.live_version == history["v1"] and incident.owner == product_owner

    # While the SEV1 is open, promoting the already approved v3 is refused, naming the incident.
    owner = as_user(product_owner)
    owner.goto(f"{live_server.url}{feature.get_absolute_url()}")
    expect(owner.locator(".messages")).to_contain_text(f"Promotions frozen. {incident.reference}")
    owner.goto(f"{live_server.url}{history['third'].get_absolute_url()}")
    owner.get_by_role("link", name="Promote to production").click()
    # Warned before the click, refused after it.
    expect(owner.locator(".errorlist[role=status]")).to_contain_text(f"are frozen: {incident.reference}")
    owner.get_by_role("button", name="Promote v3").click()
    expect(owner.locator(".errorlist[role=alert]")).to_contain_text(f"frozen: {incident.reference}")
    assert Deployment.objects.get(feature=feature).version == history["v2"]

    # The owner rolls back from the incident page; v1 is preselected as the last good version.
    owner.goto(f"{live_server.url}{incident.get_absolute_url()}")
    rollback = owner.locator("#rollback")
    expect(rollback.locator("#id_to_version label:has(input:checked)")).to_contain_text("v1")
    rollback.locator("#id_reason").fill("Roll back to v1 while we investigate the urgency prompt.")
    rollback.get_by_role("button", name="Review the rollback…").click()
    # Confirmed on a page of its own, as on the feature page: nothing has changed yet.
    expect(owner.locator("h1")).to_contain_text("Roll back")
    assert Deployment.objects.get(feature=feature).version == history["v2"]
    owner.get_by_role("button", name="Roll back now").click()
    expect(owner.locator(".messages")).to_contain_text("from v2 to v1")
    expect(owner.locator("table").first).to_contain_text("rolled back v2 → v1")

    # The feature page shows v1 live again, and the rollback in its history linked to the incident.
    owner.goto(f"{live_server.url}{feature.get_absolute_url()}")
    expect(owner.locator("#live + .table-wrap")).to_contain_text("v1")
    owner.get_by_text("Deployment history").click()
    expect(owner.locator("details table")).to_contain_text("rolled back")
    event = DeploymentEvent.objects.get(kind="rolled_back")
    assert event.incident_id == incident.pk and event.to_version == history["v1"]
