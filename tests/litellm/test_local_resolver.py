"""The LiteLLM integration on the in-process resolver: each request is routed from the routing snapshot in
the router's own process (no call to Gatehouse per request), with a decision token Gatehouse looks up, and
keeps routing from the snapshot while Gatehouse is down."""

import pytest

from gatehouse_client.local import LocalResolver
from registry.services import deployment_rollback
from tests.litellm.conftest import PRIMARY, answer_text, ask

pytestmark = pytest.mark.django_db(transaction=True)


def test_litellm_routes_from_the_snapshot_and_follows_changes(
    gatehouse, live, client, newer_version, go_live, product_owner, eu, dead_url
):
    local = LocalResolver(client, record=False, start=False)  # the integration keeps its own ledger
    router = gatehouse(gatehouse_client=local)

    response = ask(router, gatehouse_request_id="req-local")
    assert answer_text(response) == f"answered by {PRIMARY}"
    decision = response._hidden_params["gatehouse"]["decision"]
    looked_up = client.decision(decision)
    assert (looked_up["feature"], looked_up["region"], looked_up["version"]) == ("claims-triage", "eu", 1)

    go_live(newer_version())
    assert answer_text(ask(router)) == f"answered by {PRIMARY}"  # nothing asked of Gatehouse per request
    local.refresh()
    assert ask(router)._hidden_params["gatehouse"]["version"] == 2
    deployment_rollback(actor=product_owner, feature=live.feature, environment="production", region=eu, reason="x")

    live_url, client.url = client.url, dead_url  # Gatehouse down: the snapshot still routes
    assert ask(router)._hidden_params["gatehouse"]["version"] == 2
    client.url = live_url
    local.refresh()  # back: the rollback arrives
    assert ask(router)._hidden_params["gatehouse"]["version"] == 1
