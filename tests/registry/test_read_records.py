"""Reads of restricted features and their evidence are recorded (who looked at what, when) and shown to
governance admins and auditors only (issue 16)."""

import pytest
from rest_framework.test import APIClient

from registry.models import ReadRecord
from registry.services import api_token_create
from tests.factories import EvaluationFactory, FeatureFactory, VersionFactory


@pytest.fixture
def secret(team, eu):
    return FeatureFactory(slug="fraud-scoring", name="Fraud scoring", team=team, restricted=True, regions=[eu])


@pytest.fixture
def open_feature(team, eu):
    return FeatureFactory(slug="claims-triage", name="Claims triage", team=team, regions=[eu])


def api_as(user):
    _, raw = api_token_create(actor=user, user=user, name="reads")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def reads():
    return list(
        ReadRecord.objects.order_by("id").values_list("username", "feature__slug", "what", "object_id", "source")
    )


def test_opening_a_restricted_feature_page_is_recorded_once_per_window(client, ml_engineer, secret):
    client.force_login(ml_engineer)

    assert client.get(f"/features/{secret.slug}/").status_code == 200
    assert client.get(f"/features/{secret.slug}/").status_code == 200  # a reload within the window

    assert reads() == [("mel-ml", "fraud-scoring", "feature", "", "web")]


def test_reading_an_unrestricted_feature_records_nothing(client, ml_engineer, open_feature):
    client.force_login(ml_engineer)

    client.get(f"/features/{open_feature.slug}/")
    api_as(ml_engineer).get(f"/api/v1/features/{open_feature.slug}/")

    assert reads() == []


def test_versions_and_evidence_of_a_restricted_feature_are_recorded_on_pages_and_the_api(client, ml_engineer, secret):
    version = VersionFactory(feature=secret, number=3)
    evaluation = EvaluationFactory(version=version)
    client.force_login(ml_engineer)
    api = api_as(ml_engineer)

    client.get(f"/features/{secret.slug}/versions/3/")
    api.get(f"/api/v1/features/{secret.slug}/")
    api.get(f"/api/v1/versions/{version.pk}/")
    api.get("/api/v1/evaluations/")
    api.get(f"/api/v1/evaluations/{evaluation.pk}/")

    assert reads() == [
        ("mel-ml", "fraud-scoring", "version", "3", "web"),
        ("mel-ml", "fraud-scoring", "feature", "", "api"),
        # version 3 again, through the API: the same person reading the same thing within the window
        ("mel-ml", "fraud-scoring", "evidence", "", "api"),
        ("mel-ml", "fraud-scoring", "evidence", str(evaluation.pk), "api"),
    ]


def test_a_version_read_through_the_api_is_recorded(ml_engineer, secret):
    version = VersionFactory(feature=secret, number=2)

    api_as(ml_engineer).get(f"/api/v1/versions/{version.pk}/")

    assert reads() == [("mel-ml", "fraud-scoring", "version", "2", "api")]


def test_a_read_is_recorded_even_when_the_shared_cache_is_down(client, ml_engineer, secret, monkeypatch):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "add", down)
    client.force_login(ml_engineer)

    assert client.get(f"/features/{secret.slug}/").status_code == 200
    assert len(reads()) == 1


@pytest.mark.parametrize("persona", ["governance_admin", "auditor"])
def test_governance_and_auditors_see_who_read_what(client, request, ml_engineer, secret, persona):
    client.force_login(ml_engineer)
    client.get(f"/features/{secret.slug}/")
    client.force_login(request.getfixturevalue(persona))

    page = client.get("/audit/reads/")
    api = api_as(request.getfixturevalue(persona)).get("/api/v1/read-records/?feature=fraud-scoring")

    assert page.status_code == 200
    assert b"mel-ml" in page.content and b"Fraud scoring" in page.content
    assert [(row["username"], row["feature"], row["what"]) for row in api.json()["results"]] == [
        ("mel-ml", "fraud-scoring", "feature")
    ]


def test_the_read_log_is_closed_to_everyone_else(client, ml_engineer, product_owner, secret):
    client.force_login(ml_engineer)
    client.get(f"/features/{secret.slug}/")
    client.force_login(product_owner)

    assert client.get("/audit/reads/").status_code == 403
    assert api_as(product_owner).get("/api/v1/read-records/").status_code == 403


def test_an_empty_read_log_says_what_will_appear(client, governance_admin):
    client.force_login(governance_admin)

    assert b"Nobody has opened a restricted feature yet" in client.get("/audit/reads/").content


def test_a_page_of_evidence_from_many_restricted_features_costs_one_insert(ml_engineer, team, eu):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(5):
        feature = FeatureFactory(slug=f"secret-{n}", team=team, restricted=True, regions=[eu])
        EvaluationFactory(version=VersionFactory(feature=feature, number=1))
    api = api_as(ml_engineer)

    with CaptureQueriesContext(connection) as captured:
        assert api.get("/api/v1/evaluations/").status_code == 200

    inserts = [q for q in captured.captured_queries if q["sql"].startswith('INSERT INTO "registry_readrecord"')]
    assert len(inserts) == 1
    assert ReadRecord.objects.filter(what="evidence").count() == 5


@pytest.mark.parametrize("url", ["/audit/reads/", "/api/v1/read-records/"])
def test_the_read_log_costs_the_same_queries_for_2_or_12_records(client, governance_admin, team, eu, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    def add(count):
        start = ReadRecord.objects.count()
        for n in range(start, start + count):
            feature = FeatureFactory(slug=f"secret-{n}", team=team, restricted=True, regions=[eu])
            ReadRecord.objects.create(
                at=timezone.now(),
                user_id=governance_admin.pk,
                username="gia-governance",
                feature=feature,
                what="feature",
                source="web",
            )

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    client.force_login(governance_admin)
    client.get("/")  # the session's once-per-sign-in work
    add(2)
    few = queries()
    add(10)

    assert queries() == few
