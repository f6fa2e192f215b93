"""API tokens: shown once, stored only as a SHA-256, revocable by their owner or governance, and issued
from the command line with the token as the last line of output."""

import hashlib
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIRequestFactory

from core.exceptions import Conflict
from registry.api.authentication import BearerTokenAuthentication
from registry.models import ApiToken, AuditEvent
from registry.services import api_token_create, api_token_revoke


@pytest.fixture
def issued(ml_engineer):
    """A token of the ML engineer's, and the raw value they were shown once."""
    return api_token_create(actor=ml_engineer, user=ml_engineer, name="ci-pipeline")


def authenticate(raw):
    request = APIRequestFactory().get("/api/v1/features/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    return BearerTokenAuthentication().authenticate(request)


def test_a_new_token_starts_with_gh_and_only_its_sha256_is_stored(issued):
    token, raw = issued

    stored = ApiToken.objects.get(pk=token.pk)
    assert raw.startswith("gh_")
    assert len(raw) > 40
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    for field in ApiToken._meta.concrete_fields:
        assert raw not in str(getattr(stored, field.attname)), field.name
    assert raw.startswith(stored.prefix)


def test_the_raw_token_is_not_written_to_the_audit_trail(issued):
    token, raw = issued

    event = AuditEvent.objects.get(action="api_token.created", object_id=str(token.pk))
    assert raw not in str(event.payload)
    assert raw not in event.object_repr


def test_two_tokens_never_share_a_value(ml_engineer, issued):
    _, first = issued
    _, second = api_token_create(actor=ml_engineer, user=ml_engineer, name="ci-pipeline")

    assert first != second


def test_a_token_authenticates_as_its_user(ml_engineer, issued):
    _, raw = issued

    user, token = authenticate(raw)

    assert user == ml_engineer
    assert token == issued[0]


def test_a_token_needs_a_name(ml_engineer):
    with pytest.raises(ValidationError):
        api_token_create(actor=ml_engineer, user=ml_engineer, name="  ")

    assert not ApiToken.objects.exists()


def test_nobody_creates_a_token_for_someone_else_except_governance(ml_engineer, other_product_owner, governance_admin):
    with pytest.raises(PermissionDenied):
        api_token_create(actor=other_product_owner, user=ml_engineer, name="borrowed")

    token, _ = api_token_create(actor=governance_admin, user=ml_engineer, name="batch-export")

    assert list(ApiToken.objects.values_list("user", "name")) == [(ml_engineer.pk, "batch-export")]
    assert token.user == ml_engineer


# --- Revocation -------------------------------------------------------------------------------------


def test_revoking_a_token_stamps_it_and_stops_it_authenticating(ml_engineer, issued):
    token, raw = issued

    api_token_revoke(actor=ml_engineer, token=token)

    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.revoked_at is not None
    assert not stored.is_active
    with pytest.raises(AuthenticationFailed):
        authenticate(raw)


def test_a_second_revocation_is_refused_and_keeps_the_first_time(ml_engineer, issued):
    token, _ = issued
    first = api_token_revoke(actor=ml_engineer, token=token).revoked_at

    with pytest.raises(Conflict):
        api_token_revoke(actor=ml_engineer, token=token)

    assert ApiToken.objects.get(pk=token.pk).revoked_at == first
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1


@pytest.mark.parametrize("persona", ["other_product_owner", "product_owner", "security_reviewer", "auditor"])
def test_others_cannot_revoke_your_token(request, persona, issued):
    token, raw = issued

    with pytest.raises(PermissionDenied):
        api_token_revoke(actor=request.getfixturevalue(persona), token=token)

    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert authenticate(raw)[1] == token


def test_governance_revokes_anyones_token(governance_admin, issued):
    token, _ = issued

    api_token_revoke(actor=governance_admin, token=token)

    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    event = AuditEvent.objects.get(action="api_token.revoked")
    assert event.actor == governance_admin


# --- The create_api_token command -------------------------------------------------------------------


def test_the_command_prints_the_token_as_its_last_line_and_it_works(ml_engineer):
    out, err = StringIO(), StringIO()

    call_command("create_api_token", "mel-ml", "--name", "nightly-evals", stdout=out, stderr=err)

    raw = out.getvalue().strip().splitlines()[-1]
    token = ApiToken.objects.get(key_hash=hashlib.sha256(raw.encode()).hexdigest())
    assert (token.user, token.name) == (ml_engineer, "nightly-evals")
    assert authenticate(raw) == (ml_engineer, token)
    assert raw not in err.getvalue()
    event = AuditEvent.objects.get(action="api_token.created")
    assert (event.source, event.actor) == ("cli", ml_engineer)


def test_the_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="nobody"):
        call_command("create_api_token", "nobody", stdout=StringIO(), stderr=StringIO())

    assert not ApiToken.objects.exists()


def test_the_command_refuses_an_inactive_user(ml_engineer):
    ml_engineer.is_active = False
    ml_engineer.save(update_fields=["is_active"])

    with pytest.raises(CommandError, match="inactive"):
        call_command("create_api_token", "mel-ml", stdout=StringIO(), stderr=StringIO())

    assert not ApiToken.objects.exists()
