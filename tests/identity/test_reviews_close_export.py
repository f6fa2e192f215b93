"""Closing a campaign (with a confirmation; pending items only with "close anyway", recorded as not
reviewed) and its exports: CSV and PDF, for governance and auditors, each audited."""

import csv
import io

import pytest
from pypdf import PdfReader

from identity.choices import ReviewDecision, ReviewStatus
from identity.reviews.services import access_review_item_decide
from registry.models import AuditEvent
from tests.identity.reviews_helpers import item_of, org, second_governance_admin, start, token_client  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(org, team, ml_engineer, product_owner, security_reviewer, governance_admin, second_governance_admin):
    review = start(governance_admin, name="2026 Q3 access review")
    access_review_item_decide(
        actor=product_owner,
        item=item_of(review, ml_engineer, team=team),
        decision="confirm",
        note="Still triaging claims.",
    )
    access_review_item_decide(
        actor=second_governance_admin,
        item=item_of(review, security_reviewer, role="security"),
        decision="revoke",
        note='=HYPERLINK("x") moved on',
    )
    return review


def test_closing_asks_first_and_pending_items_need_close_anyway(decided, governance_admin, client):
    client.force_login(governance_admin)
    url = f"/access-reviews/{decided.pk}/close/"

    page = client.get(url).content.decode()
    assert "8 items still await review." in page and "Close anyway" in page
    refused = client.post(url, {})
    assert (
        refused.status_code == 200
        and "8 items still await review. Wait for the reviewers, or close anyway" in refused.content.decode()
    )
    decided.refresh_from_db()
    assert decided.status == ReviewStatus.OPEN

    closed = client.post(url, {"close_anyway": "on"})

    assert closed.status_code == 302 and closed["Location"] == f"/access-reviews/{decided.pk}/"
    decided.refresh_from_db()
    assert (decided.status, decided.closed_by) == (ReviewStatus.CLOSED, governance_admin)
    assert decided.items.filter(decision=ReviewDecision.NOT_REVIEWED).count() == 8
    event = AuditEvent.objects.get(action="access_review.closed")
    assert event.payload == {
        "name": "2026 Q3 access review",
        "confirmed": 1,
        "revoked": 1,
        "not_reviewed": 8,
        "closed_anyway": True,
    }
    assert client.post(url, {"close_anyway": "on"}).status_code == 200  # closed already: said on the form, no 500
    assert client.get(f"/access-reviews/{decided.pk}/").status_code == 200


def test_only_governance_closes(decided, product_owner, auditor, client):
    for person in (product_owner, auditor):
        client.force_login(person)
        assert client.post(f"/access-reviews/{decided.pk}/close/", {"close_anyway": "on"}).status_code == 403
        assert (
            token_client(person)
            .post(f"/api/v1/access-reviews/{decided.pk}/close/", {"close_anyway": True}, format="json")
            .status_code
            == 403
        )


def test_the_csv_has_one_row_per_item_with_its_decision(decided, governance_admin, auditor, client):
    from identity.reviews.services import access_review_close

    access_review_close(actor=governance_admin, review=decided, close_anyway=True)
    client.force_login(auditor)

    response = client.get(f"/access-reviews/{decided.pk}/export.csv")

    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="access-review-{decided.pk}-2026-q3-access-review.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 10
    by_key = {(row["person"], row["role_or_team"]): row for row in rows}
    confirmed = by_key[("mel-ml", "Claims")]
    assert (
        confirmed["kind"] == "Team membership"
        and confirmed["sources"] == "Identity provider mapping, Granted in Gatehouse"
    )
    assert (confirmed["decision"], confirmed["decided_by"], confirmed["note"]) == (
        "Confirmed",
        "pat-product",
        "Still triaging claims.",
    )
    assert confirmed["reviewers"] == "pat-product" and confirmed["decided_at"].endswith("Z")
    revoked = by_key[("sam-security", "Security reviewer")]
    assert (revoked["decision"], revoked["decided_by"]) == ("Revoked", "gus-governance")
    assert revoked["note"].startswith("'=HYPERLINK")  # never a formula in a spreadsheet
    assert by_key[("otto-product", "Payments")]["decision"] == "Not reviewed"
    event = AuditEvent.objects.get(action="access_review.exported")
    assert (
        event.actor == auditor
        and event.payload["format"] == "csv"
        and event.payload["sha256"] == response["X-Content-SHA256"]
    )


def test_the_pdf_is_evidence_with_the_summary_and_every_item(decided, governance_admin, client):
    from identity.reviews.services import access_review_close

    access_review_close(actor=governance_admin, review=decided, close_anyway=True)
    client.force_login(governance_admin)

    response = client.get(f"/access-reviews/{decided.pk}/export.pdf")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    flat = " ".join(text.split())
    assert "Access review: 2026 Q3 access review" in flat
    for expected in (
        "Confirmed 1",
        "Revoked (access removed) 1",
        "Not reviewed 8",
        "Items in all 10",
        "Still triaging claims.",
        "gia-governance",
    ):
        assert expected in flat, expected
    assert AuditEvent.objects.get(action="access_review.exported").payload["format"] == "pdf"


def test_an_open_campaign_is_not_exported_and_reviewers_do_not_export(decided, product_owner, governance_admin, client):
    client.force_login(governance_admin)
    response = client.get(f"/access-reviews/{decided.pk}/export.csv")
    assert response.status_code == 302
    assert "once it is closed" in client.get(response["Location"]).content.decode()
    api = token_client(governance_admin).get(f"/api/v1/access-reviews/{decided.pk}/export/pdf/")
    assert api.status_code == 409 and api.json()["code"] == "invalid_transition"

    from identity.reviews.services import access_review_close

    access_review_close(actor=governance_admin, review=decided, close_anyway=True)
    client.force_login(product_owner)  # sees the campaign (an item was theirs), not its export
    assert client.get(f"/access-reviews/{decided.pk}/").status_code == 200
    assert client.get(f"/access-reviews/{decided.pk}/export.csv").status_code == 403
    assert not AuditEvent.objects.filter(action="access_review.exported").exists()
