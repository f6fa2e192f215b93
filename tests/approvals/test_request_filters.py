"""The gate request list page and the API's request list filter with one FilterSet
(``approvals.filters.ApprovalRequestFilter``): the same parameters give the same requests, and a value
neither knows is an error on both (the page says so and lists nothing; the API answers 400)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from approvals.services import approval_request_withdraw
from tests.factories import FeatureFactory

REQUESTS = "/api/v1/approval-requests/"


@pytest.fixture
def requests(team, product_owner, ml_engineer, eu, us, new_version, request_gate):
    """Four requests: claims-triage to production (pending, and one withdrawn) and to sandbox; another
    feature to production."""
    other = FeatureFactory(slug="care-bot", team=team, accountable_owner=product_owner, regions=[eu, us])
    pending = request_gate(new_version())
    withdrawn = approval_request_withdraw(actor=ml_engineer, request=request_gate(new_version()), reason="Not yet.")
    sandbox = request_gate(new_version(), environment="sandbox")
    care = request_gate(new_version(target=other))
    return {"pending": pending, "withdrawn": withdrawn, "sandbox": sandbox, "care": care}


QUERIES = {
    "nothing": ({}, {"pending", "withdrawn", "sandbox", "care"}),
    "a status": ({"status": "pending"}, {"pending", "sandbox", "care"}),
    "another status": ({"status": "withdrawn"}, {"withdrawn"}),
    "an environment": ({"environment": "sandbox"}, {"sandbox"}),
    "a feature": ({"feature": "care-bot"}, {"care"}),
    "all three": ({"feature": "claims-triage", "status": "pending", "environment": "production"}, {"pending"}),
    "an unknown feature": ({"feature": "nobody"}, set()),
    "empty values": ({"status": "", "environment": "", "feature": ""}, {"pending", "withdrawn", "sandbox", "care"}),
}


@pytest.mark.parametrize("query", list(QUERIES))
def test_the_page_and_the_api_list_the_same_requests(client, product_owner, requests, query):
    params, expected = QUERIES[query]
    ids = {requests[name].pk for name in expected}
    client.force_login(product_owner)
    api = APIClient()
    api.force_authenticate(product_owner)

    page = client.get(reverse("approvals:request_list"), params)
    body = api.get(REQUESTS, params).json()

    assert {request.pk for request in page.context["object_list"]} == ids
    assert {request["id"] for request in body["results"]} == ids


@pytest.mark.parametrize("params", [{"status": "nonsense"}, {"environment": "staging"}])
def test_a_value_neither_knows_is_an_error_on_both(client, product_owner, requests, params):
    client.force_login(product_owner)
    api = APIClient()
    api.force_authenticate(product_owner)

    page = client.get(reverse("approvals:request_list"), params)
    answer = api.get(REQUESTS, params)

    assert page.status_code == 200 and list(page.context["object_list"]) == []
    assert "Select a valid choice" in page.content.decode()
    assert answer.status_code == 400 and list(answer.json()) != []


def test_the_page_offers_the_filters_the_api_takes(client, product_owner, requests):
    client.force_login(product_owner)

    page = client.get(reverse("approvals:request_list"), {"environment": "sandbox"})

    assert list(page.context["filter"].form.fields) == ["feature", "status", "environment", "ordering"]
    html = page.content.decode()
    assert '<option value="sandbox" selected>' in html
    assert f"#{requests['sandbox'].pk}</a>" in html and f"#{requests['care'].pk}</a>" not in html
