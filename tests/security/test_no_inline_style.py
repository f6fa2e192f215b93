"""No inline style anywhere the app writes HTML, so the Content Security Policy can refuse it.

The policy's style-src is 'self' alone: a ``style=""`` attribute or a ``<style>`` element would be ignored
by the browser and the page would look broken. Layout lives in static/css (classes); a script may still
set ``element.style`` (Chart.js does), which the policy allows. The checks read the templates and the
Python that builds markup, and walk the rendered pages as several personas (which also covers widgets,
template tags and the QR code of the second factor).

Exceptions, each with a policy of its own: the evidence pack's HTML file (a download whose stylesheet is
inline so it stands alone) and Django REST framework's browsable API (its package's templates).
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from django.test import Client

from tests.registry.test_second_factor import SETUP, add_app
from tests.security.test_authorization_matrix import world  # noqa: F401 (fixture)
from tests.security.test_headers_and_settings import directives

pytestmark = pytest.mark.slow  # renders every page as every persona: `make test-fast` leaves it out

ROOT = Path(__file__).resolve().parents[2]
APPS = (
    "approvals",
    "config",
    "drills",
    "freshness",
    "identity",
    "incidents",
    "packs",
    "readiness",
    "registry",
    "routing",
    "webhooks",
    "core",
    "audit",
    "demo",
)
# Downloaded files, never served as pages: the evidence pack's HTML (HTML_DOCUMENT_POLICY) and the access
# review's PDF source (rendered by WeasyPrint only).
STANDALONE_DOCUMENTS = {
    "templates/packs/pack_document.html",
    "templates/packs/technical_file_document.html",
    "templates/identity/review_document.html",
    "templates/compliance/soa_document.html",
}
NOT_WALKED = ("/static/", "/media/", "/accounts/logout/", "/api/", "/admin/")
MOST_PAGES = 70  # per persona


class InlineStyles(HTMLParser):
    """Collects every ``style`` attribute and ``<style>`` element of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "style":
            self.found.append("<style> element")
        if "style" in attrs:
            self.found.append(f'<{tag} style="{attrs["style"]}">')
        for name in ("href", "hx-get"):
            if attrs.get(name) and tag != "link":
                self.links.append(attrs[name])

    handle_startendtag = handle_starttag


def inline_styles(html: str) -> InlineStyles:
    parser = InlineStyles()
    parser.feed(html)
    return parser


def test_no_template_has_a_style_attribute_or_element():
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        name = str(template.relative_to(ROOT))
        if name in STANDALONE_DOCUMENTS:
            continue
        for match in re.finditer(r"<style\b|\sstyle\s*=", template.read_text()):
            offenders.append(f"{name}: {match.group(0).strip()}")
    assert offenders == []


def test_no_python_builds_markup_with_a_style_attribute():
    """Widget attrs ({"style": ...}) and markup in strings (format_html, mark_safe) alike."""
    pattern = re.compile(r"""["']style["']\s*:|\bstyle\s*=\s*\\?["']|<style\b""")
    offenders = []
    for app in APPS:
        for source in (ROOT / app).rglob("*.py") if (ROOT / app).is_dir() else ():
            if "migrations" in source.parts:
                continue
            for number, line in enumerate(source.read_text().splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{source.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_scan_sees_what_it_looks_for():
    page = inline_styles('<p style="margin:0">a</p><svg><path style="fill:red"/></svg><style>p{}</style>')
    assert page.found == ['<p style="margin:0">', '<path style="fill:red">', "<style> element"]
    assert (
        inline_styles(
            '<p class="m-0">style="not markup"</p><script type="application/json">{"style": 1}</script>'
        ).found
        == []
    )


def _local(url: str) -> str | None:
    url = urldefrag(url)[0]
    parts = urlsplit(url)
    if not url or parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    return None if parts.path.startswith(NOT_WALKED) else url


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["product_owner", "ml_engineer", "support_agent", "governance_admin", "auditor"])
def test_pages_as_rendered_have_no_inline_style(persona, world, request):  # noqa: F811
    """Walks the site from the dashboard as a persona (links and htmx fragments, GET only)."""
    client = Client()
    client.force_login(request.getfixturevalue(persona))
    queue, seen, walked, offenders = deque(["/"]), {"/"}, set(), []
    while queue and len(walked) < MOST_PAGES:
        url = queue.popleft()
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        walked.add(url.split("?")[0])
        page = inline_styles(response.content.decode())
        offenders += [f"{url}: {found}" for found in page.found]
        for link in page.links:
            target = _local(link)
            if target and target not in seen and target.split("?")[0] not in walked:
                seen.add(target)
                queue.append(target)
    assert len(walked) > 15, f"the walk reached only {sorted(walked)}"
    assert offenders == []


def test_second_factor_pages_have_no_inline_style(client, product_owner):
    """The QR code (an SVG from the qrcode package) and the backup codes shown once after setup."""
    client.force_login(product_owner)
    setup = client.get(SETUP).content.decode()
    assert "<svg" in setup and inline_styles(setup).found == []
    _key, codes = add_app(client, product_owner)
    shown = client.post("/account/security/backup-codes/")
    assert shown.status_code == 200 and codes and inline_styles(shown.content.decode()).found == []
    assert inline_styles(client.get("/account/security/").content.decode()).found == []


def test_app_pages_are_sent_a_policy_with_no_unsafe_inline(client, product_owner, django_user_model):
    client.force_login(product_owner)
    pages = [
        "/",
        "/features/",
        "/readiness/",
        "/incidents/",
        "/approvals/requests/",
        "/freshness/",
        "/api/docs/",
        "/account/security/",
        SETUP,
        "/accounts/login/?next=/",
    ]
    admin = django_user_model.objects.create_superuser("root-admin", "root@example.test", "x-Unused-Password-1")
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        policy = directives(response["Content-Security-Policy"])
        assert policy["style-src"] == ["'self'"] and policy["script-src"] == ["'self'"], url
        assert not any("'unsafe-inline'" in sources or "'unsafe-eval'" in sources for sources in policy.values()), url
    client.force_login(admin)
    for url in ("/admin/", "/admin/auth/user/", f"/admin/auth/user/{admin.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], url


def test_only_the_browsable_api_may_use_inline_styles(client, product_owner):
    """Django REST framework's HTML pages are written with inline styles; their scripts stay held to 'self'."""
    client.force_login(product_owner)
    browsable = client.get("/api/v1/features/", HTTP_ACCEPT="text/html")
    assert browsable.status_code == 200 and "text/html" in browsable["Content-Type"]
    policy = directives(browsable["Content-Security-Policy"])
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"] and policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    as_json = client.get("/api/v1/features/", HTTP_ACCEPT="application/json")
    assert as_json.status_code == 200 and "'unsafe-inline'" not in as_json["Content-Security-Policy"]
