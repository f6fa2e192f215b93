"""LiteLLM's Router in this process, its deployments answering with ``mock_response`` (nothing leaves the
machine), routed by ``GatehouseRouter`` against a live Gatehouse: claims-triage v1 live in eu and us, with a
primary, two fallbacks in order, and a model Gatehouse never names."""

import asyncio
import concurrent.futures
import os
import socket
import time

import pytest

from gatehouse_client import Client
from gatehouse_client.litellm import GatehouseRouter
from registry.services import version_create, version_submit
from registry.services.tokens import api_token_create
from tests.factories import CatalogModelFactory, PolicyPackFactory, PromptVersionFactory, VendorFactory
from tests.routing.conftest import (  # noqa: F401  (fixtures)
    approved_request,
    default_gates,
    feature,
    go_live,
    live,
    new_version,
    record_evidence,
    releases,
    request_gate,
    reviewers,
    second_ml_engineer,
    second_security_reviewer,
    sign_all,
    uk,
)

# LiteLLM reads its model price map from the network when imported, unless told to use the copy it ships.
# The test modules that need LiteLLM import it (or skip without it) after this.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
if os.environ.get("GATEHOUSE_REQUIRE_SERVICES"):
    # In CI nothing is skipped for want of a program: without LiteLLM (make install puts it in) this fails.
    import litellm  # noqa: F401

PRIMARY = "anthropic/claude-sonnet-4"
FIRST_FALLBACK = "mistral/mistral-large"
SECOND_FALLBACK = "anthropic/claude-haiku"
NEWER = "anthropic/claude-opus-4"
ROGUE = "rogue/unvetted-model"  # deployed in the Router, named by no Gatehouse decision
MESSAGES = [{"role": "user", "content": "Sort this claim: a cracked windscreen."}]


@pytest.fixture
def anthropic(db):
    return VendorFactory(slug="anthropic", name="Anthropic")


@pytest.fixture
def pins(eu, us, uk, anthropic):
    """The primary hosted in eu and us, then a fallback from another vendor and one from the primary's vendor."""
    return {
        "model": CatalogModelFactory(identifier="claude-sonnet-4", vendor=anthropic, regions=[eu, us]),
        "fallback_models": [
            CatalogModelFactory(
                identifier="mistral-large", vendor=VendorFactory(slug="mistral", name="Mistral"), regions=[eu, us, uk]
            ),
            CatalogModelFactory(identifier="claude-haiku", vendor=anthropic, regions=[eu, us, uk]),
        ],
        "prompt": PromptVersionFactory(name="triage", template="Sort this claim: {{ claim }}"),
        "policy_pack": PolicyPackFactory(name="claims", allowed_regions=[eu, us, uk]),
    }


@pytest.fixture
def newer_version(ml_engineer, feature, pins, anthropic, eu, us):
    """A submitted v2 whose primary is another model (the fallbacks stay)."""

    def make():
        model = CatalogModelFactory(identifier="claude-opus-4", vendor=anthropic, regions=[eu, us])
        version = version_create(
            actor=ml_engineer, feature=feature, change_summary="A stronger primary.", **{**pins, "model": model}
        )
        return version_submit(actor=ml_engineer, version=version)

    return make


@pytest.fixture
def token(ml_engineer):
    """A router's API token: the resolve scope only."""
    _, raw = api_token_create(actor=ml_engineer, user=ml_engineer, name="litellm", scopes=["resolve"])
    return raw


@pytest.fixture
def client(live_server, token):
    """A client that asks Gatehouse on every request (routes change within the tests)."""
    return Client(live_server.url, token, timeout=5, cache_seconds=0)


@pytest.fixture
def dead_url():
    """An address nobody listens on: Gatehouse unreachable."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def deployment(name, answer):
    return {
        "model_name": name,
        "litellm_params": {
            "model": f"openai/{name.replace('/', '-')}",
            "api_key": "sk-not-used",
            "mock_response": answer,
        },
    }


@pytest.fixture
def litellm_router():
    """A Router deploying every model Gatehouse may name, and a rogue one its own fallbacks point at.
    ``failing`` names the models whose call raises."""

    import litellm

    def make(failing=()):
        names = [PRIMARY, FIRST_FALLBACK, SECOND_FALLBACK, NEWER, ROGUE]
        return litellm.Router(
            model_list=[
                deployment(name, Exception(f"{name} is down") if name in failing else f"answered by {name}")
                for name in names
            ],
            fallbacks=[{name: [ROGUE]} for name in names if name != ROGUE],
            default_fallbacks=[ROGUE],
            num_retries=0,
            disable_cooldowns=True,
        )

    return make


@pytest.fixture
def gatehouse(litellm_router, client):
    """``GatehouseRouter`` over a fresh Router; each is closed (its ledger sent) after the test."""
    made = []

    def make(router=None, gatehouse_client=None, **options):
        options.setdefault("ledger_interval", 600)  # the ledger is sent at close unless a test says otherwise
        router_ = GatehouseRouter(router or litellm_router(), gatehouse_client or client, **options)
        made.append(router_)
        return router_

    yield make
    for router_ in made:
        router_.close()


def tags(region="eu", feature="claims-triage", **more):
    return {"gatehouse_feature": feature, "gatehouse_region": region, **more}


def ask(gatehouse, **metadata):
    """One chat completion through the Gatehouse router, tagged for claims-triage in eu unless told."""
    return run_async(gatehouse.acompletion(messages=MESSAGES, metadata=tags(**metadata)))


def run_async(coroutine):
    """Run a coroutine to its end on a loop of its own, in a thread of its own: a test worker that drove the
    browser journeys before may still hold Playwright's running loop, where asyncio.run is refused."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def answer_text(response):
    return response.choices[0].message.content


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)
