"""LiteLLM serves the model Gatehouse names: after a promotion, a rollback and a vendor suspension, on a
failing primary (the next fallback resolve allows, never another model), and not at all without a route."""

import asyncio

import pytest

from gatehouse_client.litellm import RouteRefused
from registry.services.deployments import deployment_rollback
from routing.models import DecisionRecord
from routing.services import catalog_status_change
from tests.litellm.conftest import (
    FIRST_FALLBACK,
    MESSAGES,
    NEWER,
    PRIMARY,
    ROGUE,
    SECOND_FALLBACK,
    answer_text,
    ask,
    run_async,
    tags,
)

litellm = pytest.importorskip("litellm")
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seen_metadata():
    """The metadata LiteLLM hands its callbacks for each deployment call."""
    from litellm.integrations.custom_logger import CustomLogger

    seen = []

    class Watcher(CustomLogger):
        async def async_pre_call_deployment_hook(self, kwargs, call_type):
            seen.append(dict(kwargs.get("metadata") or {}))

    watcher = Watcher()
    litellm.callbacks.append(watcher)
    yield seen
    litellm.callbacks.remove(watcher)


def test_the_request_goes_to_the_model_gatehouse_names_with_its_decision(gatehouse, live, client, seen_metadata):
    router = gatehouse()

    response = ask(router, gatehouse_request_id="req-1")

    assert answer_text(response) == f"answered by {PRIMARY}"
    headers = response._hidden_params["additional_headers"]
    assert headers["x-gatehouse-request-id"] == "req-1"
    assert "x-gatehouse-stale" not in headers
    route = response._hidden_params["gatehouse"]
    assert route["decision"] == headers["x-gatehouse-decision"]
    assert route["models"] == [PRIMARY, FIRST_FALLBACK, SECOND_FALLBACK]
    assert (route["version"], route["route"], route["served_by"]) == (1, "primary", PRIMARY)
    looked_up = client.decision(headers["x-gatehouse-decision"])  # a decision token Gatehouse signed
    assert (looked_up["feature"], looked_up["region"], looked_up["version"]) == ("claims-triage", "eu", 1)
    assert looked_up["outcome"] == "served" and looked_up["model"] == PRIMARY
    # LiteLLM's callbacks (loggers, spend tracking) see the decision in the request's metadata.
    (metadata,) = seen_metadata
    assert metadata["gatehouse_decision"] == route["decision"]
    assert metadata["gatehouse_request_id"] == "req-1" and metadata["gatehouse_feature"] == "claims-triage"
    assert metadata["model_group"] == PRIMARY


def test_a_request_without_its_tags_or_choosing_its_own_model_is_refused(gatehouse, live):
    router = gatehouse()
    with pytest.raises(ValueError, match="gatehouse_region"):
        run_async(router.acompletion(messages=MESSAGES, metadata={"gatehouse_feature": "claims-triage"}))
    with pytest.raises(TypeError, match="Gatehouse decides model"):
        run_async(router.acompletion(messages=MESSAGES, metadata=tags(), model=ROGUE))


def test_routing_follows_a_promotion_then_a_rollback(gatehouse, live, newer_version, go_live, product_owner, eu):
    router = gatehouse()
    assert answer_text(ask(router)) == f"answered by {PRIMARY}"

    go_live(newer_version())
    promoted = ask(router)
    assert answer_text(promoted) == f"answered by {NEWER}"
    assert promoted._hidden_params["gatehouse"]["version"] == 2

    deployment_rollback(
        actor=product_owner, feature=live.feature, environment="production", region=eu, reason="Answers too long."
    )
    rolled_back = ask(router)
    assert answer_text(rolled_back) == f"answered by {PRIMARY}"
    assert rolled_back._hidden_params["gatehouse"]["version"] == 1
    assert answer_text(ask(router, region="us")) == f"answered by {NEWER}"  # rolled back in eu only


def test_a_suspended_vendor_moves_the_traffic_to_the_fallback_resolve_names(gatehouse, live, pins, governance_admin):
    router = gatehouse()
    catalog_status_change(
        actor=governance_admin, suspend=True, reason="Security review at the vendor.", vendor=pins["model"].vendor
    )

    response = ask(router)

    assert answer_text(response) == f"answered by {FIRST_FALLBACK}"
    route = response._hidden_params["gatehouse"]
    assert route["route"] != "primary"
    # The other model of the suspended vendor is no fallback any more: nothing else may serve.
    assert route["models"] == [FIRST_FALLBACK]


