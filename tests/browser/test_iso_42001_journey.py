"""The Statement of Applicability in the browser: governance opens it from the navigation, decides a control
(refused without an owner, nothing typed lost), links a version as evidence by pasting its page's address,
and finds that evidence under the NIST AI RMF subcategories mapped to the control."""

import pytest
from playwright.sync_api import expect

from registry.models import AuditEvent
from tests.browser.navigation import nav_to
from tests.factories import FeatureFactory, VersionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_governance_decides_a_control_and_links_its_evidence(
    page, live_server, sign_in, governance_admin, ml_engineer, team
):
    feature = FeatureFactory(slug="claims-triage", name="Claims triage", team=team)
    VersionFactory(feature=feature, number=1)
    sign_in(governance_admin)
    nav_to(page, "ISO 42001 · NIST")
    expect(page.locator("h1")).to_have_text("Statement of Applicability")
    expect(page.locator("#soa-summary")).to_contain_text("38 not decided")
    page.fill("#q", "verified")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#soa-table tbody tr[id]")).to_have_count(1)
    page.get_by_role("link", name="A.6.2.4").click()

    page.get_by_label("Applicable", exact=True).check()
    page.select_option("#id_implementation", "implemented")
    page.fill("#id_justification", "Every version carries its evaluations.")
    page.get_by_role("button", name="Save A.6.2.4").click()  # no owner: refused, what was typed kept
    expect(page.locator(".errorlist").first).to_contain_text("owner")
    expect(page.locator("#id_justification")).to_have_value("Every version carries its evaluations.")
    page.select_option("#id_owner", str(ml_engineer.pk))
    page.get_by_role("button", name="Save A.6.2.4").click()
    expect(page.locator(".messages")).to_contain_text("A.6.2.4 saved.")

    page.fill("#id_reference", f"{live_server.url}/features/claims-triage/versions/1/")
    page.get_by_role("button", name="Link as evidence").click()
    evidence = page.locator("#evidence")
    expect(evidence.get_by_role("link", name="Version 1 of Claims triage")).to_be_visible()

    page.locator("#nist").get_by_role("link", name="MEASURE 2.5").click()
    expect(page.locator("h1")).to_contain_text("MEASURE 2.5")
    page.locator("#evidence").get_by_role("link", name="Version 1 of Claims triage").click()
    expect(page).to_have_url(f"{live_server.url}/features/claims-triage/versions/1/")
    assert AuditEvent.objects.filter(action="compliance.control_evidence_linked", feature=feature).count() == 1
