"""API tokens have scopes and an expiry (issue 16): a token does only what its scopes cover, an expired
token is refused with ``token_expired`` (from the routing identity cache too), and the tokens page, the
service and ``create_api_token`` take scopes and expiry."""

from __future__ import annotations

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from registry.models import ApiToken, AuditEvent
from registry.services import api_token_create
from tests.conftest import forget_caches


def client_for(user, scopes, **options):
    token, raw = api_token_create(actor=user, user=user, name="t", scopes=scopes, **options)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.token = token
    return client


def code(response):
    return response.json().get("code")


# --- What each scope covers ----------------------------------------------------------------------------


def test_a_read_token_reads_and_writes_nothing(ml_engineer):
    client = client_for(ml_engineer, ["read"])

    assert client.get("/api/v1/features/").status_code == 200
    refused = client.post("/api/v1/versions/", {}, content_type="application/json")
    assert refused.status_code == 403 and code(refused) == "insufficient_scope"
    assert "ci_write" in refused.json()["detail"]


def test_a_ci_write_token_does_what_a_pipeline_does_and_no_more(ml_engineer):
    client = client_for(ml_engineer, ["ci_write"])

    # Past the scope check: the empty body is what is refused.
    for url in (
        "/api/v1/versions/",
        "/api/v1/evaluations/",
        "/api/v1/approval-requests/",
        "/api/v1/deployments/rollback/",
        "/api/v1/prompts/",
        "/api/v1/datasets/",
    ):
        response = client.post(url, {}, content_type="application/json")
        assert response.status_code == 400, (url, response.content)
    # Not a pipeline's business: sign-offs, catalog governance, webhooks, incidents, and reading.
    for method, url in (
        ("post", "/api/v1/vendors/"),
        ("post", "/api/v1/webhooks/subscriptions/"),
        ("post", "/api/v1/incidents/"),
        ("post", "/api/v1/deployments/withdraw/"),
        ("get", "/api/v1/features/"),
    ):
        response = getattr(client, method)(
            url, {}, **({"content_type": "application/json"} if method == "post" else {})
        )
        assert response.status_code == 403 and code(response) == "insufficient_scope", url


def test_a_resolve_token_resolves_and_reads_nothing_else(ml_engineer):
    client = client_for(ml_engineer, ["resolve"])

    assert client.get("/api/v1/resolve/").status_code == 400  # past the scope check: parameters missing
    assert client.get("/api/v1/decisions/").status_code == 400
    assert client.post("/api/v1/decisions/ledger/", {}, content_type="application/json").status_code == 400
    for url in ("/api/v1/features/", "/api/v1/incidents/", "/api/v1/vendors/"):
        assert code(client.get(url)) == "insufficient_scope", url


def test_a_session_is_not_scoped(client, ml_engineer):
    client.force_login(ml_engineer)

    assert client.post("/api/v1/versions/", {}, content_type="application/json").status_code == 400


def test_a_token_never_does_more_than_its_user(auditor):
    """Full access is the user's access: an auditor's full token still cannot register versions."""
    response = client_for(auditor, ["full"]).post(
        "/api/v1/vendors/", {"slug": "x", "name": "X"}, content_type="application/json"
    )

    assert response.status_code in (400, 403) and code(response) != "insufficient_scope"


# --- Expiry ---------------------------------------------------------------------------------------------


def test_tokens_expire_after_90_days_by_default(ml_engineer):
    token, _ = api_token_create(actor=ml_engineer, user=ml_engineer, name="t", scopes=["read"])

    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)


