"""The shared cache (Redis) down or hanging: people still sign in, failed sign-ins are still limited, pages
load, and an invalidation that could not be published during the outage is not lost."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from config.cache import forget
from routing import cache as routing_cache
from tests.factories import PASSWORD
from tests.faults import Silent, closed_port, redis_caches

LOGIN = "/accounts/login/"


@pytest.fixture(params=["down", "hanging"])
def broken_cache(request):
    """The shared cache is a Redis that is not there (a closed port), or one that accepts and never answers."""
    silent = Silent() if request.param == "hanging" else None
    url = f"redis://127.0.0.1:{silent.port if silent else closed_port()}/0"
    with override_settings(CACHES=redis_caches(url), CACHE_TIMEOUT_SECONDS=0.2):
        routing_cache.decisions.clear()
        routing_cache.identities.clear()
        forget()
        yield request.param
    if silent:
        silent.close()
    forget()
    routing_cache.decisions.clear()
    routing_cache.identities.clear()


def sign_in(client, username, password, address="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db(transaction=True)
def test_with_the_cache_down_or_hanging_people_sign_in_and_guessing_is_still_limited(broken_cache, product_owner):
    client = Client(raise_request_exception=False)
    response = sign_in(client, product_owner.username, PASSWORD)
    assert response.status_code == 302, response.content[:500]
    assert response["Location"] == reverse("registry:home")
    assert client.session["_auth_user_id"] == str(product_owner.pk)

    for url in ("/", reverse("registry:feature_list"), reverse("readiness:dashboard"), reverse("approvals:queue")):
        page = client.get(url)
        assert page.status_code == 200, (url, page.status_code)
    client.post(reverse("logout"))

    guesser = Client(raise_request_exception=False)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        failed = sign_in(guesser, product_owner.username, "wrong-password-123", address="10.0.0.9")
        assert failed.status_code == 200 and "_auth_user_id" not in guesser.session
    refused = sign_in(guesser, product_owner.username, PASSWORD, address="10.0.0.9")
    assert refused.status_code == 200
    assert "_auth_user_id" not in guesser.session
    assert "Too many failed sign-ins from your address" in refused.content.decode()


@pytest.mark.django_db(transaction=True)
def test_with_the_cache_down_or_hanging_the_sign_in_page_loads(broken_cache):
    page = Client(raise_request_exception=False).get(LOGIN)
    assert page.status_code == 200
