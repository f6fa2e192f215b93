"""Every control shown is a control allowed: walking the site as each persona, from the navigation, no
link, htmx fragment or form it is shown answers 403 or 404.

The world is the authorization matrix's (a restricted feature with every kind of object, and open ones
seen by all). Links and ``hx-get`` fragments are followed with GET; each form is submitted once with the
values it was shown (a write in a savepoint that is rolled back, as the matrix's probes do).
"""

from __future__ import annotations

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest

from tests.security.authz_probe import probe
from tests.security.test_authorization_matrix import COLUMNS, _client_for, world  # noqa: F401 (fixture)

START = ["/"]  # the navigation leads everywhere else
NOT_FOLLOWED = ("/static/", "/media/", "/admin/", "/accounts/logout/", "/api/schema", "/api/docs")
MOST_PAGES = 160  # per persona: the walk stays bounded as the world grows


class Controls(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._form = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "hx-get"):
            if attrs.get(name) and (tag != "link" or name != "href"):
                self.links.append(attrs[name])
        if tag == "form":
            self._form = {
                "action": attrs.get("action") or "",
                "method": (attrs.get("method") or "get").lower(),
                "fields": {},
            }
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "textarea", "select", "button") and attrs.get("name"):
            if tag == "button" and attrs.get("type", "submit") == "submit" and attrs["name"] in self._form["fields"]:
                return  # the first submit button's value is the one sent
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self._form["fields"].setdefault(attrs["name"], attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def _local(url: str, page: str) -> str | None:
    url = urldefrag(url)[0]
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return (
            None
            if (parts.scheme or parts.netloc)
            else (page.split("?")[0] if not parts.path and parts.query is not None else None)
        )
    if parts.path.startswith(NOT_FOLLOWED):
        return None
    return url


@pytest.mark.slow  # follows every link and form of every page, as every persona
@pytest.mark.django_db
@pytest.mark.parametrize("persona", COLUMNS)
def test_no_link_or_form_a_persona_is_shown_leads_to_403_or_404(persona, world):  # noqa: F811
    client = _client_for(persona, world)
    queue, seen, paths = deque(START), set(START), set()
    dead, forms_tried = [], set()
    while queue and len(paths) < MOST_PAGES:
        url = queue.popleft()
        path = url.split("?")[0]
        response = client.get(url)
        if response.status_code in (403, 404):
            dead.append(f"GET {url}: {response.status_code} (linked from {seen_from.get(url, 'the start')})")
            continue
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        paths.add(path)
        controls = Controls()
        controls.feed(response.content.decode("utf-8", "replace"))
        for link in controls.links:
            target = _local(link, url)
            if target and target not in seen and (target.split("?")[0] not in paths or "?" not in target):
                seen.add(target)
                seen_from[target] = url
                queue.append(target)
        for form in controls.forms:
            action = _local(form["action"], url) if form["action"] else url
            if not action or (form["method"], action.split("?")[0]) in forms_tried:
                continue
            forms_tried.add((form["method"], action.split("?")[0]))
            fields = {key: value for key, value in form["fields"].items()}
            if form["method"] == "get":
                answer = client.get(action.split("?")[0], fields)
            else:
                answer = probe(client, action, "post", api=False, body=fields)
            if answer.status_code in (403, 404):
                dead.append(f"{form['method'].upper()} form {action} on {url}: {answer.status_code}")
    assert len(paths) > 15, f"the walk reached only {sorted(paths)}"
    assert not dead, f"{persona} is shown controls that lead nowhere:\n" + "\n".join(dead)


seen_from: dict[str, str] = {}
