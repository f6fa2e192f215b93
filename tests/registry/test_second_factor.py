"""The optional second factor of local accounts: an authenticator app (TOTP), backup codes and passkeys.

A user with a device gives it after the password before anything counts as signed in (pages, Django admin
and the API alike); GATEHOUSE_REQUIRE_2FA_FOR makes it compulsory for break-glass accounts; wrong codes
are limited per account; every device change is in the audit trail.
"""

import time
from binascii import unhexlify

import pytest
from django.core.cache import cache
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from registry.models import AuditEvent
from registry.services import audit_verify
from registry.services import two_factor as service
from registry.views.two_factor import PENDING_KEY_SESSION
from tests.factories import PASSWORD, UserFactory

LOGIN = "/accounts/login/"
VERIFY = "/accounts/verify/"
SECURITY = "/account/security/"
SETUP = "/account/security/app/"


def code_for(key: str, steps_ahead: int = 0) -> str:
    """What the user's app shows now (or ``steps_ahead`` 30-second steps later), computed as an app would."""
    totp = TOTP(unhexlify(key.encode()), step=30, t0=0, digits=6, drift=0)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def sign_in(client, user, next_url=""):
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN, data)


def add_app(client, user) -> tuple[str, list[str]]:
    """Sets up an authenticator app through the pages; returns its secret and the backup codes shown."""
    page = client.get(SETUP)
    assert page.status_code == 200
    key = client.session[PENDING_KEY_SESSION]
    done = client.post(SETUP, {"code": code_for(key), "name": "Work phone"})
    assert done.status_code == 200, done.content.decode()[:500]
    return key, done.context["codes"]


@pytest.fixture
def enrolled(client, product_owner):
    """A user with an authenticator app and backup codes, signed out."""
    client.force_login(product_owner)
    key, codes = add_app(client, product_owner)
    client.logout()
    cache.clear()
    return product_owner, key, codes


def test_setting_up_an_app_shows_a_qr_code_drawn_here_and_the_secret_in_groups(client, product_owner):
    client.force_login(product_owner)
    page = client.get(SETUP)
    body = page.content.decode()
    assert "<svg" in body and "otpauth://totp/Gatehouse%3A" in body
    secret = page.context["secret"]
    assert all(len(group) <= 4 for group in secret.split(" ")) and len(secret.replace(" ", "")) == 32
    assert not TOTPDevice.objects.filter(user=product_owner).exists()  # nothing stored until confirmed


def test_a_wrong_code_at_setup_adds_nothing(client, product_owner):
    client.force_login(product_owner)
    client.get(SETUP)
    key = client.session[PENDING_KEY_SESSION]
    wrong = "000000" if code_for(key) != "000000" else "111111"
    response = client.post(SETUP, {"code": wrong})
    assert response.status_code == 400
    assert "That code does not match" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=product_owner).exists()


def test_setup_then_sign_in_asks_for_the_code_before_anything_else(client, enrolled):
    user, key, _ = enrolled
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and device.name == "Work phone"

    response = sign_in(client, user, next_url="/features/")
    assert response.status_code == 302  # the password was right...
    home = client.get("/features/")
    assert home.status_code == 302 and home["Location"].startswith(VERIFY)  # ...but that is half of it
    assert "next=/features/" in home["Location"]
    page = client.get(home["Location"])
    assert page.status_code == 200 and "One more step" in page.content.decode()
    assert b"Dashboard" not in page.content  # no navigation to pages it cannot reach yet

    done = client.post(VERIFY, {"code": code_for(key, steps_ahead=1), "next": "/features/"})
    assert done.status_code == 302 and done["Location"] == "/features/"
    assert client.get("/features/").status_code == 200


def test_a_wrong_code_is_refused_with_a_clear_message(client, enrolled):
    user, key, _ = enrolled
    sign_in(client, user)
    wrong = "123456" if code_for(key) != "123456" else "654321"
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert client.get("/").status_code == 302  # still not signed in


def test_the_code_used_at_setup_cannot_sign_in_again(client, product_owner):
    client.force_login(product_owner)
    client.get(SETUP)
    key = client.session[PENDING_KEY_SESSION]
    code = code_for(key)
    client.post(SETUP, {"code": code})
    client.logout()
    sign_in(client, product_owner)
    assert client.post(VERIFY, {"code": code}).status_code == 400


