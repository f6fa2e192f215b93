"""Single sign-on with OpenID Connect, on mozilla-django-oidc.

mozilla-django-oidc does the protocol (the authorization code flow with state, nonce and PKCE, the token
exchange, the provider's keys); this module adds what Gatehouse needs around it:

- configuration from the environment only, with the provider's endpoints taken from its discovery
  document, fetched lazily (at the first sign-in, with a short timeout) and kept for a while, so a provider
  that is down never stops Gatehouse from starting nor the password page from working;
- the ID token checked in full: signature (RS256, the provider's JWKS), issuer, audience, expiry, nonce;
- people matched by (issuer, subject), created at their first sign-in, refused if deactivated, and the
  group mappings applied at every sign-in (``identity.services.oidc_sign_in``);
- every failure turned into ``SsoFailure``: a sentence for the person and a log line for the operator
  (logger ``gatehouse.identity``), never a 500.
"""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import quote_plus

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from requests.auth import HTTPBasicAuth

from identity import services

log = logging.getLogger("gatehouse.identity")

TRY_AGAIN = "Try again; if it keeps failing, contact your governance team."
UNREACHABLE = "The identity provider could not be reached, so you could not be signed in."
MISCONFIGURED = "Gatehouse's connection to the identity provider is misconfigured, so you could not be signed in."
EXPIRED = "This sign-in expired or was already used (a link opened twice, or a page left open too long)."
REFUSED = "The identity provider's answer could not be trusted, so you were not signed in."


class SsoFailure(Exception):
    """A single sign-on that could not complete: ``person`` is shown, ``operator`` is logged."""

    def __init__(self, person: str, operator: str, *, level: int = logging.ERROR, status: int = 400):
        super().__init__(operator)
        self.person = person
        self.operator = operator
        self.level = level
        self.status = status

    def log(self) -> None:
        log.log(self.level, "%s", self.operator)


def configured() -> bool:
    """Single sign-on is on when an issuer and a client are configured."""
    return bool(settings.OIDC_ISSUER and settings.OIDC_RP_CLIENT_ID)


def provider_name() -> str:
    return settings.OIDC_PROVIDER_NAME


# --- Discovery -------------------------------------------------------------------------------------

_documents: dict[str, tuple[float, dict]] = {}
_documents_lock = threading.Lock()


def forget_discovery() -> None:
    with _documents_lock:
        _documents.clear()


def cached_discovery() -> dict | None:
    """The discovery document if this process holds a fresh one (no network)."""
    entry = _documents.get(settings.OIDC_ISSUER)
    return entry[1] if entry and entry[0] > time.monotonic() else None


def discovery() -> dict:
    """The provider's discovery document: from this process's cache, else fetched (OIDC_TIMEOUT_SECONDS)."""
    issuer = settings.OIDC_ISSUER
    found = cached_discovery()
    if found is not None:
        return found
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT, headers={"Accept": "application/json"})
    except requests.RequestException as error:
        raise SsoFailure(
            UNREACHABLE,
            f"OIDC discovery failed: {url} could not be reached ({type(error).__name__}: {error}) — check "
            "OIDC_ISSUER and that Gatehouse can reach the provider",
        ) from error
    if response.status_code != 200:
        raise SsoFailure(
            MISCONFIGURED,
            f"OIDC discovery failed: {url} answered HTTP {response.status_code} — check OIDC_ISSUER (the issuer "
            "URL, without /.well-known/...)",
        )
    try:
        document = response.json()
    except ValueError as error:
        raise SsoFailure(
            MISCONFIGURED, f"OIDC discovery failed: {url} did not answer JSON — check OIDC_ISSUER"
        ) from error
    missing = [
        key for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri") if not document.get(key)
    ]
    if not isinstance(document, dict) or missing:
        raise SsoFailure(MISCONFIGURED, f"OIDC discovery failed: {url} lacks {', '.join(missing)}")
    if str(document["issuer"]).rstrip("/") != issuer:
        raise SsoFailure(
            MISCONFIGURED,
            f"OIDC discovery: the provider names itself {document['issuer']!r} but OIDC_ISSUER is {issuer!r} — set "
            "OIDC_ISSUER to the provider's issuer exactly",
        )
    with _documents_lock:
        _documents[issuer] = (time.monotonic() + settings.OIDC_DISCOVERY_CACHE_SECONDS, document)
    return document


# --- The backend -----------------------------------------------------------------------------------


