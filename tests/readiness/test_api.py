"""Readiness over the API: the inventory (paginated, filtered), one feature, history; restricted features hidden."""

import pytest
from django.core.cache import cache

from readiness.services import readiness_snapshot_take
from tests.factories import FeatureFactory
from tests.query_counts import assert_constant
from tests.readiness.test_pages_and_access import _grow

INVENTORY = "/api/v1/readiness/"


@pytest.fixture
def restricted(other_team, eu):
    return FeatureFactory(
        slug="fraud-scoring",
        name="Fraud scoring",
        team=other_team,
        risk_tier="regulated",
        restricted=True,
        regions=[eu],
        monitors="",
    )


def test_the_inventory_lists_readiness_with_the_pages_filters(client, claims_live, restricted, governance_admin):
    client.force_login(governance_admin)

    body = client.get(INVENTORY).json()
    assert body["count"] == 2
    claims = body["results"][0]
    assert (claims["feature"], claims["ready"], claims["ok_count"], claims["total"], claims["live_regions"]) == (
        "claims-triage",
        True,
        8,
        8,
        ["eu", "us"],
    )
    assert claims["sentence"].startswith("Claims triage runs claude-sonnet-4 (EU, US)")
    assert [item["key"] for item in claims["items"]][:2] == ["accountable_owner", "incident_owner"]

    not_ready = client.get(INVENTORY, {"state": "not_ready", "missing": "monitor"}).json()
    assert [row["feature"] for row in not_ready["results"]] == ["fraud-scoring"]
    assert "monitor" in not_ready["results"][0]["missing"]
    paged = client.get(INVENTORY, {"page_size": 1, "page": 2}).json()
    assert (paged["count"], [row["feature"] for row in paged["results"]]) == (2, ["fraud-scoring"])


def test_a_bad_filter_is_a_400_naming_the_field(client, claims_live, governance_admin):
    client.force_login(governance_admin)

    response = client.get(INVENTORY, {"missing": "nonsense"})

    assert response.status_code == 400 and "missing" in response.json()


def test_restricted_features_are_hidden_in_every_endpoint(client, claims_live, restricted, product_owner):
    readiness_snapshot_take()
    client.force_login(product_owner)

    assert [row["feature"] for row in client.get(INVENTORY).json()["results"]] == ["claims-triage"]
    assert client.get("/api/v1/readiness/features/fraud-scoring/").status_code == 404
    assert client.get("/api/v1/readiness/features/fraud-scoring/history/").status_code == 404
    assert client.get("/api/v1/readiness/history/").json()[0]["features"] == 1


def test_one_features_readiness_and_history(client, claims_live, product_owner):
    readiness_snapshot_take()
    client.force_login(product_owner)

    one = client.get("/api/v1/readiness/features/claims-triage/").json()
    history = client.get("/api/v1/readiness/features/claims-triage/history/").json()

    assert one["ready"] and one["missing"] == []
    assert [snapshot["ok_count"] for snapshot in history["snapshots"]] == [8]
    assert [point["version"] for point in history["evaluations"]["benchmark"]] == [1, 2]
    assert history["evaluations"]["benchmark"][-1]["score"] == 0.91


def test_history_days_must_be_sensible(client, claims_live, product_owner):
    client.force_login(product_owner)

    assert client.get("/api/v1/readiness/history/", {"days": "0"}).status_code == 400


def test_a_token_or_session_is_required(client, claims_live):
    assert client.get(INVENTORY).status_code in (401, 403)


@pytest.mark.parametrize("cached", [False, True], ids=["cold", "warm"])
def test_the_inventory_costs_the_same_queries_for_2_or_8_features(
    client, governance_admin, django_assert_max_num_queries, cached
):
    """Cold (nothing in the shared cache: every feature's missing items computed in one batch) or warm."""
    client.force_login(governance_admin)
    prepare = (lambda: client.get(INVENTORY)) if cached else cache.clear

    assert_constant(
        client,
        INVENTORY,
        _grow("api"),
        django_assert_max_num_queries,
        max_queries=17 if cached else 30,  # each checklist batch reads the open MLflow drift once
        prepare=prepare,
    )
