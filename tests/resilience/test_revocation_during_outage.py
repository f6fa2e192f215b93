"""A token revoked while Redis is down stops working when Redis comes back (issue 16).

Revoking renews the resolve cache's epoch in Redis; with Redis down that write fails, and a web process
that kept the token's identity in memory would answer it again once Redis is back. The invalidation is
recorded in the database and published when the cache can take it: by beat, or by the first request of a
process that saw the outage. These run against a real Redis (a database of its own), since what matters
is that the old epoch is still there when it comes back."""

import pytest
from django.core.cache import cache as shared
from django.test import override_settings

from registry.models import ApiToken
from registry.services import api_token_revoke
from routing import cache as routing_cache
from routing.models import UnpublishedInvalidation
from routing.tasks import publish_pending_invalidations
from tests.faults import closed_port, redis_caches
from tests.routing.conftest import backup_vendor, bearer, live, pins, resolve, uk  # noqa: F401 - fixtures
from tests.workers import redis_test_url

pytestmark = pytest.mark.django_db(transaction=True)


def redis(url):
    return override_settings(CACHES=redis_caches(url, timeout=0.3))


@pytest.fixture
def real_redis():
    with redis(redis_test_url()):  # this test process's own database
        shared.clear()
        routing_cache.decisions.clear()
        routing_cache.identities.clear()
        routing_cache._outage_seen = False
        yield
        shared.clear()
    routing_cache._outage_seen = False


def revoke_during_outage(ml_engineer):
    """Revoke the router's token with Redis unreachable; return what another process still holds in memory
    (this process's identities, as they were before the revocation)."""
    held = (routing_cache.identities._epoch, dict(routing_cache.identities._entries))
    with redis(f"redis://127.0.0.1:{closed_port()}/0"):
        api_token_revoke(actor=ml_engineer, token=ApiToken.objects.get(user=ml_engineer, name="router"))
    return held


def as_another_process(held):
    """A process that served nothing during the outage: it still holds the identity and saw no failure."""
    routing_cache.identities._epoch, routing_cache.identities._entries = held[0], dict(held[1])
    routing_cache._outage_seen = False


def test_a_token_revoked_while_redis_was_down_is_refused_once_beat_publishes(real_redis, ml_engineer, live):
    router = bearer(ml_engineer)
    assert resolve(router).status_code == 200  # its identity is now in this process's memory

    held = revoke_during_outage(ml_engineer)
    assert UnpublishedInvalidation.objects.count() == 1
    as_another_process(held)

    assert publish_pending_invalidations() == 1  # beat, within a minute of Redis being back
    refused = resolve(router)

    assert refused.status_code == 401, refused.content
    assert not UnpublishedInvalidation.objects.exists()


def test_a_process_that_saw_the_outage_publishes_before_it_answers_from_memory(real_redis, ml_engineer, live):
    router = bearer(ml_engineer)
    assert resolve(router).status_code == 200

    held = revoke_during_outage(ml_engineer)
    routing_cache.identities._epoch, routing_cache.identities._entries = held[0], dict(held[1])
    assert routing_cache._outage_seen  # this process failed to publish

    refused = resolve(router)  # the first request once Redis is back, no beat yet

    assert refused.status_code == 401, refused.content
    assert not UnpublishedInvalidation.objects.exists()


def test_with_nothing_missed_publishing_changes_nothing(real_redis, ml_engineer, live):
    router = bearer(ml_engineer)
    assert resolve(router).status_code == 200
    epoch = routing_cache.current_epoch()

    assert publish_pending_invalidations() == 0
    assert routing_cache.current_epoch() == epoch
