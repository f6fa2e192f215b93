"""Sign-in while the shared cache (Redis) is down or hangs (issue 16): people still sign in, guessing is
still limited (in the process's memory), and nothing waits longer than the cache timeout. Also: Django
admin's sign-in shares the limit, and an idle session ends."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from registry.views.auth import local_counts
from tests.factories import PASSWORD, UserFactory
from tests.faults import Silent, closed_port, redis_caches

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
WRONG = "wrong-password-123"


@pytest.fixture(autouse=True)
def fresh_counts():
    local_counts.clear()
    cache.clear()
    yield
    local_counts.clear()
    cache.clear()


def redis_at(url):
    return override_settings(CACHES=redis_caches(url, timeout=0.3))


@pytest.fixture
def redis_down():
    with redis_at(f"redis://127.0.0.1:{closed_port()}/0"):
        yield


@pytest.fixture
def redis_hanging():
    """A server that accepts connections and never answers: Redis stuck, or a black-holed network."""
    silent = Silent()
    with redis_at(f"redis://127.0.0.1:{silent.port}/0"):
        yield
    silent.close()


def sign_in(client, username, password, path=LOGIN, address="10.0.0.7"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
@pytest.mark.parametrize("fault", ["redis_down", "redis_hanging"])
def test_people_sign_in_while_redis_is_down_or_hanging(request, fault, product_owner):
    request.getfixturevalue(fault)
    client = Client(raise_request_exception=False)

    response = sign_in(client, product_owner.username, PASSWORD)

    assert response.status_code == 302, response.status_code
    assert client.session["_auth_user_id"] == str(product_owner.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("fault", ["redis_down", "redis_hanging"])
def test_guessing_is_still_limited_while_redis_is_down_or_hanging(request, fault, product_owner, settings):
    request.getfixturevalue(fault)
    client = Client(raise_request_exception=False)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert sign_in(client, product_owner.username, WRONG).status_code == 200

    refused = sign_in(client, product_owner.username, PASSWORD)

    assert refused.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Too many failed sign-ins" in refused.content.decode()


@pytest.mark.django_db
def test_failures_counted_during_the_outage_still_hold_when_redis_is_back(product_owner, settings):
    client = Client(raise_request_exception=False)
    with redis_at(f"redis://127.0.0.1:{closed_port()}/0"):
        for _ in range(settings.LOGIN_FAILURE_LIMIT):
            sign_in(client, product_owner.username, WRONG)

    refused = sign_in(client, product_owner.username, PASSWORD)  # the usual cache again

    assert "Too many failed sign-ins" in refused.content.decode()


def test_every_redis_cache_call_has_a_short_timeout():
    root = Path(__file__).resolve().parents[2]
    code = (
        "import django; django.setup(); from django.conf import settings; print(settings.CACHES['default']['OPTIONS'])"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "1",
            "CACHE_URL": "redis://127.0.0.1:6379/9",
            "CACHE_TIMEOUT_SECONDS": "0.25",
        },
    )
    assert shown.returncode == 0, shown.stderr
    assert "'socket_connect_timeout': 0.25" in shown.stdout and "'socket_timeout': 0.25" in shown.stdout


# --- Django admin's sign-in shares the limit --------------------------------------------------------


@pytest.mark.django_db
def test_admin_sign_in_is_limited_like_the_app_sign_in(settings):
    staff = UserFactory(username="sam-staff", is_staff=True, is_superuser=True)
    client = Client()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert sign_in(client, staff.username, WRONG, path=ADMIN_LOGIN).status_code == 200

    refused = sign_in(client, staff.username, PASSWORD, path=ADMIN_LOGIN)

    assert refused.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Too many failed sign-ins" in refused.content.decode()


@pytest.mark.django_db
def test_failures_on_one_sign_in_page_count_on_the_other(settings):
    staff = UserFactory(username="sam-staff", is_staff=True, is_superuser=True)
    client = Client()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in(client, staff.username, WRONG, path=LOGIN)

    refused = sign_in(client, staff.username, PASSWORD, path=ADMIN_LOGIN)

    assert "Too many failed sign-ins" in refused.content.decode()


# --- An idle session ends ----------------------------------------------------------------------------


def age_session(client, seconds):
    session = client.session
    session["gatehouse_seen"] = int(time.time()) - seconds
    session.save()


@pytest.mark.django_db
def test_a_session_idle_past_the_timeout_is_signed_out_and_told_why(client, product_owner, settings):
    settings.SESSION_IDLE_TIMEOUT = 30 * 60
    client.force_login(product_owner)
    client.get("/")
    age_session(client, 31 * 60)

    response = client.get("/features/", follow=True)

    assert response.redirect_chain and response.redirect_chain[0][0].startswith("/accounts/login/")
    assert "signed out after 30 minutes without activity" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_an_active_session_stays_and_is_saved_at_most_once_a_minute(client, product_owner, settings):
    settings.SESSION_IDLE_TIMEOUT = 30 * 60
    client.force_login(product_owner)
    age_session(client, 29 * 60)

    assert client.get("/features/").status_code == 200
    renewed = client.session["gatehouse_seen"]
    assert renewed >= int(time.time()) - 5
    assert client.get("/features/").status_code == 200
    assert client.session["gatehouse_seen"] == renewed  # not rewritten within the minute
