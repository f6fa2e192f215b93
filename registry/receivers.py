"""A person's API tokens die with their password and their account.

A token is a password that never asks twice: when the password is changed or reset (the account page,
Django admin's "set password", ``changepassword``) or the account is deactivated (admin or a service),
every token of the user is revoked through ``api_tokens_revoke_all`` (audited, so the routing epoch
moves on and no process keeps a cached identity). Signals, because Django's own views and the admin
save users without going through Gatehouse's services.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
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
    from registry.services.tokens import api_tokens_revoke_all

    api_tokens_revoke_all(user=instance, reason=reason)


def connect() -> None:
    user_model = get_user_model()
    pre_save.connect(_remember, sender=user_model, dispatch_uid="registry-tokens-user-before")
    post_save.connect(_revoke_if_needed, sender=user_model, dispatch_uid="registry-tokens-user-after")
