"""The Readiness page, a feature's readiness page, and the panel on the feature page: counts, filters,
restricted features, and a query count that does not grow with the number of features."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from readiness.checklist import readiness_many
from registry.models import AIFeature
from tests.factories import FeatureFactory
from tests.freshness.world import crowd, evidence
from tests.query_counts import assert_constant

DASHBOARD = reverse("readiness:dashboard")


@pytest.fixture
def inventory(claims_live, other_team, eu):
    """Claims triage (ready, claims team, high) and two payments features not live anywhere: one restricted
    and missing its monitor (regulated), one medium."""
    fraud = FeatureFactory(
        slug="fraud-scoring",
        name="Fraud scoring",
        team=other_team,
        risk_tier="regulated",
        restricted=True,
        regions=[eu],
        monitors="",
        slos="p99 < 1s",
        rollback_path="Flag off.",
    )
    helper = FeatureFactory(
        slug="payment-helper",
        name="Payment helper",
        team=other_team,
        risk_tier="medium",
        regions=[eu],
        monitors="https://grafana.example.test/d/pay",
        slos="p95 < 2s",
        rollback_path="Flag off.",
    )
    return {"claims": claims_live["feature"], "fraud": fraud, "helper": helper}


def _names(response):
    return [row.feature.name for row in response.context["object_list"]]


def _gap_row(response, table, key):
    return next(row for row in response.context["gaps"][table] if row["key"] == key)


def test_governance_sees_gaps_per_team_and_tier_with_links_to_the_filtered_list(client, inventory, governance_admin):
    client.force_login(governance_admin)

    response = client.get(DASHBOARD)

    assert response.status_code == 200
    gaps = response.context["gaps"]
    assert (gaps["features"], gaps["ready"]) == (3, 1)
    payments = _gap_row(response, "by_team", "payments")
    assert (
        payments["features"],
        payments["ready"],
        payments["missing"]["monitor"],
        payments["missing"]["fallback"],
    ) == (2, 0, 1, 2)
    claims = _gap_row(response, "by_team", "claims")
    assert (claims["features"], claims["ready"], sum(claims["missing"].values())) == (1, 1, 0)
    regulated = _gap_row(response, "by_tier", "regulated")
    assert (regulated["features"], regulated["missing"]["monitor"]) == (1, 1)
    assert 'href="?team=payments&amp;missing=monitor"' in response.content.decode()
    assert _names(response) == ["Claims triage", "Fraud scoring", "Payment helper"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?team=payments&missing=monitor", ["Fraud scoring"]),
        ("?state=not_ready", ["Fraud scoring", "Payment helper"]),
        ("?state=ready", ["Claims triage"]),
        ("?tier=high", ["Claims triage"]),
        ("?q=helper", ["Payment helper"]),
    ],
)
def test_the_feature_table_filters_by_team_tier_state_and_missing_item(
    client, inventory, governance_admin, query, expected
):
    client.force_login(governance_admin)

    assert _names(client.get(DASHBOARD + query)) == expected


def test_an_htmx_filter_returns_only_the_table(client, inventory, governance_admin):
    client.force_login(governance_admin)

    response = client.get(DASHBOARD + "?state=not_ready", HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert "Gaps by team" not in body and "Fraud scoring" in body


def test_a_bad_filter_shows_no_rows_and_says_why(client, inventory, governance_admin):
    client.force_login(governance_admin)

    response = client.get(DASHBOARD + "?missing=nonsense")

    assert _names(response) == []
    assert "No feature matches these filters" in response.content.decode()


def test_restricted_features_stay_hidden_from_those_who_may_not_see_them(
    client, inventory, product_owner, other_product_owner
):
    client.force_login(product_owner)  # claims team: fraud scoring belongs to payments and is restricted
    response = client.get(DASHBOARD)
    assert "Fraud scoring" not in _names(response)
    assert response.context["gaps"]["features"] == 2
    assert "Fraud scoring" not in response.content.decode()
    assert client.get(reverse("readiness:feature", args=["fraud-scoring"])).status_code == 404

    client.force_login(other_product_owner)  # payments team sees its own restricted feature
    assert "Fraud scoring" in _names(client.get(DASHBOARD))
    assert client.get(reverse("readiness:feature", args=["fraud-scoring"])).status_code == 200


def test_signing_in_is_required(client, inventory):
    response = client.get(DASHBOARD)

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_feature_page_shows_the_readiness_panel_with_the_sentence_and_checklist(
    client, claims_live, product_owner, outsider
):
    client.force_login(product_owner)

    page = client.get(claims_live["feature"].get_absolute_url()).content.decode()
    panel_url = reverse("readiness:panel", args=["claims-triage"])
    assert "<h2>Readiness</h2>" in page and f'hx-get="{panel_url}"' in page  # the body loads after the page
    body = client.get(panel_url).content.decode()

    assert "Claims triage runs claude-sonnet-4 (EU, US) with prompt triage@7" in body
    assert 'data-item="fallback"' in body and "Approved production version" in body
    type(claims_live["feature"]).objects.filter(pk=claims_live["feature"].pk).update(restricted=True)
    client.force_login(outsider)
    assert client.get(panel_url).status_code == 404  # a restricted feature's readiness is not shown to outsiders


def test_the_feature_readiness_page_has_charts_with_table_fallbacks(client, claims_live, product_owner):
    from readiness.services import readiness_snapshot_take

    readiness_snapshot_take()
    client.force_login(product_owner)

    body = client.get(reverse("readiness:feature", args=["claims-triage"])).content.decode()

    assert 'id="feature-history-data"' in body and 'id="feature-history-table"' in body
    assert 'id="evaluation-data"' in body and 'id="evaluation-table"' in body
    assert body.count("<td>Benchmark</td>") == 2  # v1's and v2's benchmark, as table rows
    assert "vendor/chart.umd.min.js" in body


def _grow(prefix):
    def grow(n):
        for version in crowd(n, prefix=prefix):
            evidence(version, "benchmark")
            evidence(version, "safety")

    return grow


@pytest.mark.parametrize("cached", [False, True], ids=["cold", "warm"])
def test_the_dashboard_costs_the_same_queries_for_2_or_8_features(
    client, governance_admin, django_assert_max_num_queries, cached
):
    """Cold (nothing in the shared cache: every feature's missing items computed in one batch) or warm."""
    client.force_login(governance_admin)
    prepare = (lambda: client.get(DASHBOARD)) if cached else cache.clear

    assert_constant(
        client,
        DASHBOARD,
        _grow("dash"),
        django_assert_max_num_queries,
        # Each checklist batch reads the open MLflow drift once; the kept gap table's key reads the inactive
        # accounts and the registry's size (readiness.current.table_key).
        max_queries=22 if cached else 37,
        prepare=prepare,
    )


def test_computing_readiness_in_bulk_costs_a_constant_number_of_queries(db, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    grow = _grow("bulk")
    grow(2)
    with CaptureQueriesContext(connection) as small:
        assert len(readiness_many(AIFeature.objects.all())) == 2
    grow(10)
    with CaptureQueriesContext(connection) as large:
        assert len(readiness_many(AIFeature.objects.all())) == 12

    assert len(small.captured_queries) == len(large.captured_queries) <= 16
