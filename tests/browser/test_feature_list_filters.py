"""Filtering the feature list updates the results in place (htmx) and keeps the filter in the URL."""

import pytest
from playwright.sync_api import expect

from tests.factories import FeatureFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_search_and_tier_filter_update_the_list_in_place(page, live_server, sign_in, product_owner, team):
    FeatureFactory(name="Claims triage", slug="claims-triage", team=team, risk_tier="high")
    FeatureFactory(name="Fraud scoring", slug="fraud-scoring", team=team, risk_tier="regulated")
    FeatureFactory(name="Code assistant", slug="code-assistant", team=team, risk_tier="low")
    sign_in(product_owner)
    page.goto(f"{live_server.url}/features/")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(3)

    page.evaluate("window.__same_document = true")
    page.fill("input[name=q]", "fraud")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Fraud scoring")
    assert page.evaluate("window.__same_document") is True  # no full page load happened
    assert "q=fraud" in page.url  # the filter is in the address bar, so the view can be shared

    page.fill("input[name=q]", "")
    page.select_option("select[name=risk_tier]", "low")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Code assistant")

    page.select_option("select[name=risk_tier]", "medium")
    expect(page.locator("#results .empty")).to_contain_text("No feature matches these filters")
