"""Routing in the browser: a router resolves claims triage; governance reads on the vendor page (in its
"Live routes" section, loaded after the page) which live routes a suspension would move, suspends the
vendor (a reason is required), and the next resolve serves the other vendor's fallback; support pastes
the first answer's decision token and reads what served it and who approved it."""

import pytest
from playwright.sync_api import expect

from tests.routing.conftest import (  # noqa: F401  (fixtures)
    approved_request,
    backup_vendor,
    default_gates,
    feature,
    go_live,
    live,
    new_version,
    pins,
    record_evidence,
    request_gate,
    resolve,
    reviewers,
    router,
    second_ml_engineer,
    second_security_reviewer,
    sign_all,
    uk,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_suspending_a_vendor_moves_its_routes_and_support_reads_a_decision(
    page, sign_in, live_server, router, live, pins, governance_admin, support_agent, reviewers
):
    first = resolve(router).json()
    assert first["model"]["identifier"] == "claude-sonnet-4"
    vendor = pins["model"].vendor

    sign_in(governance_admin)
    page.goto(f"{live_server.url}{vendor.get_absolute_url()}")
    routes = page.locator("table", has_text="If suspended")
    expect(routes).to_contain_text("moves from primary")
    expect(routes).to_contain_text("mistral-large")
    page.get_by_role("link", name="Suspend this vendor…").click()
    expect(page.get_by_role("heading", name="Live routes this changes")).to_be_visible()
    page.get_by_role("button", name=f"Suspend {vendor.name}").click()
    expect(page.locator(".errorlist")).to_contain_text("required")
    page.get_by_label("Why").fill("The vendor reported a data breach.")
    page.get_by_role("button", name=f"Suspend {vendor.name}").click()
    expect(page.locator(".messages")).to_contain_text("2 live routes changed")
    expect(page.locator(".page-head")).to_contain_text("Suspended")
    expect(page.locator("#live-routes")).to_contain_text("Reinstating it would change 2 of them")
    expect(page.get_by_role("link", name="Reinstate this vendor…")).to_be_visible()

    second = resolve(router).json()
    assert second["model"]["identifier"] == "mistral-large" and second["route"] == "fallback 1"

    page.context.clear_cookies()
    sign_in(support_agent)
    # Support looks a decision up straight from the dashboard.
    page.locator("#home-lookup").get_by_label("Decision token").fill(first["decision"])
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("main h2").first).to_contain_text("Served")
    expect(page.locator("dl.kv")).to_contain_text("claude-sonnet-4")
    approvals = page.locator("table", has_text="Sign-offs")
    for people in reviewers.values():
        expect(approvals).to_contain_text(people[0].username)
