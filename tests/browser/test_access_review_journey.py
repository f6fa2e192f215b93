"""An access review in the browser: governance starts the campaign, the team's accountable owner works
their queue in place (htmx: no page reload; a revocation the identity provider would undo is confirmed
inline first), governance closes it anyway and downloads the evidence. No policy violation on the way."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from identity.models import AccessReview
from registry.choices import MembershipSource
from registry.models import AuditEvent, Membership
from registry.permissions import user_team_ids
from tests.factories import FeatureFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def watch_console(page, errors):
    """Script errors and refusals by the Content Security Policy (a 422 answer's console line is expected)."""
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if message.type == "error" and "status of 422" not in message.text else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))


def test_an_access_review_from_start_to_evidence(
    as_user, live_server, team, eu, product_owner, ml_engineer, governance_admin
):
    UserFactory(username="gus-governance", roles=["governance"])
    FeatureFactory(team=team, accountable_owner=product_owner, incident_owner=ml_engineer, regions=[eu])
    Membership.objects.create(user=ml_engineer, group=team.group, source=MembershipSource.IDP, reason="okta: claims")
    errors: list[str] = []

    governance = as_user(governance_admin)
    watch_console(governance, errors)
    governance.goto(f"{live_server.url}/access-reviews/")
    governance.click("text=Start a campaign")
    governance.fill("#id_name", "2026 Q4 access review")
    governance.fill("#id_due_date", (timezone.localdate() + timedelta(days=14)).isoformat())
    governance.click("button:has-text('Start the campaign')")
    expect(governance.locator("h1")).to_have_text("2026 Q4 access review")
    review = AccessReview.objects.get()

    owner = as_user(product_owner)
    watch_console(owner, errors)
    owner.goto(f"{live_server.url}/access-reviews/")
    owner.evaluate("window.stillThisPage = true")
    row = owner.locator(".review-item").filter(has_text="Claims")
    row.get_by_role("button", name="Revoke", exact=True).click()
    # no note yet: asked why, and told what the identity provider would do, before anything changes
    expect(row.locator(".inline-error")).to_contain_text("Say why you revoke it")
    expect(row.locator(".review-consequences")).to_contain_text("comes back at")
    assert team.pk in user_team_ids(type(ml_engineer).objects.get(pk=ml_engineer.pk))
    row.locator("input[name=note]").fill("Moved to Payments.")
    row.get_by_role("button", name="Revoke anyway").click()
    expect(row.locator(".badge-bad")).to_have_text("revoked")
    expect(owner.locator("#review-progress")).to_contain_text("100% of your items decided: 1 of 1")
    assert owner.evaluate("window.stillThisPage") is True  # decided in place, no reload
    assert team.pk not in user_team_ids(type(ml_engineer).objects.get(pk=ml_engineer.pk))

    governance.goto(f"{live_server.url}/access-reviews/{review.pk}/")
    governance.click("text=Close the campaign")
    governance.check("#id_close_anyway")
    governance.click("button:has-text('Close the campaign')")
    expect(governance.locator(".messages")).to_contain_text("Closed “2026 Q4 access review”")
    with governance.expect_download() as download:
        governance.click("text=Export PDF")
    assert download.value.suggested_filename == f"access-review-{review.pk}-2026-q4-access-review.pdf"
    assert AuditEvent.objects.filter(action="access_review.exported").count() == 1
    assert not errors, errors