def _error_of(response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return str(body.get("error") or f"HTTP {response.status_code}"), str(body.get("error_description") or "")


class OidcBackend(OIDCAuthenticationBackend):
    """Signs in the person the identity provider vouches for; inert unless single sign-on is configured.

    Django makes a backend object for every request that reads a session, so nothing is read or fetched
    when one is made: the provider's endpoints are looked up when a sign-in comes back to Gatehouse."""

    def __init__(self, *args, **kwargs):
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        # Only the callback view asks with a nonce; a password sign-in never reaches the provider.
        if request is None or "nonce" not in kwargs or not configured():
            return None
        self.provider = discovery()
        self.OIDC_OP_TOKEN_ENDPOINT = self.provider["token_endpoint"]
        self.OIDC_OP_USER_ENDPOINT = self.provider.get("userinfo_endpoint") or ""
        self.OIDC_OP_JWKS_ENDPOINT = self.provider["jwks_uri"]
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        return super().authenticate(request, **kwargs)

    def get_token(self, payload):
        """The code for tokens, the client authenticated with client_secret_basic (id and secret
        form-encoded first, as RFC 6749 2.3.1 says, so a secret with reserved characters still works)."""
        data = {key: value for key, value in payload.items() if key != "client_secret"}
        credentials = HTTPBasicAuth(quote_plus(self.OIDC_RP_CLIENT_ID), quote_plus(self.OIDC_RP_CLIENT_SECRET))
        try:
            response = requests.post(
                self.OIDC_OP_TOKEN_ENDPOINT,
                data=data,
                auth=credentials,
                headers={"Accept": "application/json"},
                timeout=settings.OIDC_TIMEOUT,
            )
        except requests.RequestException as failure:
            raise SsoFailure(
                UNREACHABLE,
                f"OIDC token exchange failed: {self.OIDC_OP_TOKEN_ENDPOINT} could not be reached "
                f"({type(failure).__name__}: {failure})",
            ) from failure
        if response.status_code != 200:
            error, description = _error_of(response)
            detail = f" ({description})" if description else ""
            if error == "invalid_client":
                raise SsoFailure(
                    MISCONFIGURED,
                    f"OIDC token exchange refused: invalid_client{detail} — check OIDC_CLIENT_ID and "
                    "OIDC_CLIENT_SECRET",
                )
            if error == "invalid_grant":
                raise SsoFailure(
                    EXPIRED,
                    f"OIDC token exchange refused: invalid_grant{detail} — the authorization code expired or "
                    "was already used (a slow or repeated sign-in, not a configuration error)",
                    level=logging.WARNING,
                )
            raise SsoFailure(
                MISCONFIGURED,
                f"OIDC token exchange refused: {error}{detail} — check the client's settings at the provider "
                "(authorization code grant, client_secret_basic, redirect URI <base>/oidc/callback/)",
            )
        try:
            tokens = response.json()
        except ValueError as failure:
            raise SsoFailure(
                MISCONFIGURED, f"OIDC token exchange failed: {self.OIDC_OP_TOKEN_ENDPOINT} did not answer JSON"
            ) from failure
        if not isinstance(tokens, dict):
            raise SsoFailure(
                MISCONFIGURED, f"OIDC token exchange failed: {self.OIDC_OP_TOKEN_ENDPOINT} answered {tokens!r:.100}"
            )
        return tokens

    def verify_token(self, token, **kwargs):
        """The ID token: the provider's signature, this issuer, this client, not expired, this sign-in's nonce."""
        if not token:
            raise SsoFailure(REFUSED, "OIDC token response has no id_token — is 'openid' in OIDC_SCOPES?")
        try:
            key = self.retrieve_matching_jwk(token)
        except requests.RequestException as failure:
            raise SsoFailure(
                UNREACHABLE,
                f"OIDC provider keys could not be fetched from {self.OIDC_OP_JWKS_ENDPOINT} ({type(failure).__name__})",
            ) from failure
        except (SuspiciousOperation, jwt.PyJWTError, KeyError, ValueError, TypeError) as failure:
            raise SsoFailure(
                REFUSED, f"OIDC ID token rejected: no key of the provider's JWKS matches it ({failure})"
            ) from failure
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=self.provider["issuer"],
                leeway=60,
                options={"require": ["iss", "aud", "sub", "exp", "iat"]},
            )
        except jwt.PyJWTError as failure:
            raise SsoFailure(REFUSED, f"OIDC ID token rejected: {failure}") from failure
        audiences = payload["aud"] if isinstance(payload["aud"], list) else [payload["aud"]]
        if len(audiences) > 1 and payload.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SsoFailure(REFUSED, "OIDC ID token rejected: several audiences and this client is not its azp")
        if payload.get("nonce") != kwargs.get("nonce"):
            raise SsoFailure(REFUSED, "OIDC ID token rejected: its nonce is not this sign-in's (a replayed answer?)")
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        if not (self.OIDC_OP_USER_ENDPOINT and access_token):
            return {}
        try:
            response = requests.get(
                self.OIDC_OP_USER_ENDPOINT,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                timeout=settings.OIDC_TIMEOUT,
            )
            response.raise_for_status()
            userinfo = response.json()
        except requests.RequestException as failure:
            raise SsoFailure(
                UNREACHABLE, f"OIDC userinfo request to {self.OIDC_OP_USER_ENDPOINT} failed ({failure})"
            ) from failure
        except ValueError as failure:
            raise SsoFailure(
                MISCONFIGURED,
                f"OIDC userinfo from {self.OIDC_OP_USER_ENDPOINT} is not JSON (signed userinfo is not supported)",
            ) from failure
        if not isinstance(userinfo, dict) or userinfo.get("sub") != payload.get("sub"):
            raise SsoFailure(REFUSED, "OIDC userinfo rejected: it is not about the ID token's subject")
        return userinfo

    def store_tokens(self, access_token, id_token):
        """Only the ID token is kept, after the sign-in (as the hint for signing out at the provider)."""
        self.request.gatehouse_id_token = id_token

    def get_or_create_user(self, access_token, id_token, payload):
        claims = {**payload, **self.get_userinfo(access_token, id_token, payload)}
        try:
            signed_in = services.oidc_sign_in(
                issuer=self.provider["issuer"],
                claims=claims,
                groups_claim=settings.OIDC_GROUPS_CLAIM,
                username_claim=settings.OIDC_USERNAME_CLAIM,
            )
        except services.SignInRefused as refusal:
            if refusal.no_access:
                raise SsoFailure(
                    "Your identity provider does not give you access to Gatehouse: ask your governance team.",
                    f"OIDC sign-in refused: {refusal} (OIDC_ACCESS_GROUP)",
                    level=logging.WARNING,
                    status=403,
                ) from refusal
            if refusal.deactivated:
                raise SsoFailure(
                    "Your Gatehouse account is deactivated: ask your governance team if that is a mistake.",
                    f"OIDC sign-in refused: {refusal}",
                    level=logging.WARNING,
                    status=403,
                ) from refusal
            raise SsoFailure(REFUSED, f"OIDC sign-in refused: {refusal}") from refusal
        if signed_in.groups is None:
            log.warning(
                "OIDC sign-in of %s: no %r claim in the ID token or userinfo — signed in with no roles or teams "
                "from group mappings; check OIDC_GROUPS_CLAIM, OIDC_SCOPES and the provider's groups mapper",
                signed_in.user.get_username(),
                settings.OIDC_GROUPS_CLAIM,
            )
        self.request.gatehouse_sign_in = signed_in
        return signed_in.user


