"""A break-glass account in the browser: made to add an authenticator app at first sign-in, it scans the QR
code (here: reads the secret), keeps its backup codes, and from then on signs in with password and code.
The passkey parts of the pages load their script from Gatehouse itself, under its Content Security Policy."""

import re
import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.browser.navigation import sign_out
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def code_for(secret_text: str, steps_ahead: int = 0) -> str:
    totp = TOTP(b32decode(secret_text.replace(" ", "")), step=30, t0=0, digits=6, drift=0)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def password_step(page, live_server, user, password):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_a_break_glass_account_sets_up_an_app_then_signs_in_with_a_code(page, live_server, password, settings):
    settings.GATEHOUSE_REQUIRE_2FA_FOR = ["breakglass"]
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no growing delay after the wrong code typed below
    user = UserFactory(username="breakglass", is_staff=True)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    password_step(page, live_server, user, password)
    expect(page).to_have_url(re.compile(r"/account/security/"))
    expect(page.get_by_role("alert")).to_contain_text("Your account must have a second factor")
    page.goto(f"{live_server.url}/features/")  # nothing else until a device is added
    expect(page).to_have_url(re.compile(r"/account/security/"))

    page.get_by_role("link", name="Add an authenticator app").click()
    expect(page.locator(".qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#id_code", code_for(secret))
    page.fill("#id_name", "Vault phone")
    page.get_by_role("button", name="Add the app").click()
    expect(page.locator("#backup-codes li")).to_have_count(10)
    page.get_by_role("link", name="Done").click()
    expect(page.locator("body")).to_contain_text("Vault phone")
    expect(page.locator("body")).to_contain_text("10 unused backup codes left")

    sign_out(page)
    password_step(page, live_server, user, password)
    expect(page).to_have_url(re.compile(r"/accounts/verify/"))
    page.fill("#id_code", "000000" if code_for(secret, 1) != "000000" else "111111")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    page.fill("#id_code", code_for(secret, 1))
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("header.topbar")).to_be_visible()
    page.goto(f"{live_server.url}/features/")
    expect(page).to_have_url(re.compile(r"/features/$"))
    assert not [error for error in errors if "Content Security Policy" in error], errors


def test_a_passkey_added_on_the_security_page_is_the_second_step_next_time(browser, live_server, password, settings):
    """With Chromium's virtual authenticator standing in for a security key."""
    from django_otp_webauthn.models import WebAuthnCredential

    from registry.models import AuditEvent

    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    user = UserFactory(username="keyholder")
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    said_in_console = []
    page.on("console", lambda message: said_in_console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: said_in_console.append(f"page error: {error}"))

    def slow_catalog(route):  # the passkey scripts' translations arriving late, as on a slow network or machine
        time.sleep(1.5)
        route.continue_()

    page.route("**/passkeys/jsi18n/", slow_catalog)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    try:
        password_step(page, live_server, user, password)
        page.goto(f"{live_server.url}/account/security/")
        page.locator("#passkey-register-button").click()
        expect(page.locator("table")).to_contain_text("Passkey", timeout=15_000)  # the page reloads with it
        assert WebAuthnCredential.objects.filter(user=user, confirmed=True).count() == 1
        assert AuditEvent.objects.filter(action="two_factor.device_added", payload__kind="passkey").exists()

        sign_out(page)
        password_step(page, live_server, user, password)
        expect(page).to_have_url(re.compile(r"/accounts/verify/"))
        page.locator("#passkey-verification-button").click()
        # The authenticator's answer goes to the server and back before the page changes: slow on a busy machine
        # (the whole suite on two cores), hence the long wait. If it never changes, say what the page said.
        try:
            expect(page.locator("header.topbar")).to_be_visible(timeout=45_000)
        except AssertionError:
            status = page.locator("#passkey-verification-status-message")
            said = status.text_content() if status.count() else "(no status)"
            raise AssertionError(f"still at {page.url}: {said!r}; the browser said {said_in_console}") from None
        page.goto(f"{live_server.url}/features/")
        expect(page).to_have_url(re.compile(r"/features/$"))
    finally:
        context.close()
