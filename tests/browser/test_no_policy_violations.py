"""The main pages, walked in Chromium as several personas, break no rule of the Content Security Policy: no
inline style or script is refused (the browser reports each refusal as a ``securitypolicyviolation`` event
and a console error), htmx panels and charts included. The API docs, the browsable API, the second-factor
pages and the Django admin are walked too, each under the policy it is sent."""

import pytest

from tests.security.test_authorization_matrix import world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " " + (event.blockedURI || "inline") + " "
                + (event.sourceFile || "") + ":" + (event.lineNumber || "") + " " + (event.sample || ""));
});
"""


def pages_for(persona, world):  # noqa: F811
    feature = world["feature"]
    pages = [
        "/",
        "/features/",
        feature.get_absolute_url(),
        world["v1"].get_absolute_url(),
        f"/features/{feature.slug}/diff/",
        "/catalog/models/",
        "/catalog/vendors/",
        f"/catalog/vendors/{world['vendor'].slug}/",
        "/approvals/requests/",
        f"/approvals/requests/{world['pending'].pk}/",
        "/approvals/queue/",
        "/approvals/gates/",
        "/incidents/",
        f"/incidents/{world['incident'].pk}/",
        "/freshness/",
        "/freshness/runs/",
        "/readiness/",
        f"/readiness/features/{feature.slug}/",
        "/packs/",
        "/notifications/",
        "/account/security/",
        "/account/security/app/",
        "/api/docs/",
        "/api/v1/features/",
    ]
    if persona == "governance_admin":
        pages += [
            "/approvals/gates/production/edit/",
            "/drills/",
            f"/drills/{world['drill'].pk}/",
            f"/live-at/?feature={feature.slug}&environment=production&region=eu&at=2030-01-01T12:00",
        ]
    return pages


@pytest.mark.parametrize("persona", ["ml_engineer", "governance_admin", "support_agent", "auditor"])
def test_the_main_pages_break_no_policy_rule(persona, world, browser, live_server, password):  # noqa: F811
    user = world["users"][persona]
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems, visited = [], []
    page.on(
        "console",
        lambda message: (
            problems.append(f"{page.url}: {message.text}")
            if message.type == "error" and "status of 40" not in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("header.topbar")
    for path in pages_for(persona, world):
        response = page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")  # htmx panels and charts have loaded and drawn
        visited.append((path, response.status))
        if path == "/api/docs/" and response.status == 200:
            page.wait_for_selector(".swagger-ui .opblock")
            page.locator(".swagger-ui .opblock-summary").first.click()
    context.close()
    assert sum(status == 200 for _, status in visited) >= 15, visited  # support sees no restricted feature
    assert problems == []


def test_the_django_admin_breaks_no_policy_rule(browser, live_server, django_user_model):
    admin = django_user_model.objects.create_superuser("root-admin", "root@example.test", "Admin-Only-Pass-31")
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = []
    page.on(
        "console",
        lambda message: (
            problems.append(f"{page.url}: {message.text}")
            if message.type == "error" and "status of 40" not in message.text
            else None
        ),
    )
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", "Admin-Only-Pass-31")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    for path in (
        "/admin/",
        "/admin/auth/user/",
        f"/admin/auth/user/{admin.pk}/change/",
        "/admin/registry/auditevent/",
        "/admin/registry/aifeature/",
    ):
        response = page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        assert response.status == 200, path
    context.close()
    assert problems == []