# --- The sign-in page, password sign-in and break-glass accounts ---------------------------------


def password_sign_in_refusal(request, username: str) -> str | None:
    """PASSWORD_SIGN_IN=off: a password signs in only the accounts BREAK_GLASS_USERS names (exactly)."""
    if settings.PASSWORD_SIGN_IN:
        return None
    if username and username in settings.BREAK_GLASS_USERS:
        return None
    if configured():
        return f"Password sign-in is switched off: sign in with {provider_name()}. Only break-glass accounts use a password."
    return "Password sign-in is switched off. Only break-glass accounts use a password."


def sign_in_button(request) -> dict | None:
    if not configured():
        return None
    from urllib.parse import urlencode

    from django.urls import reverse
    from django.utils.http import url_has_allowed_host_and_scheme

    url = reverse("identity:oidc_start")
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        url += "?" + urlencode({"next": next_url})
    return {"label": f"Sign in with {provider_name()}", "url": url}


def _break_glass_signed_in(sender, request, user, **kwargs) -> None:
    """Password sign-in is off and a break-glass account just used one: the trail says so."""
    if settings.PASSWORD_SIGN_IN or request is None:
        return
    if isinstance(getattr(user, "backend", ""), str) and user.backend.endswith(".OidcBackend"):
        return
    if user.get_username() not in settings.BREAK_GLASS_USERS:
        return
    address = request.META.get("REMOTE_ADDR") or "unknown"
    log.warning("break-glass sign-in with a password: %s from %s", user.get_username(), address)
    services.break_glass_sign_in_record(user=user, address=address)


def _check_settings(app_configs, **kwargs):
    from django.core.checks import Warning

    found = []
    if not settings.PASSWORD_SIGN_IN and not configured():
        found.append(
            Warning(
                "PASSWORD_SIGN_IN is off but single sign-on is not configured (OIDC_ISSUER, OIDC_CLIENT_ID): only "
                "the BREAK_GLASS_USERS accounts can sign in.",
                id="identity.W001",
            )
        )
    if settings.OIDC_ISSUER and not (settings.OIDC_RP_CLIENT_ID and settings.OIDC_RP_CLIENT_SECRET):
        found.append(Warning("OIDC_ISSUER is set but OIDC_CLIENT_ID or OIDC_CLIENT_SECRET is not.", id="identity.W002"))
    return found


def connect() -> None:
    """Called from IdentityConfig.ready: the sign-in page's button, the password guard, the break-glass trail."""
    from django.contrib.auth import user_logged_in
    from django.core.checks import register

    from registry import extensions

    if sign_in_button not in extensions.sign_in_methods:
        extensions.sign_in_methods.append(sign_in_button)
    if password_sign_in_refusal not in extensions.password_sign_in_guards:
        extensions.password_sign_in_guards.append(password_sign_in_refusal)
    user_logged_in.connect(_break_glass_signed_in, dispatch_uid="identity-break-glass-sign-in")
    register(_check_settings)
