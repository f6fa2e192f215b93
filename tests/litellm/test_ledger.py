"""request_id → decision pairs reach the decision ledger in batches: by size, by interval, at shutdown; a failed
call keeps its records for a retry, at most ``max_pending`` of them."""

import pytest

from gatehouse_client import Client
from gatehouse_client.litellm import DecisionLedger
from routing.models import DecisionRecord
from tests.litellm.conftest import ask, wait_for

pytest.importorskip("litellm")
pytestmark = pytest.mark.django_db(transaction=True)


def recorded(*request_ids):
    return set(DecisionRecord.objects.filter(request_id__in=request_ids).values_list("request_id", flat=True))


def test_a_full_batch_is_sent_at_once(gatehouse, live):
    router = gatehouse(ledger_batch_size=3, ledger_interval=600)

    responses = [ask(router, gatehouse_request_id=f"req-{n}") for n in (1, 2)]
    assert router.ledger.pending == 2 and router.ledger.recorded == 0  # waiting for a full batch
    responses.append(ask(router, gatehouse_request_id="req-3"))
    wait_for(lambda: router.ledger.recorded == 3)

    assert router.ledger.pending == 0
    rows = {row.request_id: row for row in DecisionRecord.objects.filter(request_id__startswith="req-")}
    assert set(rows) == {"req-1", "req-2", "req-3"}
    for response in responses:
        route = response._hidden_params["gatehouse"]
        row = rows[route["request_id"]]
        assert row.token == route["decision"]
        assert (row.feature.slug, row.region.code, row.environment, row.served) == (
            "claims-triage",
            "eu",
            "production",
            True,
        )


def test_a_partial_batch_is_sent_after_the_interval(gatehouse, live):
    router = gatehouse(ledger_batch_size=100, ledger_interval=0.3)

    ask(router, gatehouse_request_id="req-interval")
    wait_for(lambda: router.ledger.recorded == 1)

    assert recorded("req-interval") == {"req-interval"}


def test_what_waits_is_sent_at_shutdown(gatehouse, live):
    router = gatehouse(ledger_batch_size=100, ledger_interval=600)
    ask(router, gatehouse_request_id="req-a")
    ask(router, gatehouse_request_id="req-b")
    assert recorded("req-a", "req-b") == set()

    router.close()

    assert recorded("req-a", "req-b") == {"req-a", "req-b"}
    assert router.ledger.pending == 0


def test_without_request_ids_each_request_gets_one_of_its_own(gatehouse, live):
    router = gatehouse()
    first, second = ask(router), ask(router)
    router.close()

    ids = {response._hidden_params["gatehouse"]["request_id"] for response in (first, second)}
    assert len(ids) == 2
    assert {
        response._hidden_params["additional_headers"]["x-gatehouse-request-id"] for response in (first, second)
    } == ids
    assert recorded(*ids) == ids


def test_a_failed_call_keeps_its_records_bounded_and_retries(live_server, live, client, dead_url):
    decisions = [client.resolve("claims-triage", region)["decision"] for region in ("eu", "us", "eu", "us")]
    unreachable = Client(dead_url, client.token, timeout=2, cache_seconds=0)
    ledger = DecisionLedger(unreachable, batch_size=2, interval=0.2, max_pending=3)
    try:
        ledger.add("req-1", decisions[0])
        ledger.add("req-2", decisions[1])  # a full batch: sent at once, and refused
        wait_for(lambda: ledger.failed_calls >= 1)
        assert ledger.pending == 2 and ledger.recorded == 0
        ledger.add("req-3", decisions[2])
        ledger.add("req-4", decisions[3])  # four waiting, three kept: the oldest goes
        assert ledger.pending == 3 and ledger.dropped == 1

        unreachable.url = live_server.url  # Gatehouse is back: the next retry goes through
        wait_for(lambda: ledger.recorded == 3)
    finally:
        ledger.close()

    assert ledger.pending == 0
    assert recorded("req-1", "req-2", "req-3", "req-4") == {"req-2", "req-3", "req-4"}


def test_a_batch_gatehouse_refuses_as_invalid_is_not_retried_for_ever(live_server, live, client):
    ledger = DecisionLedger(client, batch_size=10, interval=600)
    ledger.add("req-forged", "not-a-decision-token")
    try:
        assert ledger.flush() is True
    finally:
        ledger.close()
    assert (ledger.rejected, ledger.pending, ledger.recorded) == (1, 0, 0)
    assert recorded("req-forged") == set()
