"""The routing snapshot: every live route's decision as resolve would answer it, for the features the token
may resolve; a version that changes only when an answer does (ETag, 304); a signature the token's holder can
check; and the new answer after each kind of change."""

import hashlib
import hmac
import json

import pytest

from registry.services import deployment_withdraw, feature_update
from registry.services.tokens import api_token_create
from tests.routing.conftest import bearer, resolve

pytestmark = pytest.mark.django_db(transaction=True)

SNAPSHOT = "/api/v1/routing/snapshot/"


def routes(body):
    return {(entry["environment"], entry["feature"], entry["region"]): entry for entry in body["entries"]}


def test_each_entry_is_what_resolve_answers(router, live):
    body = router.get(SNAPSHOT).json()
    assert set(routes(body)) == {("production", "claims-triage", "eu"), ("production", "claims-triage", "us")}
    for (environment, feature, region), entry in routes(body).items():
        answer = resolve(router, feature=feature, region=region, environment=environment).json()
        assert entry["status"] == 200
        assert entry["answer"] == {k: v for k, v in answer.items() if k not in ("decision", "resolved_at")}
        # Its decision token is one the server looks up.
        looked_up = router.get(f"/api/v1/decisions/{entry['decision']}/")
        assert looked_up.status_code == 200 and looked_up.json()["version"] == live.number


