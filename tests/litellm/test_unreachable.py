"""Gatehouse unreachable: ``fail_closed`` refuses; ``last_known`` serves the last answer for the same feature,
region and environment for at most N seconds, and never a route Gatehouse has since refused."""

import time

import pytest

from gatehouse_client.litellm import GatehouseRouter, GatehouseUnavailable, RouteRefused
from registry.services.deployments import deployment_withdraw
from tests.litellm.conftest import PRIMARY, answer_text, ask

pytest.importorskip("litellm")
pytestmark = pytest.mark.django_db(transaction=True)


def test_fail_closed_refuses_when_gatehouse_cannot_answer(gatehouse, live, client, dead_url):
    router = gatehouse(unreachable="fail_closed")
    assert answer_text(ask(router)) == f"answered by {PRIMARY}"

    client.url = dead_url
    with pytest.raises(GatehouseUnavailable) as refused:
        ask(router)

    assert refused.value.code == "unreachable" and refused.value.status is None
    assert "fail_closed" in str(refused.value) and "claims-triage in eu (production)" in str(refused.value)


def test_last_known_serves_the_last_answer_for_at_most_n_seconds(gatehouse, live, client, dead_url):
    router = gatehouse(unreachable="last_known", last_known_seconds=2)
    fresh = ask(router)
    decision = fresh._hidden_params["gatehouse"]["decision"]

    client.url = dead_url
    stale = ask(router)
    assert answer_text(stale) == f"answered by {PRIMARY}"
    assert stale._hidden_params["gatehouse"]["decision"] == decision
    assert stale._hidden_params["gatehouse"]["stale_seconds"] < 2
    assert stale._hidden_params["additional_headers"]["x-gatehouse-stale"] in {"0", "1"}
    # Only for the same feature, region and environment: us was never answered.
    with pytest.raises(GatehouseUnavailable, match="no last answer"):
        ask(router, region="us")
    with pytest.raises(GatehouseUnavailable, match="no last answer"):
        ask(router, gatehouse_environment="sandbox")

    time.sleep(2.1)
    with pytest.raises(GatehouseUnavailable, match="older than the 2 s the last_known policy allows"):
        ask(router)


def test_a_refusal_forgets_the_last_known_answer(gatehouse, live, client, dead_url, product_owner, eu):
    router = gatehouse(unreachable="last_known", last_known_seconds=600)
    ask(router)
    deployment_withdraw(
        actor=product_owner, feature=live.feature, environment="production", region=eu, reason="Stop at once."
    )
    with pytest.raises(RouteRefused) as withdrawn:
        ask(router)
    assert withdrawn.value.code == "withdrawn"

    client.url = dead_url
    with pytest.raises(GatehouseUnavailable, match="no last answer"):
        ask(router)


def test_the_last_known_policy_needs_a_bound(litellm_router, client):
    for seconds in (None, 0, -1, float("inf")):
        with pytest.raises(ValueError, match="last_known_seconds"):
            GatehouseRouter(litellm_router(), client, unreachable="last_known", last_known_seconds=seconds)
    with pytest.raises(ValueError, match="fail_closed, last_known"):
        GatehouseRouter(litellm_router(), client, unreachable="serve_anything")
