"""The ML engineer registers a feature and a version, attaches evidence, submits, and sees it live on the page."""

import pytest
from playwright.sync_api import expect

from registry.models import AIFeature, AuditEvent
from tests.factories import CatalogModelFactory, PolicyPackFactory, PromptVersionFactory, RegionFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def catalog(db):
    eu = RegionFactory(code="eu", name="European Union")
    model = CatalogModelFactory(
        identifier="claude-sonnet-4", vendor__name="Anthropic", vendor__slug="anthropic", regions=[eu]
    )
    prompt = PromptVersionFactory(name="triage", version=7)
    pack = PolicyPackFactory(name="eu-strict", version=3, allowed_regions=[eu])
    return {"region": eu, "model": model, "prompt": prompt, "pack": pack}


def test_ml_engineer_registers_versions_evidences_and_submits(page, live_server, sign_in, ml_engineer, catalog):
    sign_in(ml_engineer)

    # Register the feature.
    page.click("text=Register a feature")
    page.fill("#id_name", "Claims triage")
    page.fill("#id_slug", "claims-triage")
    page.fill("#id_purpose", "Sorts incoming claims by urgency.")
    page.select_option("#id_risk_tier", "high")
    page.check(f"input[name=regions][value='{catalog['region'].pk}']")
    page.fill("#id_intended_uses", "Ordering the claims queue for human handlers.")
    page.fill("#id_disallowed_uses", "Rejecting a claim.")
    page.select_option("#id_data_classification", "personal")
    page.fill("#id_monitors", "https://grafana.example.test/d/claims-triage")
    page.fill("#id_rollback_path", "Promote the previous version from the feature page.")
    page.click("button:has-text('Register feature')")
    expect(page.locator("h1")).to_have_text("Claims triage")
    expect(page.locator(".messages")).to_contain_text("Registered Claims triage")

    # Create version 1.
    page.click("text=Create version 1")
    page.select_option("#id_model", str(catalog["model"].pk))
    page.select_option("#id_prompt", str(catalog["prompt"].pk))
    page.select_option("#id_policy_pack", str(catalog["pack"].pk))
    page.fill("#id_tools", '[{"name": "claims.lookup", "scopes": ["read"]}]')
    page.fill("#id_parameters", '{"temperature": 0.1}')
    page.fill("#id_change_summary", "First version: Sonnet with the triage@7 prompt.")
    page.click("button:has-text('Create draft')")
    expect(page.locator("h1")).to_have_text("Claims triage v1")

    # Attach an evaluation.
    page.click("text=Attach evaluation")
    page.select_option("#id_kind", "safety")
    page.fill("#id_suite", "harmful-content-v2")
    page.fill("#id_metric", "refusal_rate")
    page.fill("#id_score", "0.97")
    page.fill("#id_threshold", "0.95")
    page.click("button:has-text('Record evaluation')")
    expect(page.locator(".messages")).to_contain_text("Recorded the evaluation")
    expect(page.locator("table")).to_contain_text("harmful-content-v2")

    # Submit: a confirmation page first, then the version is locked and hashed.
    page.click("text=Submit for review")
    expect(page.locator("h1")).to_contain_text("Submit Claims triage v1?")
    page.click("button:has-text('Submit and lock v1')")
    expect(page.locator(".messages")).to_contain_text("Submitted claims-triage v1")
    expect(page.locator(".hash")).to_have_count(1)

    # The feature page shows it.
    page.click(".breadcrumbs >> text=Claims triage")
    versions = page.locator("#versions + .table-wrap")
    expect(versions).to_contain_text("v1")
    expect(versions).to_contain_text("Submitted")
    expect(versions).to_contain_text("claude-sonnet-4")
    expect(page.locator("#evaluations + .table-wrap")).to_contain_text("harmful-content-v2")

    feature = AIFeature.objects.get(slug="claims-triage")
    assert feature.versions.get().status == "submitted"
    actions = list(AuditEvent.objects.filter(feature=feature).order_by("sequence").values_list("action", "source"))
    assert actions == [
        ("feature.created", "web"),
        ("version.created", "web"),
        ("evaluation.recorded", "web"),
        ("version.submitted", "web"),
    ]
