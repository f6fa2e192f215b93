"""Impact analysis: from each kind of catalog entry, the features, versions and live deployments that
depend on it, in the catalog page's lazily loaded section and in the API, a page of features at a time;
restricted features hidden."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from drills import panels
from registry import extensions
from registry.models import FeatureVersion, VersionDataset
from tests.drills.conftest import add_features
from tests.factories import DatasetFactory
from tests.query_counts import assert_constant

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def dataset(world):
    dataset = DatasetFactory(name="claims-history")
    VersionDataset.objects.create(version=world["versions"]["claims"], dataset=dataset, usage="training")
    VersionDataset.objects.create(version=world["versions"]["fraud"], dataset=dataset, usage="evaluation")
    return dataset


def entries(world, dataset):
    versions = world["versions"]
    return {
        "vendor": (world["acme"], "acme"),
        "model": (world["breeze"], world["breeze"].pk),
        "prompt": (versions["claims"].prompt, versions["claims"].prompt.pk),
        "policy-pack": (versions["claims"].policy_pack, versions["claims"].policy_pack.pk),
        "dataset": (dataset, dataset.pk),
    }


EXPECTED = {  # kind: {feature: live deployments}, as governance sees it
    "vendor": {"claims-triage": 2, "fraud-scoring": 1},
    "model": {"claims-triage": 2, "care-bot": 1},
    "prompt": {"claims-triage": 2},
    "policy-pack": {"claims-triage": 2},
    "dataset": {"claims-triage": 2, "fraud-scoring": 1},
}


def panel_url(kind, key):
    return f"/drills/impact/{kind}/{key}/"


def grow(world, dataset, count, *, by, prefix="extra"):
    """``count`` more features that depend on every entry of ``entries`` (through acme/atlas with
    bolt/breeze as fallback, and the claims version's prompt, policy pack and dataset)."""
    claims = world["versions"]["claims"]
    add_features(world, count, by=by, prefix=prefix)
    extra = FeatureVersion.objects.filter(feature__slug__startswith=f"{prefix}-")
    extra.update(prompt=claims.prompt, policy_pack=claims.policy_pack)
    VersionDataset.objects.bulk_create(
        VersionDataset(version=version, dataset=dataset, usage="training")
        for version in extra.exclude(dataset_links__dataset=dataset)
    )


# --- The API -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_the_api_lists_what_depends_on_each_kind_of_entry(world, dataset, governance_admin, kind):
    entry, key = entries(world, dataset)[kind]
    body = api(governance_admin).get(f"/api/v1/impact/{kind}/{key}/").json()
    assert {feature["slug"]: len(feature["live"]) for feature in body["results"]} == EXPECTED[kind]
    assert {(row["feature"], row["environment"], row["region"]) for row in body["deployments"]} == {
        (slug, "production", region)
        for slug, regions in {"claims-triage": ["eu", "us"], "fraud-scoring": ["eu"], "care-bot": ["eu"]}.items()
        if slug in EXPECTED[kind]
        for region in regions
    }
    assert body["entry"]["kind"] == kind and body["entry"]["name"] == str(entry)
    assert body["count"] == len(EXPECTED[kind]) and body["next"] is None and body["previous"] is None
    assert body["totals"] == {
        "features": len(EXPECTED[kind]),
        "versions": len(EXPECTED[kind]),
        "deployments": sum(EXPECTED[kind].values()),
    }


def test_the_api_says_how_each_version_depends_on_it(world, dataset, governance_admin):
    versions = api(governance_admin).get(f"/api/v1/impact/model/{world['breeze'].pk}/").json()["versions"]
    assert {row["feature"]: row["uses"] for row in versions} == {
        "claims-triage": ["fallback 1 bolt/breeze"],
        "care-bot": ["primary bolt/breeze"],
    }
    versions = api(governance_admin).get(f"/api/v1/impact/dataset/{dataset.pk}/").json()["versions"]
    assert {row["feature"]: row["uses"] for row in versions} == {
        "claims-triage": ["training data"],
        "fraud-scoring": ["evaluation data"],
    }


def test_the_api_pages_by_feature_name_with_the_totals_of_every_page(world, dataset, governance_admin):
    grow(world, dataset, 3, by=governance_admin)  # Extra 0..2: each one version, live in eu and us
    client = api(governance_admin)
    first = client.get("/api/v1/impact/vendor/acme/", {"page_size": 2}).json()
    assert first["count"] == 5 and first["previous"] is None and "page=2" in first["next"]
    assert first["totals"] == {"features": 5, "versions": 5, "deployments": 2 + 1 + 3 * 2}
    assert [feature["name"] for feature in first["results"]] == ["Claims triage", "Extra 0"]
    assert {row["feature"] for row in first["versions"]} == {"claims-triage", "extra-0"}
    assert {row["feature"] for row in first["deployments"]} == {"claims-triage", "extra-0"}
    last = client.get("/api/v1/impact/vendor/acme/", {"page_size": 2, "page": 3}).json()
    assert [feature["slug"] for feature in last["results"]] == ["fraud-scoring"] and last["next"] is None
    assert [(row["feature"], row["region"]) for row in last["deployments"]] == [("fraud-scoring", "eu")]
    assert last["totals"] == first["totals"]
    assert client.get("/api/v1/impact/vendor/acme/", {"page_size": 2, "page": 4}).status_code == 404


def test_restricted_features_are_hidden_from_those_who_may_not_see_them(world, dataset, security_reviewer, auditor):
    body = api(security_reviewer).get("/api/v1/impact/vendor/acme/").json()
    assert [feature["slug"] for feature in body["results"]] == ["claims-triage"]
    assert {row["feature"] for row in body["deployments"]} == {"claims-triage"}
    assert body["count"] == 1 and body["totals"] == {"features": 1, "versions": 1, "deployments": 2}
    assert "fraud-scoring" in {f["slug"] for f in api(auditor).get("/api/v1/impact/vendor/acme/").json()["results"]}


def test_unknown_kinds_and_entries_are_404(client, world, governance_admin):
    assert api(governance_admin).get("/api/v1/impact/planet/1/").status_code == 404
    assert api(governance_admin).get("/api/v1/impact/model/999999/").status_code == 404
    assert api(governance_admin).get("/api/v1/impact/prompt/not-a-number/").status_code == 404
    client.force_login(governance_admin)
    assert client.get(panel_url("planet", 1)).status_code == 404
    assert client.get(panel_url("model", 999999)).status_code == 404


def test_the_api_costs_the_same_queries_for_2_as_for_8_features(
    client, world, dataset, governance_admin, django_assert_max_num_queries
):
    client.force_login(governance_admin)
    assert_constant(
        client,
        "/api/v1/impact/vendor/acme/",
        lambda n: grow(world, dataset, n, by=governance_admin, prefix=f"grow{n}"),
        django_assert_max_num_queries,
        12,
        prepare=cache.clear,  # counted each time: the features are added behind the services (the trail stays)
    )


def test_the_totals_are_counted_once_and_kept_until_the_next_change(world, dataset, governance_admin, ml_engineer):
    """Counting a popular vendor's dependents reads every version: the totals are kept for those who see the
    same features until the trail moves. A new version made through the service is counted at once."""
    from registry.services import version_create

    url = "/api/v1/impact/vendor/acme/"
    first = api(governance_admin).get(url).json()
    assert first["totals"] == {"features": 2, "versions": 2, "deployments": 3} and first["count"] == 2
    with CaptureQueriesContext(connection) as queries:
        again = api(governance_admin).get(url).json()
    assert again["totals"] == first["totals"] and again["count"] == 2
    assert not [query for query in queries.captured_queries if "COUNT(" in query["sql"]]

    care = world["versions"]["care"]
    version_create(
        actor=ml_engineer,
        feature=world["care"],
        model=world["atlas"],
        prompt=care.prompt,
        policy_pack=care.policy_pack,
        change_summary="Moves to Acme's atlas.",
    )
    after = api(governance_admin).get(url).json()
    assert after["totals"] == {"features": 3, "versions": 3, "deployments": 3} and after["count"] == 3
    assert "care-bot" in [feature["slug"] for feature in after["results"]]


# --- The catalog pages' section ------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_each_catalog_page_loads_its_impact_section_from_its_own_url(
    client, world, dataset, governance_admin, outsider, kind
):
    entry, key = entries(world, dataset)[kind]
    client.force_login(governance_admin)
    page = client.get(entry.get_absolute_url()).content.decode()
    assert "<h2>Impact</h2>" in page
    assert f'hx-get="{panel_url(kind, key)}"' in page and f'href="{panel_url(kind, key)}"' in page  # without JS: a link
    assert "production/<code>eu</code> → v" not in page  # the body is not on the page
    body = client.get(panel_url(kind, key), **HTMX).content.decode()
    assert body.startswith('<div id="impact-panel">') and "<html" not in body
    assert "Claims triage" in body and "production/<code>eu</code> → v" in body
    whole = client.get(panel_url(kind, key)).content.decode()  # followed without JavaScript: a page
    assert "<html" in whole and "Impact of" in whole and "Claims triage" in whole
    client.force_login(outsider)
    assert "Fraud scoring" not in client.get(panel_url(kind, key), **HTMX).content.decode()


