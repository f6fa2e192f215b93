"""A drill in the browser: governance previews and runs "vendor unavailable" and reads which features keep a
route (moved to another vendor's fallback) and which lose it; nothing live changes. Then the vendor's page
loads its "Impact" section after the page, and its pager turns the page within the section."""

import pytest
from playwright.sync_api import expect

from drills.models import DrillRun
from registry.models import Deployment, Vendor
from tests.browser.navigation import nav_to
from tests.drills.conftest import gates, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def test_governance_runs_a_vendor_unavailable_drill_and_sees_which_features_keep_a_route(
    page, sign_in, live_server, world, governance_admin, monkeypatch
):
    live_before = list(Deployment.objects.values_list("pk", "version_id", "updated_at"))
    sign_in(governance_admin)
    nav_to(page, "Drills")
    expect(page.locator(".empty")).to_contain_text("No drill has been run yet")
    page.get_by_role("link", name="New drill").click()
    page.get_by_label("Vendor unavailable").check()
    page.locator("#id_vendor").select_option("acme")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("Preview: Vendor Acme AI unavailable")
    expect(preview.locator("[data-outcome=moves]")).to_contain_text("Claims triage")
    assert not DrillRun.objects.exists()

    page.locator("#id_note").fill("Quarterly resilience drill.")
    page.get_by_role("button", name="Run and save the drill").click()
    expect(page.locator(".messages")).to_contain_text("Nothing live changed")
    expect(page.locator("h1")).to_have_text("Vendor Acme AI unavailable")
    moves = page.locator("[data-outcome=moves]")
    expect(moves).to_contain_text("Claims triage")
    expect(moves).to_contain_text("fallback 1 bolt/breeze")
    loses = page.locator("[data-outcome=loses]")
    expect(loses).to_contain_text("Fraud scoring")
    expect(loses).to_contain_text("no route (409)")
    expect(loses).to_contain_text("Still served in eu")
    expect(page.locator("main, body").first).not_to_contain_text("Care bot")

    nav_to(page, "Drills")
    expect(page.locator("#results")).to_contain_text("Vendor Acme AI unavailable")
    assert list(Deployment.objects.values_list("pk", "version_id", "updated_at")) == live_before
    assert Vendor.objects.get(slug="acme").status == "approved"

    monkeypatch.setattr("drills.panels.PAGE_SIZE", 1)  # the live server runs in this process: one feature a page
    page.goto(f"{live_server.url}{world['acme'].get_absolute_url()}")
    impact = page.locator("#impact-panel")
    expect(impact).to_contain_text("2 features, 2 versions and 3 live deployments depend on it")
    expect(impact.locator("table")).to_contain_text("Claims triage")
    expect(impact.locator("table")).not_to_contain_text("Fraud scoring")
    expect(impact).to_contain_text("Showing 1 of 2 features (1–1, by name)")
    impact.get_by_role("link", name="Next →").click()
    expect(impact.locator("table")).to_contain_text("Fraud scoring")
    expect(impact).to_contain_text("Showing 1 of 2 features (2–2, by name)")
    expect(impact.locator("table")).to_contain_text("production/eu → v")
    assert page.url == f"{live_server.url}{world['acme'].get_absolute_url()}"  # still on the vendor's page
    expect(page.locator("#live-routes table")).to_contain_text("Fraud scoring")  # the other lazy section
