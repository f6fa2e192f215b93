"""Input that used to answer 500 (issue 16, low findings): a NUL byte in a query, JSON nested past any
reason, and a slug taken by a concurrent request. Each now answers a clear 4xx and stores nothing."""

import json

import pytest
from django.db import IntegrityError

from registry.models import AIFeature, AuditEvent
from registry.services import api_token_create
from tests.concurrency import run_at_once
from tests.factories import FeatureFactory
from tests.security.test_bad_input import api_as

FEATURES = "/api/v1/features/"


def feature_body(team, owner, **changes):
    return {
        "slug": "claims-triage",
        "name": "Claims triage",
        "purpose": "Route claims.",
        "team": team.slug,
        "accountable_owner": owner.username,
        "incident_owner": owner.username,
        "risk_tier": "medium",
        "regions": ["eu"],
        "intended_uses": "Routing.",
        "disallowed_uses": "Pricing.",
        "data_classification": "internal",
        **changes,
    }


# --- A NUL byte in the query string -------------------------------------------------------------

NUL_PAGES = [
    "/features/?q=claims%00",
    "/decisions/?request_id=req%00-1",
    "/incidents/new/?feature=claims%00",
    "/incidents/live-at/?feature=claims%00&region=eu&environment=production&at=2026-01-01T00:00",
    "/audit/?q=%00",
    "/suggest/features/?q=cla%00ims",
    "/live-at/?feature=claims%00&region=eu&environment=production&at=2026-01-01T00:00",
]


@pytest.mark.parametrize("path", NUL_PAGES)
def test_a_nul_byte_in_a_page_query_is_a_400_that_says_why(client, product_owner, eu, path):
    client.force_login(product_owner)

    response = client.get(path)

    assert response.status_code == 400
    assert b"NUL" in response.content


@pytest.mark.parametrize("path", ["/api/v1/features/?search=claims%00", "/api/v1/decisions/?request_id=a%00"])
def test_a_nul_byte_in_an_api_query_is_a_json_400_with_a_code(product_owner, path):
    response = api_as(product_owner).get(path)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "NUL" in response.json()["detail"]


def test_an_ordinary_query_is_untouched(client, product_owner, team):
    FeatureFactory(slug="claims-triage", name="Claims triage", team=team)
    client.force_login(product_owner)

    assert client.get("/features/?q=claims%2000").status_code == 200  # "%20" then "00": not a NUL


# --- JSON nested past reason --------------------------------------------------------------------


def test_json_nested_deeper_than_python_can_parse_is_a_400(product_owner, team, eu):
    api = api_as(product_owner)
    before = AIFeature.objects.count(), AuditEvent.objects.count()
    body = "[" * 100_000 + "]" * 100_000

    response = api.post(FEATURES, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert (AIFeature.objects.count(), AuditEvent.objects.count()) == before


def test_json_nested_past_the_depth_limit_is_refused_before_any_view_sees_it(product_owner, team, eu):
    nested = "leaf"
    for _ in range(64):
        nested = {"deeper": nested}
    body = json.dumps({**feature_body(team, product_owner), "purpose": nested})

    response = api_as(product_owner).post(FEATURES, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "nested" in response.json()["detail"]
    assert not AIFeature.objects.exists()


def test_ordinary_json_still_parses(product_owner, team, eu):
    response = api_as(product_owner).post(FEATURES, feature_body(team, product_owner), format="json")

    assert response.status_code == 201, response.content


# --- A slug taken at the same moment ------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_creates_of_one_slug_make_one_feature_and_nineteen_clear_400s(product_owner, team, eu):
    api_token_create(actor=product_owner, user=product_owner, name="warm")  # the token table exists
    body = feature_body(team, product_owner)
    clients = [api_as(product_owner) for _ in range(20)]

    outcomes = run_at_once(20, lambda index: clients[index].post(FEATURES, body, format="json"))

    assert not [outcome for outcome in outcomes if isinstance(outcome, BaseException)], outcomes
    statuses = sorted(outcome.status_code for outcome in outcomes)
    assert statuses == [201] + [400] * 19, statuses
    refused = next(outcome.json() for outcome in outcomes if outcome.status_code == 400)
    assert "slug" in refused and refused["code"] == "invalid"
    assert AIFeature.objects.filter(slug="claims-triage").count() == 1


def test_any_other_unique_race_is_a_409_with_nothing_saved_not_a_500():
    """The safety net for a race no service turns into a field error: the database's refusal becomes a
    conflict answer in the API's shape."""
    from core.api.exceptions import exception_handler

    response = exception_handler(IntegrityError('duplicate key value violates unique constraint "x"'), {})

    assert response.status_code == 409
    assert response.data["code"] == "conflict"
    assert "same moment" in response.data["detail"]


def test_a_page_whose_write_loses_a_unique_race_is_a_409_page(client, governance_admin, monkeypatch):
    """The page-side net: a form that passed validation but lost the insert to a concurrent request."""
    from registry.views import catalog

    def collide(**kwargs):
        raise IntegrityError('duplicate key value violates unique constraint "registry_vendor_slug_key"')

    monkeypatch.setattr(catalog.services, "vendor_create", collide)
    client.force_login(governance_admin)
    client.raise_request_exception = False

    response = client.post("/catalog/vendors/new/", {"slug": "acme", "name": "Acme", "status": "approved"})

    assert response.status_code == 409
    assert b"Someone else got there first" in response.content
