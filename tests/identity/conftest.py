"""Single sign-on against a real OpenID provider (node-oidc-provider on loopback), one per test process;
a governance admin's SCIM token and a client that speaks SCIM with it; the approvals fixtures that take a
version to a pending request with sign-offs."""

import json

import pytest
from django.test import Client

from identity import oidc
from registry.services import api_token_create
from tests.approvals.conftest import (  # noqa: F401  (fixtures)
    default_gates,
    feature,
    new_version,
    pins,
    record_evidence,
    request_gate,
)
from tests.identity.oidc_provider import CLIENT_ID, CLIENT_SECRET, start_provider, stop_provider

SCIM = "/scim/v2"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimClient:
    """Django's test client with a bearer token, sending and reading application/scim+json."""

    def __init__(self, raw_token: str | None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw_token}"} if raw_token else {}
        self.client = Client(**headers)

    def _send(self, method, path, body=None, **params):
        url = path if path.startswith("/") else f"{SCIM}/{path}"
        if method == "get":
            response = self.client.get(url, params)
        else:
            data = body if isinstance(body, (str, bytes)) else json.dumps(body) if body is not None else ""
            response = getattr(self.client, method)(url, data=data, content_type="application/scim+json")
        response.body = json.loads(response.content) if response.content else None
        return response

    def get(self, path, **params):
        return self._send("get", path, **params)

    def post(self, path, body):
        return self._send("post", path, body)

    def put(self, path, body):
        return self._send("put", path, body)

    def patch(self, path, *operations):
        return self._send("patch", path, {"schemas": [PATCH_SCHEMA], "Operations": list(operations)})

    def delete(self, path):
        return self._send("delete", path)

    def create_user(self, user_name, *, active=True, **extra):
        body = {
            "schemas": [USER_SCHEMA],
            "userName": user_name,
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": f"{user_name.split('@')[0]}@example.com", "type": "work", "primary": True}],
            "active": active,
            **extra,
        }
        response = self.post("Users", body)
        assert response.status_code == 201, response.content
        return response.body

    def create_group(self, display_name, *member_ids):
        body = {"schemas": [GROUP_SCHEMA], "displayName": display_name, "members": [{"value": m} for m in member_ids]}
        response = self.post("Groups", body)
        assert response.status_code == 201, response.content
        return response.body


@pytest.fixture
def scim_token(governance_admin):
    _token, raw = api_token_create(actor=governance_admin, user=governance_admin, name="idp", scopes=["scim"])
    return raw


@pytest.fixture
def scim(scim_token):
    return ScimClient(scim_token)


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
