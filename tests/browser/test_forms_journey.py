"""Forms that help: the slug follows the name until it is edited, the datasets and fallbacks are searched
rather than scrolled, known tools are ticked into the JSON, and the time zone is the person's own."""

import json

import pytest
from playwright.sync_api import expect

from registry.models import AIFeature, FeatureVersion
from registry.services import version_create
from tests.factories import (
    CatalogModelFactory,
    DatasetFactory,
    FeatureFactory,
    PolicyPackFactory,
    PromptVersionFactory,
    RegionFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_slug_follows_the_name_until_it_is_edited(page, live_server, sign_in, product_owner):
    sign_in(product_owner)
    page.goto(f"{live_server.url}/features/new/")
    page.fill("#id_name", "Claims Letter Assistant (Motor)")
    expect(page.locator("#id_slug")).to_have_value("claims-letter-assistant-motor")

    page.fill("#id_slug", "motor-letters")
    page.fill("#id_name", "Claims letter assistant for motor")
    expect(page.locator("#id_slug")).to_have_value("motor-letters")

    page.fill("#id_slug", "")  # emptied: the name takes it back
    page.locator("#id_name").press("End")
    page.locator("#id_name").press_sequentially("s")
    expect(page.locator("#id_slug")).to_have_value("claims-letter-assistant-for-motors")


def test_datasets_fallbacks_and_tools_are_picked_by_searching(page, live_server, sign_in, ml_engineer, team):
    eu = RegionFactory(code="eu", name="European Union")
    primary = CatalogModelFactory(identifier="claude-sonnet-4", vendor__name="Anthropic", regions=[eu])
    CatalogModelFactory(identifier="gpt-4o-mini", vendor__name="OpenAI", regions=[eu])
    fallback = CatalogModelFactory(identifier="risk-llm-8b", vendor__name="In-house", regions=[eu])
    for name in ("call-transcripts", "claims-history", "claims-golden-set", "hr-handbook", "internal-code"):
        DatasetFactory(name=name, owner=team)
    feature = FeatureFactory(slug="claims-triage", name="Claims triage", team=team, regions=[eu])
    version_create(
        actor=ml_engineer,
        feature=feature,
        model=primary,
        prompt=PromptVersionFactory(name="triage"),
        policy_pack=PolicyPackFactory(name="eu-strict", allowed_regions=[eu]),
        tools=[{"name": "crm.lookup", "scopes": ["read"]}, {"name": "claims.assign", "scopes": ["write"]}],
        change_summary="First.",
    )
    sign_in(ml_engineer)
    page.goto(f"{live_server.url}/features/claims-triage/versions/new/")

    # Datasets: typing narrows the list; what is ticked stays and is counted.
    training = page.locator("#field-training_datasets")
    training.locator("input[type=search]").fill("claims")
    expect(training.locator(".picker-options label:visible")).to_have_count(2)
    training.get_by_label("claims-golden-set", exact=False).check()
    training.locator("input[type=search]").fill("hr")
    expect(training.locator(".picker-options label:visible")).to_have_count(2)  # hr-handbook, and the one ticked
    expect(training.locator("[data-picker-count]")).to_contain_text("1 chosen: claims-golden-set")
    training.locator("input[type=search]").press("Enter")  # filters; does not submit
    expect(page.locator("h1")).to_contain_text("New version")

    # Fallbacks: the filter narrows the model list.
    first = page.locator("#field-fallback_1")
    first.locator("input[type=search]").fill("risk")
    assert first.locator("option:not([hidden])").all_inner_texts()[-1].startswith("In-house · risk-llm-8b")
    first.locator("select").select_option(str(fallback.pk))

    # Tools: the previous version's are ticked; unticking one removes it from the JSON, ticking adds it back.
    tools = page.locator("#field-tools")
    expect(tools.get_by_label("claims.assign", exact=False)).to_be_checked()
    tools.get_by_label("claims.assign", exact=False).uncheck()
    assert [tool["name"] for tool in json.loads(page.input_value("#id_tools"))] == ["crm.lookup"]
    tools.get_by_label("claims.assign", exact=False).check()
    assert {tool["name"] for tool in json.loads(page.input_value("#id_tools"))} == {"crm.lookup", "claims.assign"}
    tools.get_by_label("crm.lookup", exact=False).uncheck()

    page.fill("#id_change_summary", "Adds a fallback and the golden set.")
    page.click("button:has-text('Create draft')")
    expect(page.locator("h1")).to_have_text("Claims triage v2")
    version = FeatureVersion.objects.get(feature__slug="claims-triage", number=2)
    assert [dataset.name for dataset in version.datasets.all()] == ["claims-golden-set"]
    assert version.fallbacks.get().model == fallback
    assert [tool["name"] for tool in version.tools] == ["claims.assign"]
    assert AIFeature.objects.count() == 1


def test_a_person_reads_times_in_their_own_zone(page, live_server, sign_in, governance_admin):
    sign_in(governance_admin)
    page.goto(f"{live_server.url}/account/")
    page.select_option("#id_time_zone", "Pacific/Auckland")
    page.click("button:has-text('Save time zone')")
    expect(page.locator(".messages")).to_contain_text("Times now show in Pacific/Auckland.")
    expect(page.locator("#id_time_zone")).to_have_value("Pacific/Auckland")
    page.goto(f"{live_server.url}/audit/")
    expect(page.locator("table.audit-events thead")).to_contain_text("When (Pacific/Auckland)")
