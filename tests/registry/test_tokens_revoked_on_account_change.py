"""A person's tokens are revoked when their password changes or is reset, and when they are
deactivated, whichever way it happens (admin, command, code), audited, and at once for the resolve
cache too (issue 16)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from registry.models import ApiToken, AuditEvent
from registry.services import api_token_create
from tests.conftest import forget_caches

RESOLVE = "/api/v1/resolve/?feature=nothing-here&region=eu"
# Committed for real: the routing epoch moves on when a revocation commits (as in production).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tokens(ml_engineer):
    forget_caches()
    made = [
        api_token_create(actor=ml_engineer, user=ml_engineer, name=name, scopes=["read"])[1]
        for name in ("router", "ci")
    ]
    yield made
    forget_caches()


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.test", "a-long-admin-password")


def works(raw) -> bool:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get(RESOLVE).status_code != 401


def test_a_password_change_revokes_every_token_of_the_user(ml_engineer, tokens, other_product_owner):
    _, other = api_token_create(actor=other_product_owner, user=other_product_owner, name="theirs", scopes=["read"])
    assert all(works(raw) for raw in tokens)  # identities now cached in memory

    ml_engineer.set_password("a new and long password")
    ml_engineer.save()

    assert not any(works(raw) for raw in tokens)
    assert works(other)
    assert not ApiToken.objects.filter(user=ml_engineer, revoked_at__isnull=True).exists()
    events = AuditEvent.objects.filter(action="api_token.revoked")
    assert [event.payload["reason"] for event in events] == ["password changed"] * 2


def test_the_admins_set_password_form_revokes_them(ml_engineer, tokens, superuser):
    admin = Client()
    admin.force_login(superuser)

    response = admin.post(
        f"/admin/auth/user/{ml_engineer.pk}/password/",
        {"password1": "Another-long-passw0rd", "password2": "Another-long-passw0rd", "usable_password": "true"},
    )

    assert response.status_code == 302, response.content[:2000]
    assert not any(works(raw) for raw in tokens)


def test_deactivating_a_user_revokes_their_tokens(ml_engineer, tokens):
    assert all(works(raw) for raw in tokens)

    ml_engineer.is_active = False
    ml_engineer.save(update_fields=["is_active"])
    ml_engineer.is_active = True  # reactivated later: the tokens stay revoked
    ml_engineer.save()

    assert not any(works(raw) for raw in tokens)
    assert [event.payload["reason"] for event in AuditEvent.objects.filter(action="api_token.revoked")] == [
        "user deactivated"
    ] * 2


def test_signing_in_or_editing_a_name_revokes_nothing(ml_engineer, tokens):
    from django.utils import timezone

    ml_engineer.last_login = timezone.now()
    ml_engineer.save(update_fields=["last_login"])
    ml_engineer.first_name = "Mel"
    ml_engineer.save()

    assert all(works(raw) for raw in tokens)
    assert not AuditEvent.objects.filter(action="api_token.revoked").exists()
