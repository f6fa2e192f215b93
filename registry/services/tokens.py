"""API tokens: shown once, stored as a hash, revocable, each tied to a user."""

from __future__ import annotations

import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from registry.exceptions import Conflict
from registry.models import ApiToken
from registry.permissions import is_governance
from registry.services.audit import audit_record

TOKEN_PREFIX = "gh_"


def api_token_create(*, actor, user, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the raw token, which is never stored and cannot be shown again."""
    if actor.pk != user.pk and not is_governance(actor):
        raise PermissionDenied("You may create tokens only for yourself.")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the token after what will use it, e.g. ci-pipeline."})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken(user=user, name=name[:80], prefix=raw[:10], key_hash=ApiToken.hash_key(raw))
        token.full_clean()
        token.save()
        audit_record(
            actor=actor, action="api_token.created", target=token,
            payload={"user": user.get_username(), "name": token.name, "prefix": token.prefix},
        )
    return token, raw


def api_token_revoke(*, actor, token: ApiToken) -> ApiToken:
    if actor.pk != token.user_id and not is_governance(actor):
        raise PermissionDenied("You may revoke only your own tokens.")
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            raise Conflict("This token is already revoked.")
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor, action="api_token.revoked", target=locked,
            payload={"user": locked.user.get_username(), "name": locked.name, "prefix": locked.prefix},
        )
    return locked
