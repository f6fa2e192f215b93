"""Single sign-on against a real OpenID provider (node-oidc-provider on loopback), one per test process."""

import pytest

from identity import oidc
from tests.identity.oidc_provider import CLIENT_ID, CLIENT_SECRET, start_provider, stop_provider


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    provider, log = start_provider(tmp_path_factory.mktemp("oidc-provider"))
    yield provider
    stop_provider(provider, log)


@pytest.fixture
def sso(settings, oidc_provider):
    """Gatehouse configured for the test provider, as the environment would configure it."""
    settings.OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_PROVIDER_NAME = "Test IdP"
    oidc_provider.set_accounts({})
    oidc.forget_discovery()
    yield oidc_provider
    oidc.forget_discovery()
