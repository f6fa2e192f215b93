"""Token scopes, enforced on every API endpoint by one permission (``TokenScopePermission``).

A request authenticated by a token (``request.auth`` carries ``scopes``) passes only if one of its scopes
covers the operation; the person's own permissions still apply after this (a token never does more than
its user). Sessions are not scoped, except on endpoints that take tokens only (alert intake).

Which scopes cover an operation:

- ``read``: every safe method (GET, HEAD, OPTIONS) of every endpoint;
- ``full``: every operation, except on an endpoint that sets ``token_scopes_exclusive`` (alert intake);
- anything else only where the view declares it, in ``token_scopes``: a dict from the viewset action (or,
  for a plain APIView, the lower-case HTTP method) to the scopes that cover it.

So a new write endpoint takes no ``resolve``/``ci_write``/``alert_intake`` token until it says so: secure by
default (``tests/security/test_token_scopes`` walks every route against its table).
"""

from __future__ import annotations

from rest_framework import exceptions, permissions

from registry.models import TokenScope

READ, RESOLVE, CI_WRITE, ALERT_INTAKE, SCIM, FULL = (
    TokenScope.READ.value,
    TokenScope.RESOLVE.value,
    TokenScope.CI_WRITE.value,
    TokenScope.ALERT_INTAKE.value,
    TokenScope.SCIM.value,
    TokenScope.FULL.value,
)


def operation_key(view, method: str) -> str:
    """The name a view's ``token_scopes`` uses for this request: the viewset action, else the method."""
    action = getattr(view, "action", None)
    if action is None:
        actions = getattr(view, "action_map", None) or {}
        action = actions.get(method.lower())
    return action or method.lower()


def accepted_scopes(view, method: str) -> frozenset[str]:
    """The scopes a token needs (one of) for ``method`` on ``view``."""
    declared = set((getattr(view, "token_scopes", None) or {}).get(operation_key(view, method), ()))
    if getattr(view, "token_scopes_exclusive", False):
        return frozenset(declared)  # only what it declares: neither read nor full
    if method.upper() in permissions.SAFE_METHODS:
        declared.add(READ)
    return frozenset(declared | {FULL})


class InsufficientScope(exceptions.PermissionDenied):
    default_code = "insufficient_scope"


class TokenScopePermission(permissions.BasePermission):
    def has_permission(self, request, view):
        scopes = getattr(request.auth, "scopes", None)
        if scopes is None:  # a session (or no credential: IsAuthenticated answers that)
            if getattr(view, "token_scopes_exclusive", False) and request.user.is_authenticated:
                raise InsufficientScope(
                    "This endpoint takes an API token with a scope for it, not a session: "
                    f"use a token with the {self._names(accepted_scopes(view, request.method))} "
                    "scope."
                )
            return True
        accepted = accepted_scopes(view, request.method)
        if accepted & set(scopes):
            return True
        raise InsufficientScope(
            f"This token's scopes ({', '.join(scopes) or 'none'}) do not cover this operation; a token with "
            f"the {self._names(accepted)} scope does."
        )

    @staticmethod
    def _names(scopes) -> str:
        return " or ".join(sorted(scopes)) or "(no)"
