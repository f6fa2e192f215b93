"""Resolve's cache on the real shared cache, Redis (the other routing tests use process memory): the
stamps and shared decisions go through a client of its own, which must see what Django's cache writes."""

import pytest
from django.core.cache import cache as shared_cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from routing import cache
from tests.freshness.test_worker_integration import broker  # noqa: F401  (a fixture: our Redis database, emptied)
from tests.routing.conftest import resolve

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_cache(broker):
    """Resolve's shared cache on this process's Redis database, the one the worker tests use (empty before
    and after)."""
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": broker}}
    ):
        cache.decisions.clear()
        cache.identities.clear()
        yield
    cache.decisions.clear()
    cache.identities.clear()


def queries(client, **params):
    with CaptureQueriesContext(connection) as captured:
        response = resolve(client, **params)
    return len(captured.captured_queries), response


def test_on_redis_a_hit_costs_no_query_and_each_change_is_seen(
    redis_cache, router, live, new_version, go_live, pins, governance_admin
):
    from routing.services import catalog_status_change

    first, _ = queries(router)
    hit, answer = queries(router)
    assert first > 0 and hit == 0
    assert answer.json()["version"]["number"] == 1
    cache.decisions.clear()  # another worker: the decision comes from Redis
    shared, _ = queries(router)
    assert shared == 0

    go_live(new_version(summary="Second release."))  # renews the feature's stamp in Redis
    assert resolve(router).json()["version"]["number"] == 2
    catalog_status_change(actor=governance_admin, vendor=pins["model"].vendor, suspend=True, reason="Breach.")
    assert resolve(router).json()["model"]["identifier"] == "mistral-large"  # a new epoch in Redis


def test_on_redis_a_stamp_written_by_another_process_is_read(redis_cache, router, live):
    resolve(router)
    shared_cache.set(cache.FEATURE_KEY + "claims-triage", "written-elsewhere", timeout=None)
    recomputed, _ = queries(router)
    assert recomputed > 0
    assert shared_cache.get(cache.FEATURE_KEY + "claims-triage") == "written-elsewhere"
    assert cache.current_stamps("claims-triage")[1] == "written-elsewhere"
