"""Walk Django's resolver and probe each route as a persona: the machinery behind the authorization matrix."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

WRITE_METHODS = ("post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    kwargs: tuple[str, ...]
    writes: tuple[str, ...]  # the write methods the view declares


def _declared_writes(callback) -> tuple[str, ...]:
    actions = getattr(callback, "actions", None)  # a DRF viewset route: its method -> action map
    if actions is not None:
        return tuple(method for method in WRITE_METHODS if method in actions)
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is not None:
        allowed = [m.lower() for m in getattr(view_class, "http_method_names", WRITE_METHODS)]
        return tuple(method for method in WRITE_METHODS if method in allowed and hasattr(view_class, method))
    return ("post",)  # a function view: probe it; 405 says it takes no writes


def _walk(patterns, namespace=None, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace) if part) or None
            yield from _walk(entry.url_patterns, inner, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield ":".join(part for part in (namespace, entry.name) if part), prefix + str(entry.pattern), entry


def all_patterns():
    """Every (route name, full pattern, URLPattern) the project serves, admin included."""
    return list(_walk(get_resolver().url_patterns))


def routes(skip_prefixes) -> tuple[dict[str, Route], list[str]]:
    """One Route per route name; the names of unnamed patterns (which cannot be tested by name)."""
    found, unnamed = {}, []
    for name, pattern, entry in all_patterns():
        if any(name.startswith(prefix) or name == prefix for prefix in skip_prefixes):
            continue
        if "admin:" in skip_prefixes and pattern.startswith("admin/"):  # the admin's unnamed change-view redirects
            continue
        if not entry.name:
            unnamed.append(pattern)
            continue
        groups = entry.pattern.regex.groupindex
        if "format" in groups:  # DRF's format-suffix twin of a route: same view, same name, same checks
            continue
        found.setdefault(name, Route(name, pattern, tuple(groups), _declared_writes(entry.callback)))
    return found, unnamed


def outcome(response) -> str:
    """A response in the matrix's words."""
    code = response.status_code
    if code in (301, 302, 303):
        location = response.get("Location", "")
        return "login" if "/accounts/login/" in location else "ok"
    if code >= 500:
        return f"error {code}"
    if code in (401, 403, 404, 405):
        return str(code)
    if code in (400, 409, 422):
        return "invalid"  # past the permission check, the empty body refused
    return "ok"


def probe(client, url: str, method: str, *, api: bool, body: dict | None = None):
    """One request; a write runs in a savepoint that is rolled back, so probes cannot disturb each other."""
    with transaction.atomic():
        if method == "get":
            response = client.get(url)
        elif api:
            response = getattr(client, method)(url, data=body or {}, content_type="application/json")
        else:
            response = getattr(client, method)(url, data=body or {})
        transaction.set_rollback(True)
    return response


def url_for(route: Route, values: dict) -> str:
    return reverse(route.name, kwargs={key: values[key] for key in route.kwargs})
