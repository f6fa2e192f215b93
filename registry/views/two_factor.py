"""The second step of signing in, and the account security page where users add and remove their second
factor (authenticator app, passkey, backup codes). The services in registry.services.two_factor decide
and audit; these views only ask and show.

Wrong codes are limited per account (SECOND_FACTOR_FAILURE_LIMIT within LOGIN_FAILURE_WINDOW) in the
shared cache, on top of each device's own growing delay, which django-otp keeps in the database: if the
cache cannot be reached, that delay still holds and sign-in still works.
"""

from __future__ import annotations

import io
import json
import logging

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views import View
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp_webauthn import views as webauthn_views
from django_otp_webauthn.models import WebAuthnCredential

from core.views import found_or_404
from registry import selectors
from registry.middleware import remember_has_device
from registry.services import two_factor as service
from registry.views.auth import client_address

log = logging.getLogger(__name__)

PENDING_KEY_SESSION = "gatehouse_pending_totp_key"
TOO_MANY = (
    "Too many wrong codes for this account. Wait {minutes} minutes and try again, or sign out and ask a "
    "governance admin to reset your second factor."
)
WRONG_CODE = "That code is not right. Type the 6 digits your app shows now, or one of your backup codes."
WAIT = "Too many wrong codes in a row: wait a few seconds, then type the code your app shows then."


# --- the per-account limit on wrong codes ------------------------------------------------------------


def _failure_key(user) -> str:
    return f"gatehouse:second-factor-failures:{user.pk}"


def _blocked(user) -> bool:
    try:
        return (cache.get(_failure_key(user)) or 0) >= settings.SECOND_FACTOR_FAILURE_LIMIT
    except Exception:  # the cache is down: the devices' own delays (in the database) still hold
        log.warning("second factor: cache unreachable, relying on the devices' own throttling", exc_info=True)
        return False


def _count_failure(user, request) -> None:
    log.warning("second factor refused for %r from %s", user.get_username(), client_address(request))
    key = _failure_key(user)
    try:
        if not cache.add(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW):
            cache.incr(key)
    except ValueError:  # expired between add and incr: start again
        cache.set(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW)
    except Exception:
        log.warning("second factor: cache unreachable, failure not counted", exc_info=True)


def _reset_failures(user) -> None:
    try:
        cache.delete(_failure_key(user))
    except Exception:
        log.warning("second factor: cache unreachable, failures not reset", exc_info=True)


