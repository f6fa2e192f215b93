"""Governance reads the audit trail: who changed what, why, old → new; the raw payload one click away;
then verifies the chain from the web and sees the head hash it proved."""

import pytest
from playwright.sync_api import expect

from registry.models import AuditEvent
from registry.services import feature_update
from tests.factories import FeatureFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_governance_reads_a_change_and_verifies_the_trail(
    page, live_server, sign_in, governance_admin, product_owner, team
):
    feature = FeatureFactory(slug="claims-triage", name="Claims triage", team=team, purpose="Sorts claims.")
    feature_update(
        actor=product_owner,
        feature=feature,
        reason="Say who it helps.",
        purpose="Sorts claims so handlers see the urgent ones first.",
    )
    sign_in(governance_admin)

    page.goto(f"{live_server.url}/audit/")
    page.select_option("select[name=action]", "feature.updated")
    row = page.locator("#results tbody tr").first
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(row.locator(".audit-action")).to_have_text("Feature updated")
    expect(row.locator(".audit-reason")).to_have_text("Say who it helps.")
    expect(row.locator(".audit-diff .audit-old")).to_have_text("Sorts claims.")
    expect(row.locator(".audit-diff .audit-new")).to_have_text("Sorts claims so handlers see the urgent ones first.")
    expect(row.locator(".audit-object a")).to_have_text("Claims triage")
    expect(page.locator("thead")).to_contain_text("Reason")

    raw = row.locator("details.audit-raw")
    expect(raw.locator("pre")).not_to_be_visible()
    raw.locator("summary").click()
    expect(raw.locator("pre")).to_be_visible()
    expect(raw.locator("pre")).to_contain_text('"reason": "Say who it helps."')

    page.click("text=Verify the trail")
    page.click("button:has-text('Start a verification')")
    card = page.locator(".verify-run")
    expect(card).to_contain_text("the chain holds")
    head = AuditEvent.objects.get(action="audit.verification_started")
    expect(card.locator(".verify-head")).to_have_text(head.hash)
    expect(card).to_contain_text("#1 (")


def test_the_run_page_follows_a_running_verification_until_it_ends(page, live_server, sign_in, auditor):
    from django.utils import timezone

    from registry.models import AuditVerificationRun

    now = timezone.now()
    run = AuditVerificationRun.objects.create(started_by=auditor, started_at=now, updated_at=now, total=40, checked=10)
    sign_in(auditor)

    page.goto(f"{live_server.url}/audit/verify/{run.pk}/")
    card = page.locator(".verify-run")
    expect(card).to_contain_text("10 of 40 events checked")

    AuditVerificationRun.objects.filter(pk=run.pk).update(checked=30)
    expect(card).to_contain_text("30 of 40 events checked")  # polled, no reload
    AuditVerificationRun.objects.filter(pk=run.pk).update(
        status="passed", checked=40, message="40 events verified", head_hash="a" * 64, finished_at=timezone.now()
    )
    expect(card).to_contain_text("the chain holds")
    expect(card.locator(".verify-head")).to_have_text("a" * 64)
