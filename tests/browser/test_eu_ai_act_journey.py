"""A feature's place under the EU AI Act, in the browser: its team proposes it from the feature page,
governance confirms it, and the feature is then on the regulated tier with its technical file's gaps shown."""

import pytest
from playwright.sync_api import expect

from registry.models import AIFeature
from tests.browser.navigation import sign_out
from tests.factories import FeatureFactory, RegionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_team_proposes_and_governance_confirms_a_high_risk_profile(
    page, live_server, sign_in, product_owner, governance_admin, team
):
    eu = RegionFactory(code="eu", name="European Union")
    feature = FeatureFactory(
        slug="cv-ranker", name="CV ranker", team=team, risk_tier="high", regions=[eu], accountable_owner=product_owner
    )
    sign_in(product_owner)
    page.goto(f"{live_server.url}/features/cv-ranker/")
    panel = page.locator("#eu-ai-act")
    expect(panel).to_contain_text("No regulatory profile yet")  # loaded after the page, by htmx
    panel.get_by_role("link", name="Open its regulatory profile").click()
    page.get_by_role("link", name="Propose a profile").click()

    page.select_option("#id_category", "high_risk")
    page.get_by_role("button", name="Propose").click()  # nothing said why: refused, nothing lost
    expect(page.locator(".errorlist").first).to_be_visible()
    expect(page.locator("#id_category")).to_have_value("high_risk")
    page.select_option("#id_high_risk_basis", "annex_iii")
    page.select_option("#id_annex_iii_area", "4")
    page.locator(f'input[name=markets][value="{eu.pk}"]').check()
    page.fill("#id_rationale", "Ranks applicants for recruiters.")
    page.get_by_role("button", name="Propose").click()
    expect(page.locator("#profile")).to_contain_text("waiting for governance")
    expect(page.locator("#profile")).to_contain_text("Proposed: High-risk")
    sign_out(page)

    sign_in(governance_admin)
    page.goto(f"{live_server.url}/compliance/features/cv-ranker/")
    page.get_by_role("button", name="Confirm High-risk (Art. 6)").click()
    expect(page.locator("#profile h2")).to_contain_text("High-risk (Art. 6)")
    expect(page.locator("#profile")).to_contain_text("confirmed")
    expect(page.locator("#completeness")).to_contain_text("its gate request cannot be approved until then")
    assert AIFeature.objects.get(pk=feature.pk).risk_tier == "regulated"
