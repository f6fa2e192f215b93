"""Token scopes on every API route: secure by default (issue 16).

Every API route Django serves must have a row in ``TOKEN_SCOPES`` (authz_api_expectations) saying which
scopes pass its scope check per method, and the views must agree: read from the views themselves, then
probed with a real token of each scope. A new endpoint takes no resolve/ci_write/alert_intake token until
it declares so, and a view that sets its own ``permission_classes`` must keep ``TokenScopePermission``.
"""

from __future__ import annotations

import pytest
from django.test import Client

from registry.api.scopes import TokenScopePermission, accepted_scopes
from registry.models import TokenScope
from registry.services import api_token_create
from tests.security.authz_api_expectations import API_EXPECTED, TOKEN_SCOPES
from tests.security.authz_probe import all_patterns, probe, routes, url_for
from tests.security.test_authorization_matrix import SKIPPED, url_values, world  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow  # walks every route with a token of each scope: `make test-fast` leaves it out


def _api_routes():
    found, _ = routes(SKIPPED)
    return {name: route for name, route in found.items() if name in API_EXPECTED}


def _view(entry, method):
    """The view instance DRF would make for this route and method (no request)."""
    callback = entry.callback
    if not hasattr(callback, "cls"):  # a Django view (the change stream): it checks the scopes it declares itself
        return callback.view_class(**callback.view_initkwargs)
    view = callback.cls(**getattr(callback, "initkwargs", {}))
    actions = getattr(callback, "actions", None)
    if actions is not None:
        view.action_map = actions
        view.action = actions.get(method)
    return view


def test_every_api_route_has_a_scope_row():
    api = _api_routes()
    assert sorted(set(api) - set(TOKEN_SCOPES)) == [], "API routes without a TOKEN_SCOPES row"
    assert sorted(set(TOKEN_SCOPES) - set(api)) == [], "TOKEN_SCOPES rows for routes that no longer exist"


def test_the_views_take_the_scopes_the_table_says_and_all_check_them():
    api = _api_routes()
    wrong, unchecked = [], []
    seen = set()
    for name, _pattern, entry in all_patterns():
        if name not in api or name in seen:
            continue
        seen.add(name)
        for method in ("get", *api[name].writes):
            view = _view(entry, method)
            drf = hasattr(view, "get_permissions")
            if drf and not any(isinstance(permission, TokenScopePermission) for permission in view.get_permissions()):
                unchecked.append(name)
            got = " ".join(scope for scope in TokenScope.values if scope in accepted_scopes(view, method))
            expected = " ".join(scope for scope in TokenScope.values if scope in TOKEN_SCOPES[name][method].split())
            if got != expected:
                wrong.append(f"{name} {method}: the view takes {got!r}, the table says {expected!r}")
    assert not unchecked, f"Views that do not check token scopes: {sorted(set(unchecked))}"
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize("scope", TokenScope.values)
def test_a_token_of_each_scope_gets_past_the_scope_check_exactly_where_the_table_says(scope, world):  # noqa: F811
    """As the ML engineer (in the team, sees the restricted feature): a refusal for scope is 403 with
    ``insufficient_scope``; any other answer means the scope check let it through."""
    # Only a governance admin's token may have the scim scope (which no API route takes).
    user = world["users"]["governance_admin" if scope == "scim" else "ml_engineer"]
    _token, raw = api_token_create(actor=user, user=user, name=f"probe-{scope}", scopes=[scope])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    wrong = []
    for name, route in sorted(_api_routes().items()):
        url = url_for(route, url_values(name, world))
        for method in ("get", *route.writes):
            response = probe(client, url, method, api=True)
            refused = response.status_code == 403 and response.json().get("code") == "insufficient_scope"
            expected_refused = scope not in TOKEN_SCOPES[name][method].split()
            # The change stream under WSGI answers 503 by design (its own process serves it), past the checks.
            by_design = name == "routing-api:stream" and response.status_code == 503
            if (response.status_code >= 500 and not by_design) or refused != expected_refused:
                wrong.append(
                    f"{method.upper()} {url} ({name}): {response.status_code} "
                    f"{'refused' if refused else 'let through'}, expected "
                    f"{'refused' if expected_refused else 'let through'}"
                )
    assert not wrong, f"{scope} token:\n" + "\n".join(wrong)
