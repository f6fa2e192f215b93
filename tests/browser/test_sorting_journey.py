"""Clicking a column header sorts a list, clicking it again reverses it, and the filters and the sort stay
in the address bar together."""

import pytest
from playwright.sync_api import expect

from tests.factories import FeatureFactory

pytestmark = pytest.mark.django_db(transaction=True)


def names(page):
    return [
        text.split("\n")[0].strip()
        for text in page.locator("#results tbody tr td:first-child strong").all_inner_texts()
    ]


def test_a_column_header_sorts_reverses_and_keeps_the_filter(page, live_server, sign_in, product_owner, team):
    FeatureFactory(name="Alpha assistant", slug="alpha", team=team, risk_tier="low")
    FeatureFactory(name="Bravo scoring", slug="bravo", team=team, risk_tier="regulated")
    FeatureFactory(name="Charlie triage", slug="charlie", team=team, risk_tier="high")
    FeatureFactory(name="Delta letters", slug="delta", team=team, risk_tier="medium")
    sign_in(product_owner)
    page.goto(f"{live_server.url}/features/?q=a")
    expect(page.locator("#results tbody tr")).to_have_count(4)
    assert names(page) == ["Alpha assistant", "Bravo scoring", "Charlie triage", "Delta letters"]

    header = page.locator("th.sortable", has_text="Risk tier")
    expect(header).to_have_attribute("aria-sort", "none")
    header.locator("a").click()  # tiers sort by weight, heaviest first on the first click
    expect(page.locator("th.sortable", has_text="Risk tier")).to_have_attribute("aria-sort", "descending")
    assert names(page) == ["Bravo scoring", "Charlie triage", "Delta letters", "Alpha assistant"]
    assert "ordering=-risk_tier" in page.url and "q=a" in page.url

    page.locator("th.sortable", has_text="Risk tier").locator("a").click()
    expect(page.locator("th.sortable", has_text="Risk tier")).to_have_attribute("aria-sort", "ascending")
    assert names(page) == ["Alpha assistant", "Delta letters", "Charlie triage", "Bravo scoring"]

    # Narrowing the list keeps the order chosen.
    page.fill("input[name=q]", "ri")
    expect(page.locator("#results tbody tr")).to_have_count(2)
    assert names(page) == ["Charlie triage", "Bravo scoring"]
    assert "ordering=risk_tier" in page.url
