"""The resolve fast path answers from memory only what the full path has already checked and computed."""

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
    for name in ("current_stamps", "current_epoch"):
        original = getattr(cache, name)
        monkeypatch.setattr(
            cache, name, lambda *args, _name=name, _original=original: reads.append(_name) or _original(*args)
        )
    assert resolve(router).status_code == 200  # nothing in memory yet: the full path answers
    assert reads == ["current_stamps"], "the epoch and the feature's stamp, in one round trip for the request"


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
