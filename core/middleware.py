import re
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import (
    LoginRequiredMiddleware as DjangoLoginRequiredMiddleware,
)
from django.db import IntegrityError
from django.http import JsonResponse
from django.shortcuts import render

from core import error_codes
from core.audit_context import AuditSource, audit_context
from core.request_ids import new_request_id

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class AuditContextMiddleware:
    """Tags every write made while serving a request with its source and a request id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if _REQUEST_ID.match(supplied) else new_request_id()
        # SCIM provisioning (/scim/) is an API too: a machine with a token, not a person on a page.
        source = AuditSource.API if request.path_info.startswith(("/api/", "/scim/")) else AuditSource.WEB
        request.request_id = request_id
        with audit_context(source=source, request_id=request_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Every page needs a signed-in user. The API answers 401/403 itself (it also takes tokens)."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


def policy_with_inline_styles(policy: str) -> str:
    """``policy`` with ``'unsafe-inline'`` added to its style sources (and nothing else changed)."""
    directives = [part.split() for part in policy.split(";") if part.strip()]
    sources = {name: values for name, *values in directives}
    style = [source for source in sources.get("style-src", sources.get("default-src", [])) if source != "'none'"]
    style_src = ["style-src", *dict.fromkeys([*style, "'unsafe-inline'"])]
    if "style-src" not in sources:
        directives.append(style_src)
    return "; ".join(" ".join(style_src if parts[0] == "style-src" else parts) for parts in directives)


class ContentSecurityPolicyMiddleware:
    """Sends ``settings.CONTENT_SECURITY_POLICY`` with every response that does not set its own.

    Scripts and styles come from this origin only (htmx, Chart.js and the app's own, vendored in
    ``static/``; no inline script, ``on...=`` handler, inline style attribute or style element anywhere, the
    API docs and the admin included), which takes away the reach of injected markup even where escaping
    failed.

    One exception: Django REST framework's browsable API (an API address opened in a browser) is its
    package's page, written with inline style attributes and a style element throughout; it gets the same
    policy with inline styles allowed. Its scripts stay held to this origin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            if getattr(getattr(response, "accepted_renderer", None), "format", None) == "api":
                policy = policy_with_inline_styles(policy)
            response["Content-Security-Policy"] = policy
        return response


SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
NUL_REFUSED = (
    "The address contains a NUL character (%00), which no search, name or id can hold. Remove it and try again."
)


class RejectNulMiddleware:
    """A NUL byte in the path or query string is answered 400 before any view runs.

    PostgreSQL cannot hold or compare a string with NUL in it, so one in ``?q=`` or ``?feature=`` reached
    the database as an error (a 500) on any page that filters by it. One rule here instead of a check in
    every view that reads the query: nothing legitimate ever sends one. (Form and JSON fields are checked
    by their fields' own validators.) The check is a substring test, cheap on every request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "%00" in request.META.get("QUERY_STRING", "") or "\x00" in request.path_info:
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": NUL_REFUSED, "code": error_codes.INVALID}, status=400)
            if request.path_info.startswith("/scim/"):  # SCIM provisioning answers SCIM errors (RFC 7644 §3.12)
                error = {"schemas": [SCIM_ERROR], "status": "400", "scimType": "invalidValue", "detail": NUL_REFUSED}
                return JsonResponse(error, status=400, content_type="application/scim+json")
            return render(request, "400.html", {"message": NUL_REFUSED}, status=400)
        return self.get_response(request)


class ApiNoStoreMiddleware:
    """Every API answer carries ``Cache-Control: no-store`` unless its view chose otherwise.

    API answers are per caller (what their roles and teams may see), so no browser, proxy or CDN may
    keep one for anyone else, or on disk; error answers included, since they can say what exists."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith("/api/") and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


class ConcurrentWriteMiddleware:
    """A page whose write lost a race on a unique value (two people creating the same thing at the same
    moment) answers 409 with a page that says so, instead of a 500. Services turn the races they expect
    into field errors (``core.locks.save_unique``); this is the net for the rest. The API has its own
    (``core.api.exceptions``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, IntegrityError) or request.path_info.startswith("/api/"):
            return None
        return render(request, "409.html", status=409)


SEEN_KEY = "gatehouse_seen"
SEEN_RESOLUTION = 60  # seconds: the session is written at most once a minute to remember activity


class IdleSessionMiddleware:
    """Signs a person out after ``SESSION_IDLE_TIMEOUT`` seconds without a request, besides the absolute
    ``SESSION_COOKIE_AGE`` counted from sign-in: an unlocked screen left for the night is not a session
    anyone may use. The last activity is kept in the session to the minute, so an active person's session
    is saved once a minute, not on every request. Machine tokens are not sessions and are not affected."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timeout = settings.SESSION_IDLE_TIMEOUT
        user = getattr(request, "user", None)
        if timeout and user is not None and user.is_authenticated:
            now = int(time.time())
            seen = request.session.get(SEEN_KEY)
            if isinstance(seen, int) and now - seen > timeout:
                logout(request)
                messages.info(
                    request,
                    f"You were signed out after {max(1, timeout // 60)} minutes without activity. "
                    "Sign in again to go on.",
                )
            elif not isinstance(seen, int) or now - seen >= SEEN_RESOLUTION:
                request.session[SEEN_KEY] = now
        return self.get_response(request)
