"""Under the Content Security Policy (scripts from this origin only), the interactive parts still work in
Chromium and nothing is refused: htmx panels load, the API docs render, the drill report prints."""

import pytest
from playwright.sync_api import expect

from tests.factories import FeatureFactory, TeamFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_htmx_panels_and_the_api_docs_work_with_no_policy_violation(as_user, live_server, governance_admin):
    FeatureFactory(slug="claims-triage", name="Claims triage", team=TeamFactory(slug="claims", name="Claims"))
    page = as_user(governance_admin)
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    page.goto(f"{live_server.url}/features/claims-triage/")
    # Both sections fetch their bodies with htmx after the page: proof htmx runs under the policy.
    expect(page.locator("#readiness-panel .readiness-sentence")).to_contain_text("Claims triage")
    expect(page.locator("#evidence-pack")).to_contain_text("evidence pack")

    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    page.locator(".swagger-ui .opblock-summary").first.click()  # the UI's own script answers a click

    assert problems == []
