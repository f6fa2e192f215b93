"""No expiry cliff and no unbounded growth (issue 16): answers are renewed ahead of expiry by one request
while the others keep being served, an answer never outlives its evidence, and slugs or regions that name
nothing add no key of their own to the shared cache. Time is a mocked clock: nothing sleeps."""

import time
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache as shared_cache
from django.test import override_settings
from django.utils import timezone

from registry.models import Evaluation
from routing import cache, middleware, services
from routing.engine import UnknownTarget
from tests.routing.conftest import resolve
from tests.routing.test_cache import queries

pytestmark = pytest.mark.django_db(transaction=True)

KEY = ("production", "claims-triage", "eu")


class Clock:
    """``time.monotonic``, ``time.time`` and ``timezone.now`` as the routing modules see them, moved
    forward at will."""

    def __init__(self):
        self.offset = 0.0
        self._now = timezone.now

    def monotonic(self):
        return time.monotonic() + self.offset

    def time(self):
        return time.time() + self.offset

    def now(self):
        return self._now() + timedelta(seconds=self.offset)

    def advance(self, seconds):
        self.offset += seconds


class Highest:
    """``random.uniform`` at its upper bound: a life of exactly ``ROUTING_CACHE_SECONDS``, renewed at 90 %."""

    @staticmethod
    def uniform(low, high):
        return high


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    for module in (cache, services, middleware):
        monkeypatch.setattr(module, "time", clock)
    monkeypatch.setattr(services, "timezone", clock)  # services calls timezone.now()
    monkeypatch.setattr(cache, "random", Highest)
    with override_settings(ROUTING_CACHE_SECONDS=300):
        yield clock


@pytest.fixture
def computations(monkeypatch):
    """How many times decisions were computed from the database."""
    calls = []
    real = services._compute

    def counted(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_compute", counted)
    return calls


def test_an_answer_near_expiry_is_served_and_renewed_by_one_request(router, live, clock, computations):
    assert resolve(router).status_code == 200
    assert len(computations) == 1

    clock.advance(280)  # past the renewal point (270 s), before expiry (300 s)
    answers = [resolve(router) for _ in range(5)]
    assert [answer.status_code for answer in answers] == [200] * 5
    assert len(computations) == 2, "one request renews the answer; the others are served from memory"

    clock.advance(100)  # past the first answer's expiry: the renewed one is served, nothing is computed
    cost, answer = queries(router)
    assert (cost, answer.status_code) == (0, 200)
    assert len(computations) == 2


def test_while_another_process_renews_an_answer_every_request_is_served_the_current_one(
    router, live, clock, computations
):
    resolve(router)
    epoch, _ = cache.current_stamps("claims-triage")
    clock.advance(280)
    assert cache.claim_renewal(epoch, KEY), "another process takes the renewal"
    for _ in range(5):
        cost, answer = queries(router)
        assert (cost, answer.status_code) == (0, 200)
    assert len(computations) == 1

    services.decisions_warm(now=clock.now())  # the other process renews and shares the decisions
    clock.advance(cache.RENEW_LOCK_SECONDS + 1)  # this process looks in the shared cache again
    cost, answer = queries(router)
    assert (cost, answer.status_code) == (0, 200)
    clock.advance(100)  # past the first answer's expiry: the one the other process renewed is served
    cost, answer = queries(router)
    assert (cost, answer.status_code) == (0, 200)
    assert len(computations) == 1


def test_an_answer_is_never_served_past_the_moment_its_evidence_goes_stale(router, live, clock, computations):
    # Benchmark evidence 90 days old under a 90-day rule goes stale in 30 seconds.
    Evaluation.objects.filter(version=live, kind="benchmark").update(
        run_at=timezone.now() - timedelta(days=91) + timedelta(seconds=30)
    )
    cache.invalidate()
    assert resolve(router).json()["warnings"] == []

    clock.advance(25)  # in the last part of its life, but renewing it early would change nothing
    assert resolve(router).json()["warnings"] == []
    assert len(computations) == 1

    clock.advance(10)  # the evidence is stale now: computed again, never served from memory or Redis
    answer = resolve(router).json()
    assert len(computations) == 2
    assert any("Benchmark evidence is stale" in warning for warning in answer["warnings"])


def keys_in_shared_cache() -> int:
    return len(shared_cache._cache)  # LocMemCache: every key, expired or not


def test_random_slugs_and_regions_add_a_bounded_number_of_keys_to_the_shared_cache(router, live, ml_engineer):
    resolve(router)
    resolve(router, feature="no-such-feature")  # the shared stamp of unknown targets is made once
    before = keys_in_shared_cache()
    for _ in range(1000):
        with pytest.raises(UnknownTarget):
            services.resolve(user=ml_engineer, feature_slug=uuid.uuid4().hex, region_code="eu")
        with pytest.raises(UnknownTarget):
            services.resolve(user=ml_engineer, feature_slug="claims-triage", region_code=uuid.uuid4().hex[:8])
    assert keys_in_shared_cache() - before <= 2


def test_an_unknown_slug_is_answered_from_memory_and_a_feature_created_under_it_is_seen(
    router, live, feature, eu, product_owner
):
    from registry.models import Deployment
    from tests.factories import FeatureFactory

    assert resolve(router, feature="fraud-check").status_code == 404
    cost, answer = queries(router, feature="fraud-check")
    assert (cost, answer.status_code) == (0, 404), "an unknown slug asked again costs no query"

    other = FeatureFactory(slug="fraud-check", name="Fraud check", team=feature.team, risk_tier=feature.risk_tier)
    Deployment.objects.create(feature=other, environment="production", region=eu, version=live,
                              updated_at=timezone.now(), updated_by=product_owner)
    cache.invalidate_features(["fraud-check"])  # as a rename to this slug would: unknown answers go too
    shared_cache.delete(cache.FEATURE_KEY + "fraud-check")  # and its stamp lapsed: read as unknown again
    assert resolve(router, feature="fraud-check").status_code == 200
