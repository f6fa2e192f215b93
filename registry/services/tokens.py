"""API tokens: shown once, stored as a hash, scoped, expiring, revocable, each tied to a user."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.exceptions import Conflict
from registry.models import ApiToken, TokenScope
from registry.permissions import is_governance
from registry.services.audit import audit_record

TOKEN_PREFIX = "gh_"
DEFAULT_LIFETIME = timedelta(days=90)
MAX_LIFETIME = timedelta(days=366)
# Whoever may make a token that never expires: governance admins (for routers and alert intake that run
# unattended), and the command line (``operator=True``), whose user holds the server already.
NEVER = "never"


def _clean_scopes(scopes, *, user) -> list[str]:
    chosen = []
    for scope in scopes or ():
        if scope not in TokenScope.values:
            raise ValidationError({"scopes": f"Unknown scope {scope!r}; choose from {', '.join(TokenScope.values)}."})
        if scope not in chosen:
            chosen.append(scope)
    if not chosen:
        raise ValidationError({"scopes": "Choose at least one scope: what will the token be used for?"})
    if TokenScope.SCIM in chosen:
        # SCIM creates, changes and deactivates people: a governance admin's token for the identity provider,
        # good for nothing else.
        if not is_governance(user):
            raise ValidationError({"scopes": "Only a governance admin's token may have the SCIM provisioning scope."})
        if len(chosen) > 1:
            raise ValidationError(
                {"scopes": "A SCIM provisioning token does nothing else: choose SCIM provisioning alone."}
            )
    return [scope for scope in TokenScope.values if scope in chosen]  # one order everywhere


def _clean_expiry(actor, expires_at, *, operator: bool) -> datetime | None:
    now = timezone.now()
    if expires_at == NEVER or expires_at is None:
        if not (operator or is_governance(actor)):
            raise ValidationError({"expires": "Only governance admins make tokens that never expire; choose a date."})
        return None
    if expires_at <= now:
        raise ValidationError({"expires": "Choose an expiry in the future."})
    if expires_at - now > MAX_LIFETIME and not (operator or is_governance(actor)):
        raise ValidationError({"expires": "A token lives at most a year; make a new one when it expires."})
    return expires_at


def api_token_create(
    *, actor, user, name: str, scopes=(TokenScope.FULL,), expires_at=None, operator: bool = False
) -> tuple[ApiToken, str]:
    """Returns the token row and the raw token, which is never stored and cannot be shown again.

    ``expires_at``: a time, ``"never"``, or None for the default (90 days). The page and the command pass
    the person's choice of ``scopes``; the default (full access) serves code and tests only."""
    if actor.pk != user.pk and not is_governance(actor):
        raise PermissionDenied("You may create tokens only for yourself.")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the token after what will use it, e.g. ci-pipeline."})
    scopes = _clean_scopes(scopes, user=user)
    if expires_at is None:
        expires_at = timezone.now() + DEFAULT_LIFETIME
    expires_at = _clean_expiry(actor, expires_at, operator=operator)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken(
            user=user,
            name=name[:80],
            prefix=raw[:10],
            key_hash=ApiToken.hash_key(raw),
            scopes=scopes,
            expires_at=expires_at,
        )
        token.full_clean()
        token.save()
        audit_record(
            actor=actor,
            action="api_token.created",
            target=token,
            payload={
                "user": user.get_username(),
                "name": token.name,
                "prefix": token.prefix,
                "scopes": scopes,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return token, raw


def api_token_revoke(*, actor, token: ApiToken) -> ApiToken:
    if actor.pk != token.user_id and not is_governance(actor):
        raise PermissionDenied("You may revoke only your own tokens.")
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            raise Conflict("This token is already revoked.")
        _revoke(actor, locked, reason="")
    return locked


def _revoke(actor, token: ApiToken, *, reason: str) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    payload = {"user": token.user.get_username(), "name": token.name, "prefix": token.prefix}
    if reason:
        payload["reason"] = reason
    # Audited: a revocation starts a new routing epoch (routing.cache), so no process keeps the identity.
    audit_record(actor=actor, action="api_token.revoked", target=token, payload=payload)


def api_tokens_revoke_all(*, user, reason: str, actor=None) -> int:
    """Revoke every live token of ``user`` (a password changed or reset, the account deactivated).

    Called by Gatehouse itself (``registry.receivers``), so no permission applies; ``actor`` is who did
    it when known, else the audit names the system. Returns how many were revoked."""
    with transaction.atomic():
        tokens = list(
            ApiToken.objects.select_for_update()
            .select_related("user")
            .filter(user=user, revoked_at__isnull=True)
            .order_by("pk")
        )
        for token in tokens:
            _revoke(actor, token, reason=reason)
    return len(tokens)
