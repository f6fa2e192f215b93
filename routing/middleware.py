"""The hot path's shortcut: a resolve this process can answer from memory skips the middleware stack.

Placed first in ``MIDDLEWARE``. It answers only when everything is already known under the current
epoch and feature stamp: the machine token's identity (verified earlier on the full path, in this
process's memory) and the decision (in memory, or shared by another process through the cache). Anything else (no token, a session, an unknown token, a decision not cached, a host not
allowed, plain http where https is required) goes down the full stack, which checks and computes as
usual and fills the caches. The security headers the stack would add are added here.
"""

import time
import uuid

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpResponse

from registry.choices import Environment
from routing import cache, services
from routing.auth import token_key

RESOLVE_PATH = "/api/v1/resolve/"
ENVIRONMENTS = frozenset(Environment.values)


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
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return None
        try:
            request.get_host()
        except DisallowedHost:
            return None
        params = request.GET
        feature, region = params.get("feature", "").strip(), params.get("region", "").strip()
        environment = params.get("environment", "").strip() or Environment.PRODUCTION
        if not feature or not region or environment not in ENVIRONMENTS:
            return None
        # Kept on the request: if this falls through, the full path uses the same values (one read).
        request.routing_stamps = stamps = cache.current_stamps(feature)
        epoch = request.routing_epoch = stamps[0]
        identity = cache.identities.get(epoch, key, time.monotonic())
        if identity is None or not identity.may_resolve():
            return None  # the full path answers: 401 for an expired token, 403 for one without the scope
        answer = services.cached_answer(
            identity=identity, feature_slug=feature, region_code=region, environment=environment, stamps=stamps
        )
        if answer is None:
            return None
        response = HttpResponse(answer.body, status=answer.status, content_type="application/json")
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        response["X-Frame-Options"] = "DENY"
        response["Referrer-Policy"] = settings.SECURE_REFERRER_POLICY or "same-origin"
        if settings.SECURE_HSTS_SECONDS and request.is_secure():
            response["Strict-Transport-Security"] = f"max-age={settings.SECURE_HSTS_SECONDS}"
        response["X-Request-ID"] = uuid.uuid4().hex
        return response
