"""The hot path's shortcut: a resolve this process can answer from memory skips Django's handler.

Two doors, one rule. Under gunicorn, ``ResolveFront`` wraps the WSGI application (``config.wsgi``) and
answers before Django builds a request, sends its signals or runs a middleware: on the cached path those
were a seventh of the time, for nothing (no database, no session). Elsewhere (the ASGI stream process, the
test client, runserver) ``ResolveFastPathMiddleware``, first in ``MIDDLEWARE``, does the same from the
request. Both answer only when everything is already known under the current epoch and feature stamp:
the machine token's identity (verified earlier on the full path, in this process's memory) and the
decision (in memory, or shared by another process through the cache). Anything else (no token, a session,
an unknown token, a decision not cached, a host not allowed, plain http where https is required) goes
down the full stack, which checks and computes as usual and fills the caches. The security headers the
stack would add are added here.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpResponse
from django.http.request import split_domain_port, validate_host

from core.request_ids import new_request_id
from registry.choices import Environment
from routing import cache, services
from routing.auth import bearer_key, token_key

RESOLVE_PATH = "/api/v1/resolve/"
ENVIRONMENTS = frozenset(Environment.values)
STATUS_LINES = {200: "200 OK", 409: "409 Conflict"}


def answer_from_memory(key: str | None, params, secure: bool, request=None):
    """The answer if this process can give it from memory (``services.Resolution``), else None. ``key``:
    the token's hash (``routing.auth``); ``params``: the query; ``request``, when there is one, keeps the
    epoch and stamp read, so the full path does not read them again."""
    if key is None or (settings.SECURE_SSL_REDIRECT and not secure):
        return None
    feature, region = params.get("feature", "").strip(), params.get("region", "").strip()
    environment = params.get("environment", "").strip() or Environment.PRODUCTION
    if not feature or not region or environment not in ENVIRONMENTS:
        return None
    epoch, stamp, access = cache.current_route_stamps(feature)
    stamps = (epoch, stamp)
    if request is not None:
        request.routing_stamps, request.routing_access = stamps, access
    identity = cache.identities.get(access, key, time.monotonic())
    if identity is None or not identity.may_resolve():
        return None  # the full path answers: 401 for an expired token, 403 for one without the scope
    return services.cached_answer(
        identity=identity, feature_slug=feature, region_code=region, environment=environment, stamps=stamps
    )


def answer_headers(secure: bool) -> list[tuple[str, str]]:
    headers = [
        ("Content-Type", "application/json"),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", settings.SECURE_REFERRER_POLICY or "same-origin"),
    ]
    if settings.SECURE_HSTS_SECONDS and secure:
        headers.append(("Strict-Transport-Security", f"max-age={settings.SECURE_HSTS_SECONDS}"))
    headers.append(("X-Request-ID", new_request_id()))
    return headers


class ResolveFastPathMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == RESOLVE_PATH and request.method == "GET":
            response = self.answer_from_memory(request)
            if response is not None:
                return response
        return self.get_response(request)

    def answer_from_memory(self, request):
        key = token_key(request)
        if key is None:
            return None
        try:
            request.get_host()
        except DisallowedHost:
            return None
        secure = request.is_secure()
        answer = answer_from_memory(key, request.GET, secure, request)
        if answer is None:
            return None
        response = HttpResponse(answer.body, status=answer.status)
        for name, value in answer_headers(secure):
            response[name] = value
        return response


class ResolveFront:
    """WSGI middleware around Django's application: a resolve answered from memory before the handler.
    The checks Django's request would make are made here the same way (the host against
    ``ALLOWED_HOSTS``, https behind ``SECURE_PROXY_SSL_HEADER``); whatever they cannot settle goes to
    Django."""

    def __init__(self, application):
        self.application = application
        self._hosts: dict[str, bool] = {}

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == RESOLVE_PATH and environ.get("REQUEST_METHOD") == "GET":
            key = bearer_key(environ.get("HTTP_AUTHORIZATION", ""))
            if key is not None and self.host_allowed(environ):
                secure = self.is_secure(environ)
                params = self.query(environ)
                answer = None if params is None else answer_from_memory(key, params, secure)
                if answer is not None:
                    headers = answer_headers(secure)
                    headers.append(("Content-Length", str(len(answer.body))))
                    start_response(STATUS_LINES[answer.status], headers)
                    return [answer.body]
        return self.application(environ, start_response)

    def host_allowed(self, environ) -> bool:
        """``HttpRequest.get_host``'s check: the host asked for, allowed by ``ALLOWED_HOSTS``."""
        if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
            host = environ["HTTP_X_FORWARDED_HOST"]
        else:
            host = environ.get("HTTP_HOST")
        if not host:
            return False  # Django works it out from the server's name: let it
        allowed = self._hosts.get(host)
        if allowed is None:
            allowed_hosts = settings.ALLOWED_HOSTS
            if settings.DEBUG and not allowed_hosts:
                allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
            domain, _ = split_domain_port(host)
            allowed = bool(domain) and validate_host(domain, allowed_hosts)
            if len(self._hosts) < 64:
                self._hosts[host] = allowed
        return allowed

    @staticmethod
    def query(environ) -> dict | None:
        """The query as ``request.GET`` reads it (UTF-8, else Latin-1; blank values kept; the last of a repeated
        name), as a plain dict: building a ``QueryDict`` was a third of an answer. None when it has more
        fields than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` (Django answers that)."""
        raw = environ.get("QUERY_STRING", "").encode("iso-8859-1")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("iso-8859-1")
        try:
            return dict(
                parse_qsl(
                    text,
                    keep_blank_values=True,
                    encoding="utf-8",
                    max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
                )
            )
        except ValueError:
            return None

    @staticmethod
    def is_secure(environ) -> bool:
        """``HttpRequest.is_secure``: the proxy's header when one is configured, else the server's scheme."""
        if settings.SECURE_PROXY_SSL_HEADER:
            header, secure_value = settings.SECURE_PROXY_SSL_HEADER
            value = environ.get(header)
            if value is not None:
                return value.split(",", 1)[0].strip() == secure_value
        return environ.get("wsgi.url_scheme") == "https"