def test_an_expired_token_is_refused_with_its_own_code(ml_engineer):
    client = client_for(ml_engineer, ["read"])
    ApiToken.objects.filter(pk=client.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get("/api/v1/features/")

    assert response.status_code == 401 and code(response) == "token_expired"
    assert "expired" in response.json()["detail"] and "API tokens page" in response.json()["detail"]


def test_an_expired_token_is_refused_even_while_its_identity_is_cached(ml_engineer, monkeypatch):
    """The resolve fast path and the cached authentication keep the identity in memory under the epoch;
    the expiry travels with it, so the clock passing it is enough (no database change, no new epoch)."""
    forget_caches()
    client = client_for(ml_engineer, ["resolve"], expires_at=timezone.now() + timedelta(hours=1))
    url = "/api/v1/resolve/?feature=nothing-here&region=eu"
    assert client.get(url).status_code == 404  # authenticated, identity cached
    from routing import auth

    later = time.time() + 2 * 3600
    monkeypatch.setattr(auth.time, "time", lambda: later)
    ApiToken.objects.filter(pk=client.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get(url)

    assert response.status_code == 401 and code(response) == "token_expired"
    forget_caches()


def test_a_cached_identity_keeps_the_tokens_scopes(ml_engineer):
    """An alert-intake token cannot resolve, however often it tries (the identity it leaves in memory
    carries its scopes)."""
    forget_caches()
    client = client_for(ml_engineer, ["alert_intake"])
    url = "/api/v1/resolve/?feature=nothing-here&region=eu"

    assert [code(client.get(url)) for _ in range(3)] == ["insufficient_scope"] * 3
    forget_caches()


def test_only_governance_makes_tokens_that_never_expire(ml_engineer, governance_admin):
    with pytest.raises(ValidationError, match="never expire"):
        api_token_create(actor=ml_engineer, user=ml_engineer, name="t", scopes=["read"], expires_at="never")
    with pytest.raises(ValidationError, match="at most a year"):
        api_token_create(
            actor=ml_engineer,
            user=ml_engineer,
            name="t",
            scopes=["read"],
            expires_at=timezone.now() + timedelta(days=400),
        )

    token, _ = api_token_create(
        actor=governance_admin, user=governance_admin, name="router", scopes=["resolve"], expires_at="never"
    )
    assert token.expires_at is None


def test_scopes_are_required_and_checked(ml_engineer):
    for scopes in ([], ["root"]):
        with pytest.raises(ValidationError):
            api_token_create(actor=ml_engineer, user=ml_engineer, name="t", scopes=scopes)
    assert not ApiToken.objects.exists()


def test_creation_is_audited_with_scopes_and_expiry(ml_engineer):
    token, _ = api_token_create(actor=ml_engineer, user=ml_engineer, name="t", scopes=["resolve", "read"])

    payload = AuditEvent.objects.get(action="api_token.created").payload
    assert payload["scopes"] == ["read", "resolve"] and payload["expires_at"] == token.expires_at.isoformat()


def test_tokens_made_before_scopes_keep_full_access_and_no_expiry(ml_engineer):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("registry.migrations.0013_api_token_scopes_and_expiry")
    token, _ = api_token_create(actor=ml_engineer, user=ml_engineer, name="old", scopes=["read"])
    ApiToken.objects.filter(pk=token.pk).update(scopes=[], expires_at=None)

    migration.existing_tokens_keep_working(apps, None)

    token.refresh_from_db()
    assert (token.scopes, token.expires_at) == (["full"], None)


# --- The page and the command ---------------------------------------------------------------------------


def test_the_page_creates_a_token_with_the_chosen_scopes_and_expiry(client, ml_engineer):
    client.force_login(ml_engineer)

    response = client.post("/tokens/", {"name": "claims-router", "scopes": ["resolve"], "expires": "30"})

    assert response.status_code == 200
    token = ApiToken.objects.get(name="claims-router")
    assert token.scopes == ["resolve"]
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    page = client.get("/tokens/").content.decode()
    assert '<span class="badge badge-info">Resolve</span>' in page and "in 4\xa0weeks" in page


def test_the_page_offers_never_to_governance_only(client, ml_engineer, governance_admin):
    client.force_login(ml_engineer)
    assert 'value="never"' not in client.get("/tokens/").content.decode()
    refused = client.post("/tokens/", {"name": "forever", "scopes": ["read"], "expires": "never"})
    assert refused.status_code == 400 and not ApiToken.objects.exists()

    client.force_login(governance_admin)
    assert 'value="never"' in client.get("/tokens/").content.decode()
    assert client.post("/tokens/", {"name": "forever", "scopes": ["resolve"], "expires": "never"}).status_code == 200
    assert ApiToken.objects.get(name="forever").expires_at is None


def test_the_page_needs_a_scope(client, ml_engineer):
    client.force_login(ml_engineer)

    response = client.post("/tokens/", {"name": "nothing", "expires": "90"})

    assert response.status_code == 400 and "at least one scope" in response.content.decode()


def test_the_command_takes_scopes_and_expiry(ml_engineer):
    out = StringIO()

    call_command(
        "create_api_token",
        "mel-ml",
        "--name",
        "alerts",
        "--scope",
        "alert_intake",
        "--expires",
        "never",
        stdout=out,
        stderr=StringIO(),
    )
    call_command(
        "create_api_token",
        "mel-ml",
        "--name",
        "ci",
        "--scope",
        "ci_write",
        "--scope",
        "read",
        "--expires",
        "7d",
        stdout=out,
        stderr=StringIO(),
    )
    call_command("create_api_token", "mel-ml", "--name", "plain", stdout=out, stderr=StringIO())

    alerts, ci, plain = (ApiToken.objects.get(name=name) for name in ("alerts", "ci", "plain"))
    assert (alerts.scopes, alerts.expires_at) == (["alert_intake"], None)
    assert ci.scopes == ["read", "ci_write"] and ci.expires_at - timezone.now() <= timedelta(days=7)
    assert plain.scopes == ["read"] and plain.expires_at is not None
