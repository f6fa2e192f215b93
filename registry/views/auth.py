"""Signing in, with failed attempts limited per account and address (a password cannot be guessed by
trying thousands), on the app's sign-in page and Django admin's alike.

The counts live in the shared cache, so every web process sees the same ones. When the cache cannot be
reached (Redis down, or hanging: every cache call has a short timeout, ``CACHE_TIMEOUT_SECONDS``),
sign-in keeps working and the counts fall back to this process's memory: still a limit, per process,
until the cache is back. Failing open (no limit) would invite guessing during an outage; failing closed
(no sign-in) locked everyone out, the incident this replaced.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

from registry import extensions

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


class LocalCounts:
    """Failure counts in this process's memory, for when the shared cache is unreachable. Bounded: past
    ``MAX_KEYS`` the expired entries go, then the oldest, so a flood of addresses cannot exhaust memory."""

    MAX_KEYS = 10_000

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}

    def get(self, key: str) -> int:
        entry = self._counts.get(key)
        return entry[0] if entry and entry[1] > time.monotonic() else 0

    def incr(self, key: str, window: int) -> None:
        now = time.monotonic()
        with self._lock:
            count, expires = self._counts.get(key, (0, 0.0))
            if expires <= now:
                count, expires = 0, now + window
            self._counts[key] = (count + 1, expires)
            if len(self._counts) > self.MAX_KEYS:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                while len(self._counts) > self.MAX_KEYS:
                    self._counts.pop(next(iter(self._counts)))

    def delete(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


local_counts = LocalCounts()


def _unreachable(what: str) -> None:
    log.warning("sign-in limiter: the shared cache is unreachable (%s); counting in this process", what, exc_info=True)


def _blocked(keys) -> bool:
    try:
        counts = cache.get_many([key for key, _ in keys])
    except Exception:
        _unreachable("reading counts")
        counts = {}
    # The local counts too: failures counted during an outage still hold when the cache comes back.
    return any(max(counts.get(key, 0), local_counts.get(key)) >= limit for key, limit in keys)


def _count_failure(keys) -> None:
    window = settings.LOGIN_FAILURE_WINDOW
    for key, _ in keys:
        try:
            cache.add(key, 0, timeout=window)
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr: start again
                cache.set(key, 1, timeout=window)
        except Exception:
            _unreachable("counting a failure")
            local_counts.incr(key, window)


def _forget(key: str) -> None:
    local_counts.delete(key)
    try:
        cache.delete(key)
    except Exception:
        _unreachable("clearing a count")


class RateLimitedMixin:
    """The limit, for any ``AuthenticationForm``: refused before the password is even checked."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        refusal = extensions.password_sign_in_refusal(self.request, username)
        if refusal:
            log.info("sign-in refused: password sign-in is off for %r from %s", username, client_address(self.request))
            raise ValidationError(refusal, code="password_sign_in_off")
        keys = _keys(self.request, username)
        if _blocked(keys):
            log.warning("sign-in refused: too many failures for %r from %s", username, client_address(self.request))
            raise ValidationError(
                TOO_MANY.format(minutes=max(1, settings.LOGIN_FAILURE_WINDOW // 60)),
                code="too_many_attempts",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            _count_failure(keys)
            raise
        _forget(keys[0][0])  # this account from this address starts afresh
        return cleaned


class RateLimitedAuthenticationForm(RateLimitedMixin, AuthenticationForm):
    error_messages = {**AuthenticationForm.error_messages, "too_many_attempts": TOO_MANY}


class RateLimitedAdminAuthenticationForm(RateLimitedMixin, AdminAuthenticationForm):
    """Django admin's sign-in (staff only), under the same limit and the same counts as the app's."""


class LoginView(auth_views.LoginView):
    form_class = RateLimitedAuthenticationForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sign_in_methods"] = extensions.sign_in_methods_for(self.request)
        context["password_refusal"] = extensions.password_sign_in_refusal(self.request, "")
        return context
