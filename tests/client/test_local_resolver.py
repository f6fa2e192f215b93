"""``gatehouse_client.local.LocalResolver`` against a live Gatehouse: in-process answers equal the server's,
changes arrive with the next refresh, the answers it gave reach the decision ledger, and when Gatehouse
stops answering it keeps serving for the time it is given, then fails closed or serves with a warning."""

import socket
import time

import pytest

from gatehouse_client import Client, GatehouseError
from gatehouse_client.local import LocalResolver, SnapshotStale
from registry.services import deployment_withdraw
from registry.services.tokens import api_token_create
from routing.models import DecisionRecord

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(live_server, user) -> Client:
    _, raw = api_token_create(actor=user, user=user, name="router", scopes=["resolve"])
    return Client(live_server.url, raw, cache_seconds=0, timeout=2)


def dead_url() -> str:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def without_time(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k not in ("decision", "resolved_at", "request_id")}


def test_in_process_answers_equal_the_servers(live_server, live, ml_engineer, uk):
    client = client_for(live_server, ml_engineer)
    local = LocalResolver(client, start=False)
    local.refresh()
    assert local.routes() == [("production", "claims-triage", "eu"), ("production", "claims-triage", "us")]
    for environment, feature, region in local.routes():
        mine = local.resolve(feature, region, environment)
        assert without_time(mine) == without_time(client.resolve(feature, region, environment))
        assert client.decision(mine["decision"])["version"] == live.number  # a token the server looks up
    # A route never live is the server's own answer (one call), refusal and all.
    with pytest.raises(GatehouseError) as refused:
        local.resolve("claims-triage", "uk")
    assert (refused.value.status, refused.value.code) == (409, "no_eligible_route")
    with pytest.raises(GatehouseError) as missing:
        local.resolve("no-such-feature", "eu")
    assert (missing.value.status, missing.value.code) == (404, "not_found")


def test_a_change_arrives_with_the_next_refresh_and_the_answers_reach_the_ledger(
    live_server, live, ml_engineer, feature, product_owner, eu
):
    local = LocalResolver(client_for(live_server, ml_engineer), start=False)
    answer = local.resolve("claims-triage", "eu", request_id="req-1")
    assert answer["request_id"] == "req-1" and answer["version"]["number"] == live.number
    assert local.refresh() is False  # unchanged: a 304

    deployment_withdraw(actor=product_owner, feature=feature, environment="production", region=eu, reason="Down.")
    assert local.refresh() is True
    with pytest.raises(GatehouseError) as withdrawn:
        local.resolve("claims-triage", "eu")
    assert (withdrawn.value.status, withdrawn.value.code) == (409, "withdrawn")
    local.resolve("claims-triage", "us", request_id="req-2")

    assert local.flush() == 2
    recorded = dict(DecisionRecord.objects.values_list("request_id", "region__code"))
    assert recorded == {"req-1": "eu", "req-2": "us"}


def test_an_outage_is_served_through_then_fails_closed(live_server, live, ml_engineer):
    local = LocalResolver(client_for(live_server, ml_engineer), serve_stale_seconds=60, start=False)
    local.refresh()
    local.client.url = dead_url()  # Gatehouse stops answering
    with pytest.raises(GatehouseError):
        local.refresh()
    assert local.resolve("claims-triage", "eu")["model"]["identifier"] == "claude-sonnet-4"  # within 60 s
    local.last_contact = time.monotonic() - 61  # a minute later, still nothing
    with pytest.raises(SnapshotStale) as stale:
        local.resolve("claims-triage", "eu")
    assert stale.value.code == "snapshot_stale"
    with pytest.raises(GatehouseError):  # the ledger keeps what it could not send
        local.flush()
    assert len(local._pending) == 1

    local.client.url = live_server.url  # back: it catches up at the next refresh
    local.refresh()
    assert local.resolve("claims-triage", "eu")["version"]["number"] == live.number
    assert local.flush() == 2


def test_the_serve_policy_keeps_answering_with_a_warning(live_server, live, ml_engineer):
    local = LocalResolver(client_for(live_server, ml_engineer), serve_stale_seconds=60, when_stale="serve", start=False)
    local.refresh()
    local.client.url = dead_url()
    local.last_contact = time.monotonic() - 120
    answer = local.resolve("claims-triage", "eu")
    assert answer["model"]["identifier"] == "claude-sonnet-4"
    assert any("Gatehouse cannot be reached" in warning for warning in answer["warnings"])


def test_the_background_thread_follows_changes(live_server, live, ml_engineer, feature, product_owner, eu):
    local = LocalResolver(client_for(live_server, ml_engineer), refresh_seconds=0.2)
    try:
        assert local.resolve("claims-triage", "eu")["version"]["number"] == live.number
        deployment_withdraw(actor=product_owner, feature=feature, environment="production", region=eu, reason="x")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                local.resolve("claims-triage", "eu")
            except GatehouseError as refused:
                assert refused.code == "withdrawn"
                break
            time.sleep(0.1)
        else:
            pytest.fail("the withdrawal did not reach the in-process resolver within 10 s")
    finally:
        local.close()