def _too_many_message() -> str:
    return TOO_MANY.format(minutes=max(1, settings.LOGIN_FAILURE_WINDOW // 60))


def _check_code(request, code: str):
    """The device the code matched, or raises ValidationError with what to do next."""
    user = request.user
    if _blocked(user):
        raise ValidationError(_too_many_message(), code="too_many_attempts")
    waiting = service.throttled_until(user)  # a device still waiting after a failure checks nothing
    device = service.code_verify(user=user, code=code)
    if device is None:
        _count_failure(user, request)
        raise ValidationError(WAIT if waiting and waiting > timezone.now() else WRONG_CODE, code="wrong_code")
    _reset_failures(user)
    return device


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=40,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )


def _safe_next(request, default: str) -> str:
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(default)


def _verified(request, device) -> None:
    """The session now counts as signed in with two factors; a new session key for it, as at sign-in."""
    request.session.cycle_key()
    otp_login(request, device)
    remember_has_device(request, True)


# --- the second step ----------------------------------------------------------------------------------


@method_decorator(never_cache, name="dispatch")
class VerifyView(View):
    template_name = "registration/verify.html"

    def render_page(self, request, form, status=200):
        user = request.user
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "next": _safe_next(request, settings.LOGIN_REDIRECT_URL),
                "has_passkey": selectors.confirmed_devices_of(user, WebAuthnCredential).exists(),
                "hide_nav": True,
            },
            status=status,
        )

    def nothing_to_ask(self, request) -> bool:
        """Already verified, or no device to verify with (a user without one signs in with the password)."""
        return request.user.is_verified() or not service.has_second_factor(request.user)

    def get(self, request):
        if self.nothing_to_ask(request):
            return redirect(_safe_next(request, settings.LOGIN_REDIRECT_URL))
        return self.render_page(request, CodeForm())

    def post(self, request):
        if self.nothing_to_ask(request):
            return redirect(_safe_next(request, settings.LOGIN_REDIRECT_URL))
        form = CodeForm(request.POST)
        if form.is_valid():
            try:
                device = _check_code(request, form.cleaned_data["code"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                _verified(request, device)
                if device.__class__.__name__ == "StaticDevice":
                    left = service.backup_codes_left(request.user) or 0
                    messages.warning(
                        request,
                        f"You used a backup code; {left} left. Make new ones on the "
                        "Account security page if you are running low.",
                    )
                return redirect(_safe_next(request, settings.LOGIN_REDIRECT_URL))
        return self.render_page(request, form, status=400)


# --- the account security page ------------------------------------------------------------------------


def _qr_svg(text: str) -> str:
    """The QR code as inline SVG, drawn here: no image service, works on a closed network."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    return svg[svg.index("<svg") :] if "<svg" in svg else svg


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@method_decorator(never_cache, name="dispatch")
class SecurityView(View):
    template_name = "registry/account_security.html"

    def get(self, request):
        user = request.user
        return render(
            request,
            self.template_name,
            {
                "apps": selectors.confirmed_devices_of(user, service.TOTPDevice),
                "passkeys": selectors.confirmed_devices_of(user, WebAuthnCredential),
                "backup_left": service.backup_codes_left(user),
                "required": service.two_factor_required(user),
                "has_device": service.has_second_factor(user),
                "hide_nav": not request.user.is_verified()
                and service.two_factor_required(user)
                and not service.has_second_factor(user),
            },
        )


class TotpSetupForm(CodeForm):
    name = forms.CharField(
        label="Name",
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": service.DEFAULT_TOTP_NAME}),
    )
    field_order = ["code", "name"]


@method_decorator(never_cache, name="dispatch")
class TotpSetupView(View):
    """Shows a new secret (QR code, and as text), then adds the app once it gives a right code. The secret
    stays in the session until then: nothing is stored for a setup left half way."""

    template_name = "registry/totp_setup.html"

    def render_page(self, request, form, status=200):
        key = request.session.get(PENDING_KEY_SESSION)
        if not key:
            key = request.session[PENDING_KEY_SESSION] = service.new_totp_key()
        url = service.totp_config_url(request.user, key)
        secret = url.split("secret=", 1)[1].split("&", 1)[0]
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "qr_svg": mark_safe(_qr_svg(url)),
                "secret": _grouped(secret),
                "otpauth_url": url,
                "hide_nav": not request.user.is_verified() and not service.has_second_factor(request.user),
            },
            status=status,
        )

    def get(self, request):
        return self.render_page(request, TotpSetupForm())

    def post(self, request):
        form = TotpSetupForm(request.POST)
        key = request.session.get(PENDING_KEY_SESSION)
        if form.is_valid() and key:
            try:
                device, codes = service.totp_device_confirm(
                    user=request.user,
                    key=key,
                    code=form.cleaned_data["code"],
                    name=form.cleaned_data["name"],
                )
            except ValidationError as error:
                form.add_error("code", error.message_dict.get("code", error.messages))
            else:
                del request.session[PENDING_KEY_SESSION]
                if not request.user.is_verified():
                    _verified(request, device)
                if codes:
                    return render(request, "registry/backup_codes.html", {"codes": _shown(codes), "first": True})
                messages.success(request, f"Added {device.name}. Sign-ins now ask for its code after the password.")
                return redirect("two_factor:security")
        return self.render_page(request, form, status=400)


def _shown(codes: list[str]) -> list[str]:
    return [f"{code[:4]}-{code[4:]}" for code in codes]


@method_decorator(never_cache, name="dispatch")
class BackupCodesView(View):
    """New backup codes, shown once on the answer to the POST (only their count is kept visible)."""

    def post(self, request):
        try:
            codes = service.backup_codes_regenerate(user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("two_factor:security")
        remember_has_device(request, True)
        return render(request, "registry/backup_codes.html", {"codes": _shown(codes), "first": False})


class RemoveForm(forms.Form):
    proof = forms.CharField(
        label="Your password, or a current code",
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


@method_decorator(never_cache, name="dispatch")
class DeviceRemoveView(View):
    """Removing a device asks again for the password or a current code: a session left open on a shared
    screen must not be enough to take the second factor off an account."""

    template_name = "registry/device_remove.html"

    @found_or_404("No such device on your account.")
    def device(self):
        model = service.DEVICE_KINDS.get(self.kwargs["kind"])
        return selectors.device_of(user=self.request.user, model=model, pk=self.kwargs["pk"]) if model else None

    def render_page(self, request, device, form, status=200):
        last = not isinstance(device, service.StaticDevice) and len(service.primary_devices(request.user)) == 1
        return render(
            request,
            self.template_name,
            {
                "device": device,
                "kind": service.KIND_WORDS[type(device)],
                "form": form,
                "last": last,
                "required": service.two_factor_required(request.user),
            },
            status=status,
        )

    def get(self, request, kind, pk):
        return self.render_page(request, self.device, RemoveForm())

    def post(self, request, kind, pk):
        device = self.device
        form = RemoveForm(request.POST)
        if form.is_valid():
            proof = form.cleaned_data["proof"]
            if _blocked(request.user):
                form.add_error(None, _too_many_message())
            elif not (request.user.check_password(proof) or service.code_verify(user=request.user, code=proof)):
                _count_failure(request.user, request)
                form.add_error("proof", "That is neither your password nor a current code.")
            else:
                _reset_failures(request.user)
                name = device.name
                service.device_remove(user=request.user, device=device)
                remember_has_device(request, service.has_second_factor(request.user))
                messages.success(request, f"Removed {name}.")
                return redirect("two_factor:security")
        return self.render_page(request, device, form, status=400)


# --- passkeys (django-otp-webauthn's views, audited) ------------------------------------------------


class PasskeyRegistrationCompleteView(webauthn_views.CompleteCredentialRegistrationView):
    """django-otp-webauthn saves the passkey; it is audited in the same transaction, and the session
    remembers the account now has a second factor."""

    def post(self, *args, **kwargs):
        with transaction.atomic():
            response = super().post(*args, **kwargs)
            credential = selectors.passkey(json.loads(response.content)["id"])
            service.passkey_added(user=self.request.user, credential=credential)
        remember_has_device(self.request, True)
        return response


class PasskeyAuthenticationCompleteView(webauthn_views.CompleteCredentialAuthenticationView):
    """The second step with a passkey: the same per-account limit as codes, and a new session key."""

    def check_can_authenticate(self):
        super().check_can_authenticate()
        if self.request.user.is_authenticated and _blocked(self.request.user):
            raise PasskeyRefused(_too_many_message())

    def complete_auth(self, device):
        _reset_failures(self.request.user)
        _verified(self.request, device)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if (
            self.request.user.is_authenticated
            and getattr(response, "status_code", 200) >= 400
            and not isinstance(exc, PasskeyRefused)
        ):
            _count_failure(self.request.user, self.request)
        return response


class PasskeyRefused(webauthn_views.exceptions.OTPWebAuthnApiError):
    status_code = 429
    default_code = "too_many_attempts"
    default_detail = "Too many failed attempts."