def test_the_catalog_pages_cost_no_query_for_their_impact_and_routes_sections(
    client, world, dataset, governance_admin, monkeypatch
):
    from tests.query_counts import count_queries

    client.force_login(governance_admin)
    for entry, _key in entries(world, dataset).values():
        client.get(entry.get_absolute_url())
        with_sections, response = count_queries(client, entry.get_absolute_url())
        assert b'id="impact-panel"' in response.content
        with monkeypatch.context() as patch:
            patch.setattr(extensions, "catalog_panels", [])
            without, response = count_queries(client, entry.get_absolute_url())
            assert b'id="impact-panel"' not in response.content
        assert with_sections == without, entry


def test_the_section_pages_through_the_features_in_place(client, world, dataset, governance_admin, monkeypatch):
    monkeypatch.setattr(panels, "PAGE_SIZE", 2)
    grow(world, dataset, 3, by=governance_admin)
    client.force_login(governance_admin)
    first = client.get(panel_url("vendor", "acme"), **HTMX).content.decode()
    assert "Claims triage" in first and "Extra 0" in first and "Extra 1" not in first
    assert "5 features, 5 versions and 9 live deployments depend on it" in first
    assert "Showing 2 of 5 features (1–2, by name)" in first
    assert (
        f'href="{panel_url("vendor", "acme")}?page=2" hx-get="{panel_url("vendor", "acme")}?page=2" '
        'hx-target="#impact-panel" hx-swap="outerHTML"'
    ) in first
    last = client.get(panel_url("vendor", "acme"), {"page": 3}, **HTMX).content.decode()
    assert "Fraud scoring" in last and "Claims triage" not in last and "Showing 1 of 5 features (5–5, by name)" in last
    assert "5 features, 5 versions and 9 live deployments depend on it" in last
    beyond = client.get(panel_url("vendor", "acme"), {"page": 99}, **HTMX).content.decode()
    assert "Fraud scoring" in beyond  # a bad page number shows the nearest page


def test_the_section_hides_restricted_features_from_those_who_may_not_see_them(
    client, world, dataset, security_reviewer, auditor
):
    client.force_login(security_reviewer)
    body = client.get(panel_url("vendor", "acme"), **HTMX).content.decode()
    assert "Claims triage" in body and "Fraud scoring" not in body and "fraud-scoring" not in body
    assert "1 feature, 1 version and 2 live deployments depend on it" in body
    client.force_login(auditor)
    assert "Fraud scoring" in client.get(panel_url("vendor", "acme"), **HTMX).content.decode()


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_the_section_costs_the_same_queries_for_2_as_for_8_features(
    client, world, dataset, governance_admin, kind, django_assert_max_num_queries
):
    _entry, key = entries(world, dataset)[kind]
    client.force_login(governance_admin)

    def rows(response):
        return response.content.decode().count("<tr>") - 1  # less the header row

    assert_constant(
        client,
        panel_url(kind, key),
        lambda n: grow(world, dataset, n, by=governance_admin, prefix=f"grow{n}"),
        django_assert_max_num_queries,
        12,
        rows=rows,
        prepare=cache.clear,  # counted each time: the features are added behind the services (the trail stays)
    )
