"""The resolve fast path answers from memory only what the full path has already checked and computed."""

import json
import secrets
from wsgiref.util import setup_testing_defaults

import pytest

from routing import tokens
from tests.routing.conftest import bearer, resolve


def strip_per_request(body):
    return {key: value for key, value in body.items() if key not in ("decision", "resolved_at")}


def test_the_fast_answer_is_the_full_answer_with_the_same_headers(router, live, monkeypatch):
    from routing import middleware

    full = resolve(router)
    answered_from_memory = []
    original = middleware.ResolveFastPathMiddleware.answer_from_memory

    def spy(self, request):
        response = original(self, request)
        answered_from_memory.append(response is not None)
        return response

    monkeypatch.setattr(middleware.ResolveFastPathMiddleware, "answer_from_memory", spy)
    fast = resolve(router)
    assert answered_from_memory == [True]
    assert strip_per_request(fast.json()) == strip_per_request(full.json())
    assert tokens.read(fast.json()["decision"]).version_id == live.pk
    for header in ("Cache-Control", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "X-Request-ID"):
        assert fast[header], header
    assert fast["Content-Type"] == full["Content-Type"] == "application/json"


def test_a_caller_who_may_not_see_a_cached_restricted_feature_takes_the_full_path_and_gets_404(
    live, feature, ml_engineer, outsider
):
    type(feature).objects.filter(pk=feature.pk).update(restricted=True)
    assert resolve(bearer(ml_engineer)).status_code == 200  # the decision is now in memory
    stranger = bearer(outsider)
    assert resolve(stranger, region="us").status_code == 404  # the stranger's identity is in memory too
    assert resolve(stranger).status_code == 404


def test_a_host_not_allowed_goes_down_the_full_stack_and_is_refused(router, live):
    resolve(router)
    response = router.get("/api/v1/resolve/", {"feature": "claims-triage", "region": "eu"}, HTTP_HOST="evil.example")
    assert response.status_code == 400


def test_a_request_that_falls_through_reads_the_epoch_and_stamp_once(router, live, monkeypatch):
    from routing import cache

    reads = []
    for name in ("current_stamps", "current_route_stamps", "current_epoch", "current_access"):
        original = getattr(cache, name)
        monkeypatch.setattr(
            cache, name, lambda *args, _name=name, _original=original: reads.append(_name) or _original(*args)
        )
    assert resolve(router).status_code == 200  # nothing in memory yet: the full path answers
    assert reads == ["current_route_stamps"], "the epoch, stamp and access, in one round trip for the request"


def test_a_decision_another_process_shared_is_answered_on_the_fast_path(
    router, live, monkeypatch, django_assert_num_queries
):
    from routing import cache, middleware

    resolve(router)
    cache.decisions.clear()  # this process never computed it; the shared cache holds it
    answered = []
    original = middleware.ResolveFastPathMiddleware.answer_from_memory
    monkeypatch.setattr(
        middleware.ResolveFastPathMiddleware,
        "answer_from_memory",
        lambda self, request: answered.append(original(self, request)) or answered[-1],
    )
    with django_assert_num_queries(0):
        response = resolve(router, region="us")
    assert response.status_code == 200 and answered[0] is not None
    assert tokens.read(response.json()["decision"]).version_id == live.pk


def test_a_resolve_token_is_answered_from_memory_and_an_alert_intake_token_never(
    router, live, ml_engineer, monkeypatch
):
    """The identity in memory carries the token's scopes: the fast path answers only tokens that may resolve."""
    from routing import middleware

    resolver = bearer(ml_engineer, name="resolver", scopes=["resolve"])
    intake = bearer(ml_engineer, name="intake", scopes=["alert_intake"])
    assert resolve(router).status_code == 200  # the decision is now in memory
    assert resolve(resolver).status_code == 200 and resolve(intake).status_code == 403  # identities too
    answered_from_memory = []
    original = middleware.ResolveFastPathMiddleware.answer_from_memory

    def spy(self, request):
        response = original(self, request)
        answered_from_memory.append(response is not None)
        return response

    monkeypatch.setattr(middleware.ResolveFastPathMiddleware, "answer_from_memory", spy)

    assert resolve(resolver).status_code == 200
    refused = resolve(intake)
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    assert answered_from_memory == [True, False]


def test_a_token_that_expires_while_its_identity_is_in_memory_is_refused_on_the_fast_path(
    live, ml_engineer, monkeypatch
):
    import time
    from datetime import timedelta

    from django.utils import timezone

    from registry.models import ApiToken
    from routing import auth

    client = bearer(ml_engineer, name="soon", scopes=["resolve"], expires_at=timezone.now() + timedelta(hours=1))
    assert resolve(client).status_code == 200
    assert resolve(client).status_code == 200  # answered from memory
    later = time.time() + 2 * 3600
    monkeypatch.setattr(auth.time, "time", lambda: later)
    ApiToken.objects.filter(name="soon").update(expires_at=timezone.now() - timedelta(seconds=1))  # the clock passed

    response = resolve(client)

    assert response.status_code == 401 and response.json()["code"] == "token_expired"


