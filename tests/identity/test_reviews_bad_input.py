"""No 500 on bad input to the access review pages: odd queries, forged forms, unknown ids."""

import pytest

from identity.choices import ReviewDecision
from tests.identity.reviews_helpers import HTMX, item_of, org, second_governance_admin, start  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(org, governance_admin):
    return start(governance_admin)


@pytest.mark.parametrize(
    "query",
    ["?page=abc", "?page=99999", "?decision=maybe", "?kind=%ff", "?q=" + "x" * 3000, "?campaigns=-1", "?q=%E2%80%AE"],
)
def test_odd_queries_answer_a_page(review, governance_admin, client, query):
    client.force_login(governance_admin)
    assert client.get(f"/access-reviews/{query}").status_code == 200
    assert client.get(f"/access-reviews/{review.pk}/{query}").status_code == 200


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"decision": "maybe"},
        {"decision": ["confirm", "revoke"]},
        {"decision": "revoke", "note": "x" * 5000},
        {"decision": "confirm", "next": "javascript:alert(1)"},
        {"decision": "confirm", "next": "//evil.example/"},
        {"decision": "revoke", "note": "\u202e", "confirmed": "yes please"},
    ],
)
def test_forged_decisions_are_refused_clearly(review, team, ml_engineer, product_owner, client, data):
    item = item_of(review, ml_engineer, team=team)
    client.force_login(product_owner)

    plain = client.post(f"/access-reviews/items/{item.pk}/decide/", data)
    inline = client.post(f"/access-reviews/items/{item.pk}/decide/", data, **HTMX)

    assert plain.status_code in (200, 302, 422) and inline.status_code in (200, 422)
    if plain.status_code == 302:
        assert plain["Location"].startswith("/access-reviews/")


def test_unknown_ids_are_404s(review, governance_admin, client):
    client.force_login(governance_admin)
    for url in (
        "/access-reviews/999999/",
        "/access-reviews/999999/close/",
        "/access-reviews/999999/export.csv",
        "/access-reviews/items/999999/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post("/access-reviews/items/999999/decide/", {"decision": "confirm"}).status_code == 404


def test_a_close_form_without_its_checkbox_value_is_a_form_error(review, governance_admin, client):
    client.force_login(governance_admin)
    response = client.post(f"/access-reviews/{review.pk}/close/", {"close_anyway": "not a boolean"})
    assert response.status_code in (200, 302)
    review.refresh_from_db()
    assert review.items.filter(decision=ReviewDecision.PENDING).exists() or review.status == "closed"
