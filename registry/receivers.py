"""A person's API tokens die with their password and their account.

A token is a password that never asks twice: when the password is changed or reset (the account page,
Django admin's "set password", ``changepassword``) or the account is deactivated (admin or a service),
every token of the user is revoked through ``api_tokens_revoke_all`` (audited, so the routing epoch
moves on and no process keeps a cached identity); a deactivated account's sessions end too. Signals, because Django's own views and the admin
save users without going through Gatehouse's services.
"""

from __future__ import annotations

from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model, user_logged_in, user_logged_out
from django.db.models.signals import post_save, pre_save

_BEFORE = "_gatehouse_before_save"


def _remember(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. last_login on sign-in: nothing that concerns tokens
    before = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    setattr(instance, _BEFORE, before)


def _revoke_if_needed(sender, instance, created=False, raw=False, **kwargs) -> None:
    before = instance.__dict__.pop(_BEFORE, None)
    if raw or created or before is None:
        return
    reason = None
    if before["is_active"] and not instance.is_active:
        reason = "user deactivated"
    elif before["password"] != instance.password:
        reason = "password changed"
    if reason is None:
        return
    from registry.services.people import sessions_end_all
    from registry.services.tokens import api_tokens_revoke_all

    api_tokens_revoke_all(user=instance, reason=reason)
    if reason == "user deactivated":  # whatever the path (a service, the admin, a command): signed out at once
        sessions_end_all(user=instance)


_METHODS = {"oidc": "sso", "webauthn": "passkey", "passkey": "passkey"}


def _signed_in(sender, request, user, **kwargs) -> None:
    """Remember the session, so its owner and governance can see and end it."""
    from registry.services.people import session_record

    session = getattr(request, "session", None)
    if session is None:
        return
    if not session.session_key:
        session.save()
    backend = (session.get(BACKEND_SESSION_KEY) or "").lower()
    method = next((name for marker, name in _METHODS.items() if marker in backend), "password")
    session_record(
        user=user,
        session_key=session.session_key,
        method=method,
        ip_address=request.META.get("REMOTE_ADDR") or None,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


def _signed_out(sender, request, user, **kwargs) -> None:
    from registry.services.people import session_forget

    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        session_forget(session.session_key)


def connect() -> None:
    user_logged_in.connect(_signed_in, dispatch_uid="registry-sessions-signed-in")
    user_logged_out.connect(_signed_out, dispatch_uid="registry-sessions-signed-out")
    user_model = get_user_model()
    pre_save.connect(_remember, sender=user_model, dispatch_uid="registry-tokens-user-before")
    post_save.connect(_revoke_if_needed, sender=user_model, dispatch_uid="registry-tokens-user-after")