def test_a_backup_code_works_once(client, enrolled):
    user, _, codes = enrolled
    assert len(codes) == 10 and all("-" in code for code in codes)
    sign_in(client, user)
    used = client.post(VERIFY, {"code": codes[0].upper()})  # typed in capitals, with its dash: still fine
    assert used.status_code == 302
    assert client.get("/").status_code == 200
    assert service.backup_codes_left(user) == 9
    client.logout()

    sign_in(client, user)
    again = client.post(VERIFY, {"code": codes[0]})
    assert again.status_code == 400
    assert AuditEvent.objects.filter(action="two_factor.backup_code_used", payload__left=9).count() == 1


def test_wrong_codes_are_limited_per_account_even_with_the_right_code_after(client, enrolled, settings):
    user, key, _ = enrolled
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the device's own delay aside: this is the account's limit
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    sign_in(client, user)
    for _ in range(settings.SECOND_FACTOR_FAILURE_LIMIT):
        assert client.post(VERIFY, {"code": "not-a-code"}).status_code == 400
    refused = client.post(VERIFY, {"code": code_for(key)})
    assert refused.status_code == 400
    assert "Too many wrong codes for this account. Wait 15 minutes" in refused.content.decode()
    assert client.get("/").status_code == 302


def test_the_device_delay_after_a_wrong_code_is_explained(client, enrolled, settings):
    user, key, _ = enrolled
    settings.OTP_TOTP_THROTTLE_FACTOR = 600  # the delay after one failure outlasts any slow test run
    sign_in(client, user)
    wrong = "123456" if code_for(key) != "123456" else "654321"
    client.post(VERIFY, {"code": wrong})
    response = client.post(VERIFY, {"code": code_for(key)})  # within the device's delay
    assert response.status_code == 400
    assert "wait a few seconds" in response.content.decode()


def test_users_without_a_device_sign_in_as_before(client, product_owner):
    response = sign_in(client, product_owner)
    assert response.status_code == 302 and response["Location"] == reverse("registry:home")
    assert client.get("/").status_code == 200


def test_a_required_user_without_a_device_must_set_one_up_first(client, settings, db):
    settings.GATEHOUSE_REQUIRE_2FA_FOR = ["breakglass"]
    user = UserFactory(username="breakglass")
    sign_in(client, user)
    page = client.get("/features/")
    assert page.status_code == 302 and page["Location"].startswith(SECURITY)
    assert client.get("/api/v1/features/").status_code in (401, 403)
    security = client.get(SECURITY)
    assert "must have a second factor" in security.content.decode()

    add_app(client, user)
    assert client.get("/features/").status_code == 200


def test_staff_and_superusers_can_be_required_as_groups(settings, db):
    settings.GATEHOUSE_REQUIRE_2FA_FOR = ["staff"]
    assert service.two_factor_required(UserFactory(is_staff=True))
    assert not service.two_factor_required(UserFactory())
    settings.GATEHOUSE_REQUIRE_2FA_FOR = ["superusers"]
    assert service.two_factor_required(UserFactory(is_staff=True, is_superuser=True))
    assert not service.two_factor_required(UserFactory(is_staff=True))


def test_django_admin_needs_the_second_factor_for_staff_with_a_device(client, db):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    key, _ = add_app(client, admin)
    client.logout()

    client.post("/admin/login/", {"username": "root", "password": PASSWORD, "next": "/admin/"})
    blocked = client.get("/admin/")
    assert blocked.status_code == 302 and blocked["Location"].startswith(VERIFY)
    assert client.get("/admin/auth/user/").status_code == 302
    client.post(VERIFY, {"code": code_for(key, steps_ahead=1)})
    assert client.get("/admin/").status_code == 200


def test_the_api_does_not_take_a_half_signed_in_session(client, enrolled):
    user, key, _ = enrolled
    sign_in(client, user)
    assert client.get("/api/v1/features/").status_code in (401, 403)
    client.post(VERIFY, {"code": code_for(key, steps_ahead=1)})
    assert client.get("/api/v1/features/").status_code == 200


