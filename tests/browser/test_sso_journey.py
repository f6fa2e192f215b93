"""The single sign-on journey in Chromium, end to end through a real OpenID provider (node-oidc-provider):
governance maps a provider group to a role on the page, a person signs in with the provider's form and holds
the role, signs out of both, leaves the group at the provider and signs in again without it; a sign-in that
fails shows its page. Screenshots (1440 and 390 px wide) go to /tmp/shots-oidc/ for a person to look at."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model

from identity.models import GroupMapping
from tests.browser.navigation import nav_to, sign_out
from tests.factories import UserFactory
from tests.identity.conftest import oidc_provider, sso  # noqa: F401 (the fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots-oidc")
WIDE, NARROW = {"width": 1440, "height": 900}, {"width": 390, "height": 844}


def shoot(page, name: str) -> None:
    """The page at both widths, whole length."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("1440", WIDE), ("390", NARROW)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(WIDE)


REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""
violations: list[str] = []


def new_page(browser):
    """A browser context of its own; Gatehouse's pages in it must break no rule of the security policy."""
    context = browser.new_context(viewport=WIDE)
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if message.text.startswith("CSP violation")
            and urlsplit(page.url).hostname != "127.0.0.1"  # not the provider
            else None
        ),
    )
    return context, page


@pytest.fixture(autouse=True)
def no_policy_violations():
    violations.clear()
    yield
    assert not violations, "\n".join(violations)


def at_the_provider_sign_in_as(page, login: str) -> None:
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password: the development form takes any")
    page.click("button[type=submit]")


def role_chips(page) -> list[str]:
    return [chip.strip() for chip in page.locator("header.topbar .role-chip").all_text_contents()]


def test_sign_in_through_the_provider_with_roles_from_its_groups(browser, live_server, sso, password):
    governance = UserFactory(username="gia-governance", roles=["governance"])
    sso.set_accounts({"alice": {"email": "alice@example.com", "name": "Alice Doe", "groups": ["gh-security"]}})

    # Governance maps the provider's group to the security role, on the single sign-on page.
    context, page = new_page(browser)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", governance.username)
    page.fill("#id_password", password)
    page.click("form button[type=submit]")
    page.wait_for_selector("header.topbar")
    nav_to(page, "People")
    page.click("text=Sign-on mappings")
    page.fill("#id_group_name", "gh-security")
    page.select_option("#id_gives", "role:security")
    page.fill("#id_reason", "The security team reviews AI features")
    page.click("text=Add mapping")
    page.wait_for_selector("text=Mapped gh-security")
    assert "Sign in with Test IdP" not in page.content()  # signed in: no sign-in buttons here
    assert page.locator("dl.kv").inner_text().count("Test IdP") == 1
    assert GroupMapping.objects.get().role == "security"
    shoot(page, "mappings")
    context.close()

    # Alice signs in through the provider and holds the role its group maps to.
    context, page = new_page(browser)
    page.goto(f"{live_server.url}/accounts/login/")
    shoot(page, "login-with-sso")
    page.click("text=Sign in with Test IdP")
    at_the_provider_sign_in_as(page, "alice")
    page.wait_for_selector("header.topbar")
    assert page.url == f"{live_server.url}/"
    assert role_chips(page) == ["Security reviewer"]
    assert "Alice Doe" in page.locator("header.topbar .usermenu > summary").inner_text()

    # Sign-out ends the Gatehouse session, then the provider's (it asks to confirm).
    sign_out(page)
    page.wait_for_selector("text=Yes, sign me out")
    page.click("text=Yes, sign me out")
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    page.goto(f"{live_server.url}/features/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")

    # She leaves the group at the provider: at her next sign-in the role is gone.
    sso.set_accounts({"alice": {"email": "alice@example.com", "name": "Alice Doe", "groups": []}})
    page.click("text=Sign in with Test IdP")
    at_the_provider_sign_in_as(page, "alice")  # the provider's session ended: its form again
    page.wait_for_selector("header.topbar")
    assert page.url == f"{live_server.url}/features/"  # back where she was going
    assert role_chips(page) == ["no role"]
    alice = get_user_model().objects.get(username="alice")
    assert not alice.groups.filter(name="security").exists()
    context.close()


def test_a_failed_sign_in_shows_the_person_what_to_do(browser, live_server, sso, settings):
    settings.OIDC_RP_CLIENT_SECRET = "not-the-secret"
    sso.set_accounts({"alice": {"email": "alice@example.com", "groups": []}})
    context, page = new_page(browser)

    page.goto(f"{live_server.url}/accounts/login/")
    page.click("text=Sign in with Test IdP")
    at_the_provider_sign_in_as(page, "alice")
    page.wait_for_selector("h1:has-text('Single sign-on failed')")

    text = page.locator("main").inner_text()
    assert "misconfigured" in text and "contact your governance team" in text
    assert "not-the-secret" not in page.content()
    assert page.locator("header.topbar").count() == 0  # not signed in
    shoot(page, "sso-failed")
    context.close()


def test_with_passwords_off_the_form_is_folded_away_for_break_glass(browser, live_server, sso, settings, password):
    settings.PASSWORD_SIGN_IN = False
    settings.BREAK_GLASS_USERS = ["breakglass"]
    UserFactory(username="breakglass", roles=["governance"])
    context, page = new_page(browser)

    page.goto(f"{live_server.url}/accounts/login/")
    assert not page.locator("#id_username").is_visible()
    shoot(page, "login-passwords-off")
    page.click("text=Break-glass account?")
    page.fill("#id_username", "breakglass")
    page.fill("#id_password", password)
    page.click("details button[type=submit]")
    page.wait_for_selector("header.topbar")
    assert role_chips(page) == ["Governance admin"]
    context.close()
