"""The change stream (``routing.stream``) served by its ASGI process on loopback, on real Redis: every kind of
change reaches a subscriber as the new entries of the features it changed, signed for the subscriber, with
the version the snapshot endpoint then gives; evidence going stale is pushed when it happens; a revoked
token is told and its stream ends; nothing of a feature a subscriber may not see ever reaches it; and the
library follows the stream, so a change reaches its in-process answers without a poll."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from gatehouse_client import Client
from gatehouse_client.local import LocalResolver, Revoked
from incidents.services import incident_open
from registry.models import ApiToken, Evaluation
from registry.services import deployment_rollback, deployment_withdraw, feature_update
from registry.services.tokens import api_token_create, api_token_revoke
from routing import cache
from routing.services import catalog_status_change
from tests.freshness.test_worker_integration import broker  # noqa: F401  (a fixture redis_cache uses)
from tests.routing.conftest import bearer
from tests.routing.stream_helpers import Subscriber, serve, signed_by
from tests.routing.test_redis_cache import redis_cache as on_redis  # noqa: F401  (announcements through Redis)

pytestmark = pytest.mark.django_db(transaction=True)

SNAPSHOT = "/api/v1/routing/snapshot/"
STREAM = "/api/v1/routing/stream/"


@pytest.fixture
def stream_url(live_server):
    url, stop = serve(live_server.url)
    yield url
    stop()


@pytest.fixture
def subscribe(stream_url):
    opened = []

    def make(user, **options):
        _, raw = api_token_create(actor=user, user=user, name=f"router-{len(opened)}", **options)
        subscriber = Subscriber(stream_url, raw)
        subscriber.raw = raw
        opened.append(subscriber)
        return subscriber

    yield make
    for subscriber in opened:
        subscriber.close()


def answers(body: dict, slug: str = "claims-triage") -> dict:
    return {entry["region"]: entry for entry in body["features"][slug]}


def snapshot_version(user) -> str:
    return bearer(user).get(SNAPSHOT).json()["version"]


def test_every_kind_of_change_reaches_a_subscriber_signed_with_the_snapshots_version(
    on_redis,
    subscribe,
    live,
    feature,
    new_version,
    go_live,
    pins,
    eu,
    ml_engineer,
    product_owner,
    governance_admin,
    support_agent,
):
    subscriber = subscribe(ml_engineer)
    assert subscriber.status == 200
    name, hello = subscriber.next()
    assert name == "hello" and hello["version"] == snapshot_version(ml_engineer)
    assert signed_by(hello, subscriber.raw)

    def next_change() -> dict:
        body = subscriber.next_changes()
        assert signed_by(body, subscriber.raw)
        assert body["version"] == snapshot_version(ml_engineer)  # applied, the router holds the snapshot's version
        return answers(body)

    # A promotion.
    second = new_version(summary="Second release.")
    go_live(second)
    changed = next_change()
    assert {region: entry["answer"]["version"]["number"] for region, entry in changed.items()} == {"eu": 2, "us": 2}

    # A rollback.
    deployment_rollback(
        actor=product_owner,
        feature=feature,
        environment="production",
        region=eu,
        to_version=live,
        reason="v2 misroutes.",
    )
    assert next_change()["eu"]["answer"]["version"]["number"] == 1

    # A suspension: the fallback serves.
    catalog_status_change(actor=governance_admin, vendor=pins["model"].vendor, suspend=True, reason="Breach.")
    assert next_change()["eu"]["answer"]["model"]["identifier"] == "mistral-large"

    # An incident's freeze.
    incident_open(
        actor=support_agent,
        feature=feature,
        environment="production",
        region=eu,
        severity="sev2",
        impact_start=timezone.now(),
        title="Slow answers",
        description="Timeouts.",
    )
    assert next_change()["eu"]["answer"]["frozen"] is True

    # A withdrawal.
    deployment_withdraw(actor=product_owner, feature=feature, environment="production", region=eu, reason="Down.")
    withdrawn = next_change()["eu"]
    assert (withdrawn["status"], withdrawn["answer"]["code"]) == (409, "withdrawn")


def test_evidence_going_stale_is_pushed_when_it_happens(on_redis, subscribe, live, ml_engineer):
    # Benchmark evidence under a 90-day rule that goes stale in 3 seconds.
    Evaluation.objects.filter(version=live, kind="benchmark").update(
        run_at=timezone.now() - timedelta(days=91) + timedelta(seconds=3)
    )
    cache.invalidate()
    subscriber = subscribe(ml_engineer)
    assert subscriber.next()[0] == "hello"
    body = subscriber.next_changes(timeout=20)  # no commit: the stream knew when
    eu = answers(body)["eu"]
    assert any("Benchmark evidence is stale" in warning for warning in eu["answer"]["warnings"])
    assert eu["valid_until"] is None or eu["valid_until"] > timezone.now().isoformat()  # the next moment, not this
    assert body["version"] == snapshot_version(ml_engineer)


def test_a_revoked_token_is_told_and_its_stream_ends(on_redis, subscribe, live, ml_engineer):
    subscriber = subscribe(ml_engineer)
    assert subscriber.next()[0] == "hello"
    api_token_revoke(actor=ml_engineer, token=ApiToken.objects.get(name="router-0"))
    name, body = subscriber.next()
    assert name == "revoked" and body["code"] == "authentication_failed" and signed_by(body, subscriber.raw)
    assert subscriber.ended.wait(10)


def test_nothing_of_a_feature_a_subscriber_may_not_see_reaches_it(
    on_redis, subscribe, live, feature, eu, product_owner, ml_engineer, other_product_owner
):
    feature_update(actor=product_owner, feature=feature, reason="Holds claims data.", restricted=True)
    outsider, insider = subscribe(other_product_owner), subscribe(ml_engineer)
    assert outsider.next()[0] == "hello"
    assert insider.next()[0] == "hello"

    deployment_withdraw(actor=product_owner, feature=feature, environment="production", region=eu, reason="Down.")
    assert answers(insider.next_changes())["eu"]["status"] == 409

    # The outsider's next event is its own token's revocation: nothing about the feature came before it.
    api_token_revoke(actor=other_product_owner, token=ApiToken.objects.get(name="router-0"))
    name, body = outsider.next()
    assert name == "revoked"
    assert "claims-triage" not in str(body)


def test_the_library_follows_the_stream_without_polling(
    on_redis, stream_url, live_server, live, feature, eu, ml_engineer, product_owner
):
    _, raw = api_token_create(actor=ml_engineer, user=ml_engineer, name="router", scopes=["resolve"])
    local = LocalResolver(
        Client(live_server.url, raw, cache_seconds=0, timeout=5), stream_url=stream_url, refresh_seconds=3600
    )
    try:
        assert local.resolve("claims-triage", "eu")["version"]["number"] == 1
        deadline = time.monotonic() + 15
        while not local.streaming and time.monotonic() < deadline:
            time.sleep(0.05)
        assert local.streaming

        deployment_withdraw(actor=product_owner, feature=feature, environment="production", region=eu, reason="Down.")
        while local.changes_applied == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(Exception) as withdrawn:
            local.resolve("claims-triage", "eu")
        assert getattr(withdrawn.value, "code", None) == "withdrawn"  # from the stream: the next poll is an hour away
        assert local.resolve("claims-triage", "us")["version"]["number"] == 1

        api_token_revoke(actor=ml_engineer, token=ApiToken.objects.get(name="router"))
        while local.revoked is None and time.monotonic() < deadline + 10:
            time.sleep(0.05)
        with pytest.raises(Revoked):  # a revoked token stops serving at once, whatever the outage policy
            local.resolve("claims-triage", "us")
    finally:
        local.close()


def test_without_redis_the_stream_follows_the_routing_generation(
    subscribe, live, feature, eu, ml_engineer, product_owner
):
    subscriber = subscribe(ml_engineer)
    assert subscriber.next()[0] == "hello"
    deployment_withdraw(actor=product_owner, feature=feature, environment="production", region=eu, reason="Down.")
    assert answers(subscriber.next_changes())["eu"]["status"] == 409


def test_the_stream_asks_for_a_token_that_may_resolve_and_its_process(client, live, ml_engineer):
    assert client.get(STREAM).status_code == 401
    assert bearer(ml_engineer, scopes=["ci_write"]).get(STREAM).status_code == 403
    # Through the WSGI server (gunicorn): the stream is the stream process's; the snapshot stays pollable.
    refused = bearer(ml_engineer).get(STREAM)
    assert (refused.status_code, refused.json()["code"]) == (503, "stream_unavailable")
