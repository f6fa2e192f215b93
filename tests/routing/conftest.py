"""The routing world: the approvals world (a high-risk feature live in eu and us through real gates and
promotions), a primary model hosted in both regions and fallbacks, and clients that authenticate as
routers do (a bearer token)."""

import pytest
from rest_framework.test import APIClient

from registry.services.tokens import api_token_create
from tests.approvals.conftest import (  # noqa: F401  (fixtures)
    approved_request,
    default_gates,
    feature,
    go_live,
    new_version,
    pins,
    record_evidence,
    releases,
    request_gate,
    reviewers,
    second_ml_engineer,
    second_security_reviewer,
    sign_all,
)
from tests.factories import CatalogModelFactory, RegionFactory, VendorFactory

RESOLVE = "/api/v1/resolve/"


@pytest.fixture
def uk(db):
    return RegionFactory(code="uk", name="United Kingdom")


@pytest.fixture
def backup_vendor(db):
    return VendorFactory(slug="mistral", name="Mistral")


@pytest.fixture
def pins(eu, us, uk, backup_vendor):  # noqa: F811  (the approvals pins, with fallbacks)
    """A primary hosted in eu and us; fallback 1 from another vendor hosted in eu, us and uk; fallback 2
    from the primary's vendor hosted everywhere too. The policy allows eu, us and uk."""
    from tests.factories import PolicyPackFactory, PromptVersionFactory

    primary = CatalogModelFactory(identifier="claude-sonnet-4", regions=[eu, us])
    return {
        "model": primary,
        "fallback_models": [
            CatalogModelFactory(identifier="mistral-large", vendor=backup_vendor, regions=[eu, us, uk]),
            CatalogModelFactory(identifier="claude-haiku", vendor=primary.vendor, regions=[eu, us, uk]),
        ],
        "prompt": PromptVersionFactory(name="triage", template="Sort this claim: {{ claim }}"),
        "policy_pack": PolicyPackFactory(name="claims", allowed_regions=[eu, us, uk]),
    }


def bearer(user, name="router", **options):
    _, raw = api_token_create(actor=user, user=user, name=name, **options)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def router(ml_engineer):
    """A router's client: a machine token of the owning team's ML engineer."""
    return bearer(ml_engineer)


@pytest.fixture
def live(feature, new_version, go_live):
    """v1 of claims-triage live in production eu and us."""
    version = new_version(summary="First release.")
    go_live(version)
    return version


def resolve(client, feature="claims-triage", region="eu", **params):
    return client.get(RESOLVE, {"feature": feature, "region": region, **params})
