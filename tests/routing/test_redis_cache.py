"""Resolve's cache on the real shared cache, Redis (the other routing tests use process memory): the
stamps and shared decisions go through a client of its own, which must see what Django's cache writes."""

import json
import time

import pytest
from django.core.cache import cache as shared_cache
from django.core.cache import caches
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
    another_process_announces(["claims-triage"])
    recomputed, _ = queries(router)
    assert recomputed > 0
    assert shared_cache.get(cache.FEATURE_KEY + "claims-triage") == "written-elsewhere"
    assert cache.current_stamps("claims-triage")[1] == "written-elsewhere"


# --- The stamp mirror: no round trip per answer while nothing changed ------------------------------


def redis_url():
    return caches["default"]._servers[0]


def channel():
    client, _ = cache._redis(caches["default"])
    return cache.changes_channel(client)


def mirror_live(timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cache.mirror.following(redis_url(), channel()):
        assert time.monotonic() < deadline, "the stamp mirror never subscribed"
        time.sleep(0.01)


def another_process_announces(features) -> None:
    """What ``routing.cache.announce`` does in another process: the message only (this process's mirror
    learns of it from the channel, as it would), then the time for it to arrive."""
    heard = cache.mirror.heard
    client, _ = cache._redis(caches["default"])
    client.publish(channel(), json.dumps({"features": features, "at": time.time()}))
    deadline = time.monotonic() + 5
    while cache.mirror.heard == heard:
        assert time.monotonic() < deadline, "the announcement never reached the mirror"
        time.sleep(0.005)


@pytest.fixture
def redis_reads(monkeypatch):
    """How many times this process asked Redis for routing keys."""
    calls = []
    original = cache._get_many
    monkeypatch.setattr(cache, "_get_many", lambda keys: calls.append(list(keys)) or original(keys))
    return calls


def test_a_cached_answer_costs_no_redis_round_trip_while_nothing_changes(redis_cache, router, live, redis_reads):
    mirror_live()
    resolve(router)  # computes; the epoch and the feature's stamp are read once and kept
    redis_reads.clear()
    for _ in range(20):
        assert resolve(router).status_code == 200
    assert redis_reads == []


def test_a_change_made_here_is_seen_at_once_and_one_made_elsewhere_once_announced(
    redis_cache, router, live, new_version, go_live
):
    mirror_live()
    assert resolve(router).json()["version"]["number"] == 1
    go_live(new_version(summary="Second release."))  # this process forgets the stamp before announcing it
    assert resolve(router).json()["version"]["number"] == 2

    # Another process renews the epoch: until its announcement arrives this process keeps what it read
    # (as a request that read the epoch a moment earlier would), and then reads the new one.
    shared_cache.set(cache.EPOCH_KEY, "renewed-elsewhere", timeout=None)
    assert cache.current_epoch() != "renewed-elsewhere"
    another_process_announces(None)
    assert cache.current_epoch() == "renewed-elsewhere"


def test_a_read_in_flight_when_a_change_is_announced_keeps_nothing():
    from routing.mirror import StampMirror

    mirror = StampMirror(feature_prefix="f:", unknown_key="u", access_key="a")
    mirror._following = "redis://test"
    seq, found = mirror.get(["f:a"])
    assert found == {}
    mirror.forget(["a"])  # heard while the read was at Redis: what it brings back may be the old stamp
    mirror.keep({"f:a": "old"}, seq)
    assert mirror.get(["f:a"])[1] == {}
    seq, _ = mirror.get(["f:a"])
    mirror.keep({"f:a": "new"}, seq)
    assert mirror.get(["f:a"])[1] == {"f:a": "new"}
    mirror.forget(["b"])  # another feature's change: this one's stamp stays
    assert mirror.get(["f:a"])[1] == {"f:a": "new"}
    seq, _ = mirror.get(["a", "u"])
    mirror.keep({"a": "access", "u": "unknown"}, seq)
    mirror.forget([], access=True)  # who may ask changed: the access stamp goes, the stamps stay
    assert mirror.get(["a", "u", "f:a"])[1] == {"u": "unknown", "f:a": "new"}


def test_a_lost_subscription_sends_reads_to_redis_until_it_is_back(redis_cache, router, live, redis_reads):
    import redis

    mirror_live()
    resolve(router)
    admin = redis.Redis.from_url(redis_url())
    try:
        admin.client_kill_filter(_type="pubsub")
        deadline = time.monotonic() + 5
        while cache.mirror._following is not None:  # the thread sees its connection closed
            assert time.monotonic() < deadline, "the mirror kept serving after its subscription was lost"
            time.sleep(0.01)
        redis_reads.clear()
        resolve(router)
        assert redis_reads, "a read while not subscribed must go to Redis"
        mirror_live()  # it subscribes again by itself
    finally:
        admin.close()
    resolve(router)
    redis_reads.clear()
    resolve(router)
    assert redis_reads == []