def test_a_failing_primary_falls_back_in_order_and_never_to_a_model_gatehouse_did_not_name(
    gatehouse, litellm_router, live
):
    first_down = gatehouse(litellm_router(failing=[PRIMARY]))
    assert answer_text(ask(first_down)) == f"answered by {FIRST_FALLBACK}"

    two_down = gatehouse(litellm_router(failing=[PRIMARY, FIRST_FALLBACK]))
    assert answer_text(ask(two_down)) == f"answered by {SECOND_FALLBACK}"

    # Every model Gatehouse named fails: the Router's own fallbacks and default fallbacks point at ROGUE,
    # yet the request fails rather than going there.
    all_down = gatehouse(litellm_router(failing=[PRIMARY, FIRST_FALLBACK, SECOND_FALLBACK]))
    with pytest.raises(Exception) as failed:  # noqa: B017  (LiteLLM's own error of the last attempt)
        ask(all_down, gatehouse_request_id="req-failed")
    assert ROGUE not in str(failed.value)
    assert not isinstance(failed.value, RouteRefused)
    # The decision governed the failed request too: it is recorded with it.
    all_down.close()
    assert DecisionRecord.objects.filter(request_id="req-failed").exists()


def test_the_guard_refuses_a_deployment_outside_the_decision(gatehouse, litellm_router, live):
    """A request that reaches the Router with a Gatehouse decision cannot be sent elsewhere by the Router."""
    router = litellm_router()
    gatehouse(router)  # installs the guard

    async def rogue_call():
        return await router.acompletion(
            model=ROGUE, messages=MESSAGES, metadata={"gatehouse_models": [PRIMARY]}, fallbacks=[]
        )

    with pytest.raises(Exception, match="not among the models Gatehouse named"):
        run_async(rogue_call())
    # Requests Gatehouse did not route are left alone.
    plain = run_async(router.acompletion(model=ROGUE, messages=MESSAGES))
    assert answer_text(plain) == f"answered by {ROGUE}"


def test_no_route_is_a_clear_error_and_nothing_is_called(gatehouse, live, uk):
    router = gatehouse()

    with pytest.raises(RouteRefused) as no_route:
        ask(router, region="uk")
    assert (no_route.value.status, no_route.value.code) == (409, "no_eligible_route")
    message = str(no_route.value)
    assert message.startswith("Gatehouse refused claims-triage in uk (production): no_eligible_route: ")
    assert no_route.value.detail in message

    with pytest.raises(RouteRefused) as unknown:
        ask(router, feature="no-such-feature")
    assert (unknown.value.status, unknown.value.code) == (404, "not_found")
    assert "no-such-feature" in str(unknown.value) and "not_found" in str(unknown.value)

    router.close()
    assert router.ledger.recorded == 0 and not DecisionRecord.objects.exists()


def test_a_model_map_names_the_routers_models(gatehouse, litellm_router, live):
    router = gatehouse(model_map={PRIMARY: FIRST_FALLBACK, "mistral/mistral-large": SECOND_FALLBACK})

    response = ask(router)

    assert answer_text(response) == f"answered by {FIRST_FALLBACK}"
    assert response._hidden_params["gatehouse"]["models"] == [FIRST_FALLBACK, SECOND_FALLBACK]


def test_only_models_the_router_deploys_are_asked_and_wildcards_count(gatehouse, live):
    import litellm as litellm_

    from gatehouse_client.litellm import NoDeployment
    from tests.litellm.conftest import deployment

    without_primary = gatehouse(
        litellm_.Router(model_list=[deployment(FIRST_FALLBACK, "answered by mistral")], num_retries=0)
    )
    response = ask(without_primary)
    assert answer_text(response) == "answered by mistral"
    assert response._hidden_params["gatehouse"]["models"] == [FIRST_FALLBACK]

    wildcard = gatehouse(
        litellm_.Router(model_list=[deployment("anthropic/*", "answered by anthropic")], num_retries=0)
    )
    response = ask(wildcard)
    assert answer_text(response) == "answered by anthropic"
    assert response._hidden_params["gatehouse"]["models"] == [PRIMARY, SECOND_FALLBACK]
    assert response._hidden_params["gatehouse"]["served_by"] == PRIMARY

    nothing = gatehouse(litellm_.Router(model_list=[deployment(ROGUE, "answered by rogue")], num_retries=0))
    with pytest.raises(NoDeployment) as refused:
        ask(nothing)
    assert refused.value.code == "no_deployment" and PRIMARY in str(refused.value)