# --- Under gunicorn: answered ahead of Django's handler (config.wsgi) ----------------------------------


@pytest.fixture
def wsgi(ml_engineer):
    """GET the resolve path through the WSGI application gunicorn serves, with a router's token; the
    number of requests Django's handler saw is in ``.handled``."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from config.wsgi import application
    from registry.services.tokens import api_token_create

    _, raw = api_token_create(actor=ml_engineer, user=ml_engineer, name="wsgi-router")
    handled = []

    def get(query="feature=claims-triage&region=eu", **extra):
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/api/v1/resolve/",
            "QUERY_STRING": query,
            "HTTP_HOST": "testserver",
            "HTTP_AUTHORIZATION": f"Bearer {raw}",
            **extra,
        }
        setup_testing_defaults(environ)
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer.update(status=int(status.split()[0]), headers=dict(headers))

        # As Django's test client does for each request: the handler must not close the test's connection.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        request_started.connect(count)
        try:
            response = application(environ, start_response)
            answer["body"] = b"".join(response)
            getattr(response, "close", lambda: None)()
        finally:
            request_started.disconnect(count)
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return answer

    def count(**kwargs):
        handled.append(1)

    get.handled = handled
    return get


def test_under_gunicorn_a_cached_answer_never_reaches_djangos_handler(wsgi, router, live):
    full = resolve(router)  # through Django (the test client): computes and keeps the decision
    wsgi.handled.clear()
    first = wsgi()  # a new token: its identity is checked on the full path once
    assert first["status"] == 200 and len(wsgi.handled) == 1
    again = wsgi()
    assert again["status"] == 200 and len(wsgi.handled) == 1, "answered before Django's handler"
    assert strip_per_request(json.loads(again["body"])) == strip_per_request(full.json())
    assert tokens.read(json.loads(again["body"])["decision"]).version_id == live.pk
    assert again["headers"]["Content-Type"] == "application/json"
    assert again["headers"]["Content-Length"] == str(len(again["body"]))
    for header in ("Cache-Control", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "X-Request-ID"):
        assert again["headers"][header] == first["headers"][header] or header == "X-Request-ID", header
    refused = wsgi("feature=claims-triage&region=eu&environment=nowhere")
    assert refused["status"] == 400 and len(wsgi.handled) == 2  # what memory cannot settle goes to Django


def test_under_gunicorn_the_front_door_makes_djangos_host_and_https_checks(wsgi, router, live, settings):
    resolve(router)
    wsgi.handled.clear()
    wsgi()
    assert wsgi(HTTP_HOST="evil.example")["status"] == 400 and len(wsgi.handled) == 2

    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    wsgi()
    assert len(wsgi.handled) == 3  # plain http: Django's (its security middleware redirects)
    behind_proxy = wsgi(HTTP_X_FORWARDED_PROTO="https")
    assert behind_proxy["status"] == 200 and len(wsgi.handled) == 3
    assert behind_proxy["headers"]["Strict-Transport-Security"] == "max-age=3600"
    wsgi(HTTP_X_FORWARDED_PROTO="http, https")
    assert len(wsgi.handled) == 4


def test_decision_tokens_are_the_bytes_djangos_signing_makes_and_reads(settings, monkeypatch):
    from datetime import UTC, datetime

    from django.core import signing

    monkeypatch.setattr(signing.time, "time", lambda: 1_800_000_000.0)
    at = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    claims = dict(feature_id=7, version_id=3, region_id=2, environment="production", model_id=11, at=at)
    prepared = tokens.sign(**claims)
    assert prepared == signing.dumps([7, 3, 2, "p", 11, int(at.timestamp() * 1000)], salt=tokens.SALT)
    assert tokens.read(prepared).model_id == 11
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    rotated = tokens.sign(**claims)  # a new key: the signer is prepared again
    assert rotated != prepared and tokens.read(rotated).feature_id == 7
    with pytest.raises(tokens.BadToken):
        tokens.read(prepared)


def test_under_gunicorn_the_front_door_reads_the_query_as_django_does(wsgi, router, live, settings):
    resolve(router)
    resolve(router, region="us")
    wsgi.handled.clear()
    wsgi()
    repeated = wsgi("region=us&feature=claims%2Dtriage&region=eu")  # percent-encoded; the last region counts
    assert repeated["status"] == 200 and len(wsgi.handled) == 1
    assert json.loads(repeated["body"])["region"] == resolve(router).json()["region"]
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    too_many = wsgi("feature=claims-triage&region=eu&a=1&b=2")
    assert too_many["status"] == 400 and len(wsgi.handled) == 2  # Django refuses it, as it would anywhere