def test_an_unchanged_snapshot_answers_304_and_a_change_a_new_version(router, live, feature, product_owner, eu):
    first = router.get(SNAPSHOT)
    assert first["ETag"] == f'"{first.json()["version"]}"'
    again = router.get(SNAPSHOT, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""

    deployment_withdraw(actor=product_owner, feature=feature, environment="production", region=eu, reason="Down.")
    changed = router.get(SNAPSHOT, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed.json()["version"] != first.json()["version"]
    entry = routes(changed.json())[("production", "claims-triage", "eu")]
    assert entry["status"] == 409 and entry["answer"]["code"] == "withdrawn"
    assert routes(changed.json())[("production", "claims-triage", "us")]["status"] == 200


def _signature_holds(raw, body):
    """Whether the body's signature is the HMAC-SHA256, keyed with the token's SHA-256 (hex), of the canonical
    JSON of its version, time and entries: what a token's holder checks."""
    payload = json.dumps(
        {name: body[name] for name in ("version", "generated_at", "entries")},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    key = hashlib.sha256(raw.encode()).hexdigest().encode()
    return hmac.compare_digest(body["signature"], hmac.new(key, payload, hashlib.sha256).hexdigest())


def test_the_signature_is_keyed_with_the_tokens_digest(ml_engineer, live):
    _, raw = api_token_create(actor=ml_engineer, user=ml_engineer, name="router", scopes=["resolve"])
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = client.get(SNAPSHOT).json()
    assert _signature_holds(raw, body)
    body["entries"][0]["answer"]["model"]["identifier"] = "something-else"
    assert not _signature_holds(raw, body)


def test_each_token_gets_the_kept_snapshot_signed_with_its_own_key(ml_engineer, product_owner, live):
    from rest_framework.test import APIClient

    bodies = {}
    for user, name in ((ml_engineer, "router-a"), (ml_engineer, "router-b"), (product_owner, "router-c")):
        _, raw = api_token_create(actor=user, user=user, name=name, scopes=["resolve"])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        for _ in range(2):  # the second fetch is of the kept document, prepared once
            response = client.get(SNAPSHOT)
            assert response.status_code == 200 and response["Content-Type"] == "application/json"
            body = response.json()
            assert _signature_holds(raw, body), name
            bodies.setdefault(raw, []).append(body)
    versions = {body["version"] for fetched in bodies.values() for body in fetched}
    signatures = {body["signature"] for fetched in bodies.values() for body in fetched}
    assert len(versions) == 1 and len(signatures) == 3  # one document, one signature per token
    assert all(len(body["entries"]) == 2 for fetched in bodies.values() for body in fetched)


def test_a_token_sees_only_what_it_may_resolve(live, feature, ml_engineer, other_product_owner, product_owner):
    feature_update(actor=product_owner, feature=feature, reason="Holds claims data.", restricted=True)
    outsider = bearer(other_product_owner)
    assert outsider.get(SNAPSHOT).json()["entries"] == []  # no trace of the restricted feature
    assert len(bearer(ml_engineer).get(SNAPSHOT).json()["entries"]) == 2  # its team's ML engineer
    # A token that may not resolve gets no snapshot.
    assert bearer(ml_engineer, scopes=["ci_write"]).get(SNAPSHOT).status_code == 403


def test_an_unchanged_snapshot_is_kept_not_computed_again(router, live, feature, product_owner, eu):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = router.get(SNAPSHOT).json()
    with CaptureQueriesContext(connection) as queries:
        again = router.get(SNAPSHOT, HTTP_IF_NONE_MATCH=f'"{first["version"]}"')
    assert again.status_code == 304
    # the token's check and the caller's visibility: no decision computed
    assert len(queries) <= 3, [query["sql"] for query in queries]
    deployment_withdraw(actor=product_owner, feature=feature, environment="production", region=eu, reason="Down.")
    assert router.get(SNAPSHOT).json()["version"] != first["version"]  # the change renewed the generation


def _other_live_feature(team):
    """A second feature, live in production in eu (written directly: its routes are read, not changed)."""
    from tests.registry.test_home_bounded import _live_features

    return _live_features(team, 1)[0]


def _without_tokens(body):
    return [{k: v for k, v in entry.items() if k != "decision"} for entry in body["entries"]]


def test_after_a_change_only_the_changed_features_routes_are_decided_again(
    router, live, feature, product_owner, team, eu
):
    """A change renews the generation, but the next snapshot decides again only the features whose stamp
    changed: the others' entries are taken as they were (their tokens too), and the document is the one
    computing everything would give."""
    from django.utils import timezone

    from routing import snapshot

    other = _other_live_feature(team)
    first = routes(router.get(SNAPSHOT).json())

    deployment_withdraw(actor=product_owner, feature=feature, environment="production", region=eu, reason="Down.")
    body = router.get(SNAPSHOT).json()
    second = routes(body)

    assert second[("production", other.slug, "eu")] == first[("production", other.slug, "eu")]  # kept as it was
    assert second[("production", "claims-triage", "eu")]["status"] == 409  # decided again
    everything, _digests = snapshot._whole(timezone.now(), snapshot.visible_for(None))
    assert _without_tokens(body) == _without_tokens(everything) and body["version"] == everything["version"]


def test_a_new_epoch_decides_every_route_again(router, live, team):
    from routing import cache

    other = _other_live_feature(team)
    first = routes(router.get(SNAPSHOT).json())

    cache.renew_epoch()
    second = routes(router.get(SNAPSHOT).json())

    key = ("production", other.slug, "eu")
    assert second[key]["decision"] != first[key]["decision"]  # decided again: a new token
    assert {k: v for k, v in second[key].items() if k != "decision"} == {
        k: v for k, v in first[key].items() if k != "decision"
    }


def test_a_description_that_names_another_document_is_not_used(router, live, feature, product_owner, team, eu):
    """Two processes renewing at once can leave one's stamps beside the other's document: then everything
    is decided again rather than entries taken under stamps they were not computed with."""
    from django.core.cache import cache as shared

    from routing import snapshot

    other = _other_live_feature(team)
    first = routes(router.get(SNAPSHOT).json())
    base_key = snapshot.BASE_KEY.format(part=snapshot._key_part(()))  # the router sees no restricted feature
    base = shared.get(base_key)
    shared.set(base_key, {**base, "document": ("another version", base["document"][1])}, 60)

    deployment_withdraw(actor=product_owner, feature=feature, environment="production", region=eu, reason="Down.")
    second = routes(router.get(SNAPSHOT).json())

    other_key = ("production", other.slug, "eu")
    assert second[other_key]["decision"] != first[other_key]["decision"]  # decided again, not taken
