"""Signing in, with failed attempts limited per account and address (a password cannot be guessed by
trying thousands)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

log = logging.getLogger(__name__)

TOO_MANY = (
    "Too many failed sign-ins from your address. Wait {minutes} minutes and try again, or ask a governance "
    "admin to reset your password."
)


def client_address(request) -> str:
    """REMOTE_ADDR: behind a proxy, the proxy must set it (e.g. gunicorn's --forwarded-allow-ips);
    a client-supplied X-Forwarded-For is never trusted here."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def _keys(request, username: str) -> list[tuple[str, int]]:
    address = client_address(request)
    return [
        (f"gatehouse:login-failures:{address}:{username.strip().lower()[:150]}", settings.LOGIN_FAILURE_LIMIT),
        (f"gatehouse:login-failures:{address}", settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS),
    ]


def _blocked(keys) -> bool:
    counts = cache.get_many([key for key, _ in keys])
    return any(counts.get(key, 0) >= limit for key, limit in keys)


def _count_failure(keys) -> None:
    for key, _ in keys:
        cache.add(key, 0, timeout=settings.LOGIN_FAILURE_WINDOW)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr: start again
            cache.set(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW)


class RateLimitedAuthenticationForm(AuthenticationForm):
    error_messages = {**AuthenticationForm.error_messages, "too_many_attempts": TOO_MANY}

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        keys = _keys(self.request, username)
        if _blocked(keys):
            log.warning("sign-in refused: too many failures for %r from %s", username, client_address(self.request))
            raise ValidationError(
                self.error_messages["too_many_attempts"].format(minutes=max(1, settings.LOGIN_FAILURE_WINDOW // 60)),
                code="too_many_attempts",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            _count_failure(keys)
            raise
        cache.delete(keys[0][0])  # this account from this address starts afresh
        return cleaned


class LoginView(auth_views.LoginView):
    form_class = RateLimitedAuthenticationForm
