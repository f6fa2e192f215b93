"""Signing in: a password cannot be guessed by trying many, and the limit names no account."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.factories import PASSWORD

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


def sign_in(client, username, password, address="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_after_five_failures_even_the_right_password_is_refused_from_that_address(client, product_owner, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        response = sign_in(client, product_owner.username, "wrong-password-123")
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = sign_in(client, product_owner.username, PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Too many failed sign-ins from your address. Wait 15 minutes" in response.content.decode()

    other_address = sign_in(client, product_owner.username, PASSWORD, address="10.0.0.2")
    assert other_address.status_code == 302 and other_address["Location"] == reverse("registry:home")


def test_the_window_passing_lets_the_owner_in_again(client, product_owner, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in(client, product_owner.username, "wrong-password-123")
    cache.clear()  # what the window's end does: the counts expire
    assert sign_in(client, product_owner.username, PASSWORD).status_code == 302


def test_a_success_clears_the_account_count_so_typos_do_not_add_up(client, product_owner, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        sign_in(client, product_owner.username, "wrong-password-123")
    assert sign_in(client, product_owner.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        sign_in(client, product_owner.username, "wrong-password-123")
    assert sign_in(client, product_owner.username, PASSWORD).status_code == 302


def test_spraying_many_usernames_from_one_address_is_limited_too(client, product_owner, settings):
    for index in range(settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS):
        sign_in(client, f"someone-{index}", "Winter2026!!")
    refused = sign_in(client, product_owner.username, PASSWORD)
    assert "_auth_user_id" not in client.session
    assert "Too many failed sign-ins" in refused.content.decode()


def test_the_refusal_does_not_say_whether_the_account_exists(client, product_owner, settings):
    for username in (product_owner.username, "no-such-person"):
        for _ in range(settings.LOGIN_FAILURE_LIMIT):
            sign_in(client, username, "wrong-password-123")
    known = sign_in(client, product_owner.username, "wrong-password-123").content.decode()
    unknown = sign_in(client, "no-such-person", "wrong-password-123").content.decode()
    assert ("Too many failed sign-ins" in known) and ("Too many failed sign-ins" in unknown)
