"""Issue 16: API creates take an ``Idempotency-Key``, so a client that lost the answer (a timeout after the
commit) retries without creating twice. One implementation (``core.api.idempotency``) on every POST."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from core.api.idempotency import IdempotentPostMixin
from core.models import IdempotencyKey
from incidents.models import Incident
from tests.incidents.conftest import hours_ago

API = "/api/v1/incidents/"


def incident_body(**overrides):
    return {
        "feature": "claims-triage",
        "region": "eu",
        "severity": "sev2",
        "impact_start": hours_ago(2).isoformat(),
        "title": "Wrong queue",
        "description": "Motor claims in the travel queue.",
        **overrides,
    }


def post(client, auth, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(API, body, content_type="application/json", **auth, **headers)


def test_a_retry_with_the_same_key_answers_the_first_answer_and_creates_nothing(client, history, support_agent, bearer):
    auth = bearer(support_agent)
    body = incident_body()

    first = post(client, auth, body, key="3b0c-retry-1")
    again = post(client, auth, {**body}, key="3b0c-retry-1")

    assert first.status_code == again.status_code == 201, first.content
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert Incident.objects.count() == 1


def test_the_same_key_with_another_body_is_refused_with_a_clear_code(client, history, support_agent, bearer):
    auth = bearer(support_agent)
    assert post(client, auth, incident_body(), key="k-1").status_code == 201

    reused = post(client, auth, incident_body(title="Another thing"), key="k-1")

    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused" and "new key" in reused.json()["detail"]
    assert Incident.objects.count() == 1


def test_without_a_key_or_with_another_users_key_each_request_writes(
    client, history, support_agent, product_owner, bearer
):
    assert post(client, bearer(support_agent), incident_body()).status_code == 201
    assert post(client, bearer(support_agent), incident_body()).status_code == 201
    assert post(client, bearer(support_agent), incident_body(), key="shared").status_code == 201
    assert post(client, bearer(product_owner), incident_body(), key="shared").status_code == 201  # keys are per user

    assert Incident.objects.count() == 4


def test_an_error_is_not_kept_so_the_corrected_retry_goes_through(client, history, support_agent, bearer):
    auth = bearer(support_agent)
    assert post(client, auth, incident_body(region="apac"), key="k-2").status_code == 400

    assert post(client, auth, incident_body(), key="k-2").status_code == 201
    assert Incident.objects.count() == 1


def test_a_key_is_kept_a_day(client, history, support_agent, bearer):
    auth = bearer(support_agent)
    assert post(client, auth, incident_body(), key="k-3").status_code == 201
    IdempotencyKey.objects.update(created_at=IdempotencyKey.objects.get().created_at - timedelta(hours=25))

    assert post(client, auth, incident_body(), key="k-3").status_code == 201
    assert Incident.objects.count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "é-key", "tab\tkey"])
def test_an_unusable_key_is_refused_before_anything_is_written(client, history, support_agent, bearer, key):
    response = post(client, bearer(support_agent), incident_body(), key=key)

    assert response.status_code == 400 and "Idempotency-Key" in response.json()
    assert not Incident.objects.exists()


def _views(resolver=None):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern)
        elif isinstance(pattern, URLPattern):
            yield str(pattern.pattern), pattern.callback


def test_every_api_view_that_takes_a_post_honours_the_key_and_the_schema_documents_it(client, governance_admin):
    missing = []
    for route, callback in _views():
        cls = getattr(callback, "cls", None)
        actions = getattr(callback, "actions", None) or {}
        takes_post = "post" in actions if actions else cls is not None and hasattr(cls, "post")
        if cls is not None and takes_post and route.startswith("api/") and not issubclass(cls, IdempotentPostMixin):
            missing.append((route, cls.__name__))
    assert not missing, missing

    client.force_login(governance_admin)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    posts = [operation for item in schema["paths"].values() if (operation := item.get("post"))]
    assert posts
    for operation in posts:
        assert "Idempotency-Key" in [parameter["name"] for parameter in operation.get("parameters", [])]
        assert "422" in operation["responses"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_retries_racing_the_first_request_with_one_key_create_once(history, support_agent, bearer):
    """The retry arrives while the first request still runs: it waits on the key's row, then replays."""
    from django.test import Client

    from tests.concurrency import run_at_once

    auth = bearer(support_agent)
    body = incident_body()

    def attempt(index):
        response = Client().post(API, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="race-1", **auth)
        return response.status_code, response.json()

    outcomes = run_at_once(4, attempt, name="client")

    assert [status for status, _ in outcomes] == [201] * 4, outcomes
    assert len({answer["id"] for _, answer in outcomes}) == 1
    assert Incident.objects.count() == 1
