"""Phones and narrow windows: no page is wider than a 390 px screen, the navigation folds behind a Menu
button and opens in place; on a 1280 px desktop the grouped navigation is one row, and each page lights the
one entry it belongs to."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.services import incident_open
from tests.factories import FeatureFactory

pytestmark = pytest.mark.django_db(transaction=True)


def open_as(browser, live_server, user, password, width):
    context = browser.new_context(viewport={"width": width, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("header.topbar")
    return context, page


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_no_page_is_wider_than_a_phone_and_the_menu_opens_in_place(
    browser, live_server, password, governance_admin, support_agent, team, eu
):
    feature = FeatureFactory(name="Claims letter assistant with a long name", slug="claims-letters", team=team)
    incident = incident_open(
        actor=support_agent,
        feature=feature,
        environment="production",
        region=eu,
        severity="sev2",
        impact_start=timezone.now() - timedelta(minutes=30),
        title="Letters quote another customer's claim number in full",
        description="A customer received a letter quoting another customer's claim number.",
        customer_impact="Personal data disclosed to the wrong customer.",
    )
    context, page = open_as(browser, live_server, governance_admin, password, 390)
    try:
        for path in [
            "/",
            "/features/",
            feature.get_absolute_url(),
            "/approvals/requests/",
            "/approvals/queue/",
            "/approvals/gates/",
            "/incidents/",
            incident.get_absolute_url(),
            "/freshness/",
            "/readiness/",
            "/audit/",
            "/people/",
            "/account/",
        ]:
            page.goto(live_server.url + path)
            assert page_width(page) <= 390, f"{path} is {page_width(page)} px wide on a 390 px screen"

        # The navigation is folded away until the Menu button opens it; a menu then opens in place.
        page.goto(live_server.url + "/")
        nav = page.locator("#main-nav")
        expect(nav).to_be_hidden()
        toggle = page.get_by_role("button", name="Menu")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(nav).to_be_visible()
        nav.locator("summary", has_text="Govern").click()
        readiness = nav.get_by_role("link", name="Readiness")
        expect(readiness).to_be_visible()
        assert page_width(page) <= 390
        readiness.click()
        expect(page.locator("h1")).to_have_text("Readiness")
    finally:
        context.close()


def test_a_desktop_shows_the_navigation_in_one_row_and_lights_one_entry(
    browser, live_server, password, governance_admin
):
    context, page = open_as(browser, live_server, governance_admin, password, 1280)
    try:
        page.goto(live_server.url + "/readiness/")
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        entries = page.locator("#main-nav > a, #main-nav > details > summary")
        tops = [entries.nth(i).bounding_box()["y"] for i in range(entries.count())]
        assert max(tops) - min(tops) < 8, f"the navigation wraps at 1280 px: entries start at {tops}"
        assert page.locator("header.topbar").bounding_box()["height"] < 64

        # The readiness page is Govern › Readiness, and nothing else is lit (not Features).
        expect(page.locator("#main-nav summary.active")).to_have_text("Govern")
        expect(page.locator("#main-nav [aria-current=page]")).to_have_count(1)
        govern = page.locator("#main-nav details", has=page.locator("summary", has_text="Govern"))
        govern.locator("summary").click()
        expect(govern.get_by_role("link", name="Readiness")).to_have_attribute("aria-current", "page")

        # One menu at a time; Escape and a click elsewhere close it.
        release = page.locator("#main-nav details", has=page.locator("summary", has_text="Release"))
        release.locator("summary").click()
        expect(release.get_by_role("link", name="Features")).to_be_visible()
        expect(govern.get_by_role("link", name="Readiness")).to_be_hidden()
        page.keyboard.press("Escape")
        expect(release.get_by_role("link", name="Features")).to_be_hidden()
        release.locator("summary").click()
        page.locator("h1").click()
        expect(release.get_by_role("link", name="Features")).to_be_hidden()

        # An access review is Govern › Access reviews, not People.
        page.goto(live_server.url + "/access-reviews/")
        expect(page.locator("#main-nav [aria-current=page]")).to_have_attribute("href", "/access-reviews/")
    finally:
        context.close()
