"""Sign-in middleware: the second step of a sign-in for users with (or required to have) a second factor, and
the time zone a person's pages show times in."""

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME, user_logged_in
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from registry import zones
from registry.services.people import time_zone_of
from registry.services.two_factor import has_second_factor, two_factor_required

HAS_DEVICE_SESSION_KEY = "gatehouse_has_second_factor"
# Set by single sign-on (identity.oidc) after its sign-in: the identity provider asked for the second factor.
SIGNED_IN_AT_IDENTITY_PROVIDER_SESSION_KEY = "gatehouse_signed_in_at_identity_provider"


def _forget_device_answer(sender, request, user, **kwargs):
    """A new sign-in asks again whether the user has a device (it may have been added elsewhere), and is a
    password sign-in until single sign-on says otherwise."""
    if request is not None and hasattr(request, "session"):
        request.session.pop(HAS_DEVICE_SESSION_KEY, None)
        request.session.pop(SIGNED_IN_AT_IDENTITY_PROVIDER_SESSION_KEY, None)


def mark_signed_in_at_identity_provider(request) -> None:
    """This session was signed in by the identity provider, whose own policy (MFA) is the second factor."""
    request.session[SIGNED_IN_AT_IDENTITY_PROVIDER_SESSION_KEY] = True


user_logged_in.connect(_forget_device_answer, dispatch_uid="gatehouse-second-factor-login")


def remember_has_device(request, has_device: bool) -> None:
    request.session[HAS_DEVICE_SESSION_KEY] = has_device


class SecondFactorMiddleware:
    """A password alone is half a sign-in for a user with a second factor, or one who must have one.

    Such a session reaches only the second step (/accounts/verify/), or, for a user GATEHOUSE_REQUIRE_2FA_FOR
    names who has no device yet, the security page to add one; every other page redirects there, Django
    admin included. The API does not see such a session at all (it answers as to an anonymous caller);
    API tokens are unaffected. Whether the user has a device is looked up once per sign-in and kept in
    the session, so pages of users without one cost no extra query.

    A session signed in through single sign-on is not asked: the identity provider authenticated the
    person under the company's policy, multi-factor included (docs/identity.md). The local second factor
    guards passwords, so break-glass accounts keep it."""

    VERIFY_OPEN = ("two_factor:verify", "login", "logout")
    SETUP_OPEN = ("login", "logout")
    VERIFY_PREFIXES = ("/account/passkeys/authentication/", "/account/passkeys/jsi18n/")
    SETUP_PREFIXES = ("/account/security/", "/account/passkeys/registration/", "/account/passkeys/jsi18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self._check(request)
        return response if response is not None else self.get_response(request)

    def _check(self, request):
        user = request.user
        if not user.is_authenticated or request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return None
        if DEVICE_ID_SESSION_KEY in request.session and user.is_verified():
            return None
        if request.session.get(SIGNED_IN_AT_IDENTITY_PROVIDER_SESSION_KEY):
            return None
        has_device = request.session.get(HAS_DEVICE_SESSION_KEY)
        if has_device is None:
            has_device = has_second_factor(user)
            remember_has_device(request, has_device)
        if has_device:
            target, names, prefixes = "two_factor:verify", self.VERIFY_OPEN, self.VERIFY_PREFIXES
        elif two_factor_required(user):
            target, names, prefixes = "two_factor:security", self.SETUP_OPEN, self.SETUP_PREFIXES
        else:
            return None
        if request.path_info.startswith("/api/"):
            request.user = AnonymousUser()  # half signed in is not signed in
            return None
        path = request.path_info
        if path.startswith(prefixes) or any(path == reverse(name) for name in names):
            return None
        if request.method in ("GET", "HEAD"):
            return redirect_to_login(request.get_full_path(), reverse(target), REDIRECT_FIELD_NAME)
        return redirect(target)


def _remember_time_zone(sender, request, user, **kwargs):
    """A sign-in reads the person's time zone once; the session keeps it (no query per page)."""
    if request is not None and hasattr(request, "session"):
        request.session[zones.SESSION_KEY] = time_zone_of(user)


user_logged_in.connect(_remember_time_zone, dispatch_uid="gatehouse-time-zone-login")


def remember_time_zone(request, time_zone: str) -> None:
    """The account page's change applies to this session at once (others at their next sign-in)."""
    request.session[zones.SESSION_KEY] = time_zone


class PersonTimeZoneMiddleware:
    """Pages show times in the signed-in person's zone; the API and SCIM keep UTC, whoever calls."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(("/api/", "/scim/")) or not request.user.is_authenticated:
            timezone.deactivate()
            return self.get_response(request)
        name = request.session.get(zones.SESSION_KEY)
        if name is None:  # a session from before the setting existed
            name = request.session[zones.SESSION_KEY] = time_zone_of(request.user)
        timezone.activate(zones.zone(name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
