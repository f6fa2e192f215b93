"""Access reviews over the API, every answer checked against the OpenAPI document: governance starts a
campaign, the accountable owner works their queue, governance closes it and an auditor downloads the
evidence. Others see only the campaigns and items put to them."""

import pytest
from django.utils import timezone

from identity.choices import ReviewDecision
from identity.models import AccessReview
from registry.permissions import user_team_ids
from tests.fuzz.documented import call
from tests.identity.reviews_helpers import item_of, org, second_governance_admin, start, token_client  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_campaign_through_the_api(
    org, team, ml_engineer, product_owner, governance_admin, second_governance_admin, auditor
):
    governance, owner, reader = token_client(governance_admin), token_client(product_owner), token_client(auditor)
    due = (timezone.localdate() + timezone.timedelta(days=14)).isoformat()

    review = call(
        governance,
        "POST",
        "/api/v1/access-reviews/",
        body={"name": "2026 Q4 access review", "due_date": due},
        status=201,
    )
    assert review["status"] == "open" and review["counts"]["total"] == 10 and review["exports"] is None
    conflict = call(governance, "POST", "/api/v1/access-reviews/", body={"name": "Again", "due_date": due}, status=409)
    assert conflict["code"] == "invalid_transition" and "is still open" in conflict["detail"]

    queue = call(owner, "GET", "/api/v1/access-review-items/", query={"waiting": "true"}, status=200)
    assert [(row["user"], row["team"], row["refusal"]) for row in queue["results"]] == [("mel-ml", "claims", None)]
    mine = call(owner, "GET", "/api/v1/access-reviews/{id}/", path={"id": review["id"]}, status=200)
    assert mine["counts"]["total"] == 1 and mine["counts"]["pending"] == 1  # Pat's items only
    assert call(owner, "GET", "/api/v1/access-review-items/", query={"review": review["id"]}, status=200)["count"] == 1

    decided = call(
        owner,
        "POST",
        "/api/v1/access-review-items/{id}/decide/",
        path={"id": queue["results"][0]["id"]},
        body={"decision": "revoke", "note": "Moved to Payments."},
        status=200,
    )
    assert (decided["decision"], decided["decided_by"], decided["note"]) == (
        "revoked",
        "pat-product",
        "Moved to Payments.",
    )
    assert team.pk not in user_team_ids(type(ml_engineer).objects.get(pk=ml_engineer.pk))

    everything = call(
        reader, "GET", "/api/v1/access-review-items/", query={"review": review["id"], "q": "mel-ml"}, status=200
    )
    assert {row["role"] or row["team"] for row in everything["results"]} == {"ml", "claims"}
    refused = call(owner, "POST", "/api/v1/access-reviews/{id}/close/", path={"id": review["id"]}, body={}, status=403)
    assert refused["code"] == "permission_denied"
    pending = call(
        governance, "POST", "/api/v1/access-reviews/{id}/close/", path={"id": review["id"]}, body={}, status=409
    )
    assert "still await review" in pending["detail"]
    closed = call(
        governance,
        "POST",
        "/api/v1/access-reviews/{id}/close/",
        path={"id": review["id"]},
        body={"close_anyway": True},
        status=200,
    )
    assert closed["status"] == "closed" and closed["counts"]["not_reviewed"] == 9 and closed["counts"]["revoked"] == 1
    assert set(closed["exports"]) == {"csv", "pdf"}

    listed = call(reader, "GET", "/api/v1/access-reviews/", status=200)
    assert [row["name"] for row in listed["results"]] == ["2026 Q4 access review"]
    csv_file = reader.get(f"/api/v1/access-reviews/{review['id']}/export/csv/")
    assert csv_file.status_code == 200 and csv_file.content.startswith(b"person,name,kind,role_or_team")
    pdf_file = reader.get(f"/api/v1/access-reviews/{review['id']}/export/pdf/")
    assert pdf_file.status_code == 200 and pdf_file.content.startswith(b"%PDF")
    assert call(owner, "GET", "/api/v1/access-reviews/{id}/", path={"id": review["id"]}, status=200)["exports"] is None


def test_others_see_no_campaign_and_no_item(
    org, team, ml_engineer, governance_admin, other_product_owner, security_reviewer
):
    review = start(governance_admin)
    item = item_of(review, ml_engineer, team=team)

    for person in (other_product_owner, security_reviewer):
        client = token_client(person)
        assert call(client, "GET", "/api/v1/access-reviews/", status=200)["count"] == 0
        assert call(client, "GET", "/api/v1/access-review-items/", status=200)["count"] == 0
        assert (
            call(client, "GET", "/api/v1/access-reviews/{id}/", path={"id": review.pk}, status=404)["code"]
            == "not_found"
        )
        assert (
            call(client, "GET", "/api/v1/access-review-items/{id}/", path={"id": item.pk}, status=404)["code"]
            == "not_found"
        )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "", "due_date": "2099-01-01"},
        {"name": "Q4", "due_date": "not a date"},
        {"name": "Q4", "due_date": "2001-01-01"},
        {"name": ["Q4"], "due_date": 5},
    ],
)
def test_bad_input_to_start_is_a_400_in_the_house_format(governance_admin, body):
    answer = call(token_client(governance_admin), "POST", "/api/v1/access-reviews/", body=body, status=400)
    assert answer["code"] == "invalid" and set(answer) - {"code"} <= {"name", "due_date"} and len(answer) > 1
    assert not AccessReview.objects.exists()


@pytest.mark.parametrize(
    "body", [{}, {"decision": "maybe"}, {"decision": "revoke", "note": "x" * 501}, {"decision": ["confirm"]}]
)
def test_bad_decisions_are_a_400(org, team, ml_engineer, product_owner, governance_admin, body):
    item = item_of(start(governance_admin), ml_engineer, team=team)
    answer = call(
        token_client(product_owner),
        "POST",
        "/api/v1/access-review-items/{id}/decide/",
        path={"id": item.pk},
        body=body,
        status=400,
    )
    assert answer["code"] == "invalid"
    item.refresh_from_db()
    assert item.decision == ReviewDecision.PENDING
