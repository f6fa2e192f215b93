"""Impact analysis: from each kind of catalog entry, the features, versions and live deployments that
depend on it, on its page and in the API; restricted features hidden."""

import pytest
from rest_framework.test import APIClient

from registry.models import VersionDataset
from tests.drills.conftest import add_features
from tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db


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


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_the_api_lists_what_depends_on_each_kind_of_entry(world, dataset, governance_admin, kind):
    entry, key = entries(world, dataset)[kind]
    body = api(governance_admin).get(f"/api/v1/impact/{kind}/{key}/").json()
    assert {feature["slug"]: len(feature["live"]) for feature in body["features"]} == EXPECTED[kind]
    assert {(row["feature"], row["environment"], row["region"]) for row in body["deployments"]} == {
        (slug, "production", region)
        for slug, regions in {"claims-triage": ["eu", "us"], "fraud-scoring": ["eu"], "care-bot": ["eu"]}.items()
        if slug in EXPECTED[kind] for region in regions
    }
    assert body["entry"]["kind"] == kind and body["entry"]["name"] == str(entry)


def test_the_api_says_how_each_version_depends_on_it(world, dataset, governance_admin):
    versions = api(governance_admin).get(f"/api/v1/impact/model/{world['breeze'].pk}/").json()["versions"]
    assert {row["feature"]: row["uses"] for row in versions} == {
        "claims-triage": ["fallback 1 bolt/breeze"], "care-bot": ["primary bolt/breeze"]
    }
    versions = api(governance_admin).get(f"/api/v1/impact/dataset/{dataset.pk}/").json()["versions"]
    assert {row["feature"]: row["uses"] for row in versions} == {
        "claims-triage": ["training data"], "fraud-scoring": ["evaluation data"]
    }


def test_restricted_features_are_hidden_from_those_who_may_not_see_them(world, dataset, security_reviewer, auditor):
    body = api(security_reviewer).get("/api/v1/impact/vendor/acme/").json()
    assert [feature["slug"] for feature in body["features"]] == ["claims-triage"]
    assert {row["feature"] for row in body["deployments"]} == {"claims-triage"}
    assert "fraud-scoring" in {f["slug"] for f in api(auditor).get("/api/v1/impact/vendor/acme/").json()["features"]}


def test_unknown_kinds_and_entries_are_404(world, governance_admin):
    assert api(governance_admin).get("/api/v1/impact/planet/1/").status_code == 404
    assert api(governance_admin).get("/api/v1/impact/model/999999/").status_code == 404
    assert api(governance_admin).get("/api/v1/impact/prompt/not-a-number/").status_code == 404


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_each_catalog_page_has_an_impact_section(client, world, dataset, governance_admin, outsider, kind):
    entry, _ = entries(world, dataset)[kind]
    client.force_login(governance_admin)
    html = client.get(entry.get_absolute_url()).content.decode()
    assert "<h2>Impact</h2>" in html
    assert "Claims triage" in html and "production/<code>eu</code> → v" in html
    client.force_login(outsider)
    html = client.get(entry.get_absolute_url()).content.decode()
    assert "<h2>Impact</h2>" in html and "Fraud scoring" not in html


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_the_impact_section_costs_the_same_queries_for_few_or_many_features(
    client, world, dataset, governance_admin, kind
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    entry, _ = entries(world, dataset)[kind]
    client.force_login(governance_admin)
    client.get(entry.get_absolute_url())
    with CaptureQueriesContext(connection) as few:
        client.get(entry.get_absolute_url())
    add_features(world, 5, by=governance_admin)
    extra = type(world["versions"]["claims"]).objects.filter(feature__slug__startswith="extra-")
    extra.update(prompt=world["versions"]["claims"].prompt, policy_pack=world["versions"]["claims"].policy_pack)
    VersionDataset.objects.bulk_create(VersionDataset(version=version, dataset=dataset, usage="training") for version in extra)
    with CaptureQueriesContext(connection) as many:
        html = client.get(entry.get_absolute_url()).content.decode()
    assert html.count("Extra ") >= 5
    assert len(many.captured_queries) == len(few.captured_queries)