def test_every_device_change_is_audited_with_no_secret_in_the_trail(client, product_owner):
    client.force_login(product_owner)
    key, codes = add_app(client, product_owner)
    regenerated = client.post("/account/security/backup-codes/")
    assert regenerated.status_code == 200 and regenerated.context["codes"] != codes
    device = TOTPDevice.objects.get(user=product_owner)
    remove_url = reverse("two_factor:device_remove", args=["totp", device.pk])
    assert client.get(remove_url).status_code == 200
    refused = client.post(remove_url, {"proof": "not my password"})
    assert refused.status_code == 400 and TOTPDevice.objects.filter(pk=device.pk).exists()
    removed = client.post(remove_url, {"proof": PASSWORD})
    assert removed.status_code == 302

    actions = list(AuditEvent.objects.filter(actor=product_owner).order_by("sequence").values_list("action", flat=True))
    assert actions == [
        "two_factor.device_added",
        "two_factor.backup_codes_generated",
        "two_factor.backup_codes_generated",
        "two_factor.device_removed",
        "two_factor.device_removed",  # the app, then its backup codes
    ]
    trail = str(list(AuditEvent.objects.values_list("payload", flat=True)))
    assert key not in trail and not any(code.replace("-", "") in trail for code in codes)
    assert not TOTPDevice.objects.filter(user=product_owner).exists()
    assert not StaticDevice.objects.filter(user=product_owner).exists()
    assert audit_verify().ok
    # With no device left, the account signs in with its password alone again.
    client.logout()
    sign_in(client, product_owner)
    assert client.get("/").status_code == 200


def test_removing_a_device_takes_a_current_code_too(client, product_owner):
    client.force_login(product_owner)
    key, _ = add_app(client, product_owner)
    device = TOTPDevice.objects.get(user=product_owner)
    url = reverse("two_factor:device_remove", args=["totp", device.pk])
    assert client.post(url, {"proof": code_for(key, steps_ahead=1)}).status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()


def test_no_one_removes_anothers_device(client, product_owner, ml_engineer):
    client.force_login(product_owner)
    add_app(client, product_owner)
    device = TOTPDevice.objects.get(user=product_owner)
    client.force_login(ml_engineer)
    url = reverse("two_factor:device_remove", args=["totp", device.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"proof": PASSWORD}).status_code == 404
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_backup_codes_need_an_app_or_passkey_first(client, product_owner):
    client.force_login(product_owner)
    response = client.post("/account/security/backup-codes/", follow=True)
    assert "Add an authenticator app or a passkey first" in response.content.decode()
    assert not StaticDevice.objects.filter(user=product_owner).exists()


def test_a_passkey_counts_as_a_device_and_its_removal_is_audited(client, product_owner):
    WebAuthnCredential.objects.create(
        user=product_owner,
        name="YubiKey",
        confirmed=True,
        credential_id=b"cred-1",
        public_key=b"key",
        sign_count=0,
        aaguid="00000000-0000-0000-0000-000000000000",
    )
    sign_in(client, product_owner)
    page = client.get(VERIFY)
    assert page.status_code == 200 and "passkey-verification-button" in page.content.decode()
    assert "/static/django_otp_webauthn/otp_webauthn_auth.js" in page.content.decode()  # served here, no CDN
    assert client.get("/").status_code == 302


def test_the_security_page_serves_passkey_script_from_here(client, product_owner):
    client.force_login(product_owner)
    body = client.get(SECURITY).content.decode()
    assert "/static/django_otp_webauthn/otp_webauthn_register.js" in body
    assert "https://" not in body.split("<main>", 1)[1]  # nothing fetched from elsewhere


class _CacheDown:
    """A cache whose server cannot be reached: every call fails."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("cache unreachable")

        return fail


def test_the_second_step_works_while_the_cache_is_down(client, enrolled, monkeypatch):
    user, key, _ = enrolled
    sign_in(client, user)
    monkeypatch.setattr("registry.views.two_factor.cache", _CacheDown())
    wrong = "123456" if code_for(key, 1) != "123456" else "654321"
    refused = client.post(VERIFY, {"code": wrong})
    assert refused.status_code == 400 and "That code is not right" in refused.content.decode()
    # the device's own delay after the failure (kept in the database) is what still holds; past it:
    TOTPDevice.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    done = client.post(VERIFY, {"code": code_for(key, 1)})
    assert done.status_code == 302
    assert client.get("/").status_code == 200


def test_the_audit_trail_page_shows_device_changes(client, product_owner, governance_admin):
    client.force_login(product_owner)
    add_app(client, product_owner)
    client.force_login(governance_admin)
    page = client.get(reverse("registry:audit_list"))
    assert page.status_code == 200 and "two_factor.device_added" in page.content.decode()
