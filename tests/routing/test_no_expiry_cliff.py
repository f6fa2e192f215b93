"""No expiry cliff and no unbounded growth (issue 16): a decision is kept until its feature or the
registry changes (or its evidence goes stale), not for a fixed time, so nothing is recomputed in waves
after a warm-up; stamps made together lapse apart; and slugs or regions that name nothing add no key of
their own to the shared cache. Time is a mocked clock: nothing sleeps."""

import time
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache as shared_cache
from django.core.cache.backends import locmem
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


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    for module in (cache, services, middleware, locmem):  # locmem: the shared cache's expiry too
        monkeypatch.setattr(module, "time", clock)
    monkeypatch.setattr(services, "timezone", clock)  # services calls timezone.now()
    with override_settings(ROUTING_CACHE_SECONDS=300):
        yield clock


@pytest.fixture
def computations(monkeypatch):
    """How many times decisions were computed from the database, from a cold start (the worker warmed the
    promotion's decisions at its commit: a new epoch leaves them behind)."""
    cache.invalidate()
    calls = []
    real = services._compute

    def counted(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_compute", counted)
    return calls


def test_an_answer_is_served_from_memory_for_hours_when_nothing_changes(router, live, clock, computations):
    assert resolve(router).status_code == 200
    assert len(computations) == 1
    for _ in range(12):  # six hours, far past ROUTING_CACHE_SECONDS: no wave of recomputation ever comes
        clock.advance(1800)
        cost, answer = queries(router)
        assert (cost, answer.status_code) == (0, 200)
    assert len(computations) == 1


def test_a_change_to_the_feature_is_seen_at_once_however_long_the_answer_was_kept(router, live, clock, computations):
    resolve(router)
    clock.advance(3600)
    cache.invalidate_features(["claims-triage"])  # what a promotion, rollback or incident publishes
    assert resolve(router).status_code == 200
    assert len(computations) == 2


def test_a_process_keeps_what_it_took_from_the_shared_cache_after_the_shared_copy_is_gone(
    router, live, clock, computations
):
    resolve(router)  # computed here and shared
    cache.decisions.clear()  # another process, which computed nothing itself
    cost, answer = queries(router)
    assert (cost, answer.status_code) == (0, 200), "taken from the shared cache"

    clock.advance(301)  # the shared copy lapsed (ROUTING_CACHE_SECONDS): this process still has its own
    epoch, stamp = cache.current_stamps("claims-triage")
    assert cache.shared_get(epoch, KEY, stamp) is None
    cost, answer = queries(router)
    assert (cost, answer.status_code) == (0, 200)
    assert len(computations) == 1


def test_an_answer_for_an_unknown_feature_keeps_a_short_life(router, live, clock, computations):
    assert resolve(router, feature="no-such-feature").status_code == 404
    clock.advance(299)
    assert resolve(router, feature="no-such-feature").status_code == 404
    assert len(computations) == 1, "answered from memory"
    clock.advance(2)
    assert resolve(router, feature="no-such-feature").status_code == 404
    assert len(computations) == 2, "a region or feature made behind the app's back is seen within minutes"


def test_stamps_made_together_lapse_hours_apart(db):
    stamps = cache.feature_stamps([f"feature-{number}" for number in range(200)])
    assert len(stamps) == 200
    store = shared_cache._expire_info
    ends = [store[shared_cache.make_key(cache.FEATURE_KEY + slug)] for slug in stamps]
    spread = max(ends) - min(ends)
    assert spread > 6 * 3600, f"a warm-up's stamps lapse {spread / 3600:.1f} h apart: a wave of recomputation"
    assert max(ends) - time.time() <= cache.STAMP_SECONDS + 1


def test_an_answer_is_never_served_past_the_moment_its_evidence_goes_stale(router, live, clock, computations):
    # Benchmark evidence 90 days old under a 90-day rule goes stale in 30 seconds.
    Evaluation.objects.filter(version=live, kind="benchmark").update(
        run_at=timezone.now() - timedelta(days=91) + timedelta(seconds=30)
    )
    cache.invalidate()
    assert resolve(router).json()["warnings"] == []

    clock.advance(25)
    assert resolve(router).json()["warnings"] == []
    assert len(computations) == 1

    clock.advance(10)  # the evidence is stale now: computed again, never served from memory or Redis
    answer = resolve(router).json()
    assert len(computations) == 2
    assert any("Benchmark evidence is stale" in warning for warning in answer["warnings"])


def keys_in_shared_cache() -> int:
    return len(shared_cache._cache)  # LocMemCache: every key, expired or not


@pytest.mark.slow
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
    Deployment.objects.create(
        feature=other,
        environment="production",
        region=eu,
        version=live,
        updated_at=timezone.now(),
        updated_by=product_owner,
    )
    cache.invalidate_features(["fraud-check"])  # as a rename to this slug would: unknown answers go too
    shared_cache.delete(cache.FEATURE_KEY + "fraud-check")  # and its stamp lapsed: read as unknown again
    assert resolve(router, feature="fraud-check").status_code == 200
