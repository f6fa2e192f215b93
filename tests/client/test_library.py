"""``gatehouse_client.Client`` against a live Gatehouse: resolve with its cache, errors by their stable code,
an unreachable server, and the decision ledger in batches."""

import socket

import pytest

from gatehouse_client import Client, GatehouseError, Unreachable
from registry.services.tokens import api_token_create
from routing.models import DecisionRecord

pytestmark = pytest.mark.django_db(transaction=True)


def token_for(user, *scopes):
    _, raw = api_token_create(actor=user, user=user, name="router", scopes=list(scopes) or ["resolve"])
    return raw


def test_resolve_answers_and_keeps_the_answer_for_its_cache_time(live_server, live, ml_engineer):
    client = Client(live_server.url, token_for(ml_engineer), cache_seconds=300)

    answer = client.resolve("claims-triage", "eu")

    assert answer["model"]["identifier"] == "claude-sonnet-4"
    assert answer["version"]["number"] == 1
    assert answer["decision"]
    # The cached answer is the same object: no second call.
    assert client.resolve("claims-triage", "eu") is answer
    assert client.resolve("claims-triage", "eu", use_cache=False) is not answer
    # Without a cache, every call asks.
    uncached = Client(live_server.url, token_for(ml_engineer), cache_seconds=0)
    assert uncached.resolve("claims-triage", "eu") is not uncached.resolve("claims-triage", "eu")


def test_errors_carry_the_apis_stable_code(live_server, live, ml_engineer, uk):
    client = Client(live_server.url, token_for(ml_engineer))

    with pytest.raises(GatehouseError) as refused:
        client.resolve("claims-triage", "uk")  # nothing live there
    assert refused.value.status == 409
    assert refused.value.code == "no_eligible_route"

    with pytest.raises(GatehouseError) as missing:
        client.resolve("no-such-feature", "eu")
    assert (missing.value.status, missing.value.code) == (404, "not_found")

    with pytest.raises(GatehouseError) as bad_token:
        Client(live_server.url, "gh_not-a-token").resolve("claims-triage", "eu")
    assert bad_token.value.status == 401
    assert bad_token.value.code == "authentication_failed"


def test_an_unreachable_gatehouse_is_an_error_of_its_own():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(Unreachable) as error:
        Client(f"http://127.0.0.1:{port}", "gh_x", timeout=2).resolve("claims-triage", "eu")
    assert error.value.code == "unreachable"
    assert error.value.status is None


def test_decisions_go_to_the_ledger_and_are_looked_up(live_server, live, ml_engineer):
    client = Client(live_server.url, token_for(ml_engineer), cache_seconds=0)
    tokens = [client.resolve("claims-triage", region)["decision"] for region in ("eu", "us")]

    summary = client.record_decisions(
        [{"request_id": "req-1", "decision": tokens[0]}, {"request_id": "req-2", "decision": tokens[1]}]
    )
    again = client.record_decisions([{"request_id": "req-1", "decision": tokens[0]}])

    assert summary == {"received": 2, "recorded": 2, "duplicates": 0}
    assert again == {"received": 1, "recorded": 0, "duplicates": 1}
    assert set(DecisionRecord.objects.values_list("request_id", flat=True)) >= {"req-1", "req-2"}
    looked_up = client.decision(tokens[1])
    assert looked_up["region"] == "us" and looked_up["outcome"] == "served"
