"""Machine tokens on the hot path, without a database query per request.

``BearerTokenAuthentication`` looks the token's hash up on every request. Here the identity it finds
(the user, their roles and teams, and which restricted features they may see) is kept in the
process's memory under the routing access stamp (``routing.cache``): revoking a token, deactivating a
user or changing their groups renews it, so the next request authenticates from the database again. Safe because resolve and decision lookups only read; every write endpoint keeps the plain
per-request lookup.

The identity keeps the token's scopes and expiry too: an expired token is refused even while its
identity is cached (the fast path falls through to the full path, which answers 401 ``token_expired``),
and a token without a scope that covers resolve (an alert-intake token) never resolves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model

from registry.api.authentication import BearerTokenAuthentication, BearerTokenScheme
from registry.api.scopes import FULL, READ, RESOLVE
from registry.models import ApiToken
from registry.permissions import sees_everything, user_roles, user_team_ids
from registry.selectors import features_visible_to
from routing import cache


@dataclass(frozen=True)
class Identity:
    user_id: int
    username: str
    roles: frozenset[str]
    team_ids: frozenset[int]
    sees_everything: bool
    restricted_visible: frozenset[int]
    # The token's, when the identity is a token's (None: a session user's identity, not scoped).
    scopes: frozenset[str] | None = None
    expires_at: float | None = None  # wall-clock seconds (time.time()); None: never

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at is not None and (time.time() if now is None else now) >= self.expires_at

    def may_resolve(self, now: float | None = None) -> bool:
        """Whether the fast path may answer a resolve for this token from memory."""
        return not self.expired(now) and bool(self.scopes and self.scopes & RESOLVING_SCOPES)

    def may_see(self, feature_id: int, restricted: bool) -> bool:
        return not restricted or self.sees_everything or feature_id in self.restricted_visible

    def user(self):
        """A fresh, unsaved-looking copy of the user for this request (no query when read)."""
        user = get_user_model()(pk=self.user_id, username=self.username, is_active=True)
        user._gatehouse_roles = self.roles
        user._gatehouse_team_ids = self.team_ids
        user._routing_identity = self
        return user


RESOLVING_SCOPES = frozenset({READ, RESOLVE, FULL})


def identity_for(user, token: ApiToken | None = None) -> Identity:
    return Identity(
        scopes=frozenset(token.scopes) if token is not None else None,
        expires_at=token.expires_at.timestamp() if token is not None and token.expires_at else None,
        user_id=user.pk,
        username=user.get_username(),
        roles=user_roles(user),
        team_ids=user_team_ids(user),
        sees_everything=sees_everything(user),
        restricted_visible=frozenset(
            ()
            if sees_everything(user)
            else features_visible_to(user).filter(restricted=True).values_list("pk", flat=True)
        ),
    )


def may_see(user, *, feature_id: int, restricted: bool) -> bool:
    """Visibility of a feature from the cached identity (computed once per epoch for session users too)."""
    if not restricted:
        return True
    identity = getattr(user, "_routing_identity", None)
    if identity is None:
        identity = user._routing_identity = identity_for(user)
    return identity.may_see(feature_id, restricted)


_UNREAD = object()


def token_key(request) -> str | None:
    """The identity cache's key for the request's ``Authorization: Bearer <token>`` (the token's hash),
    or None for any other header. The fast path and the authentication class both key by it, so an
    identity one stores is the one the other finds."""
    return bearer_key(request.META.get("HTTP_AUTHORIZATION", ""))


def bearer_key(authorization: str) -> str | None:
    """``token_key`` from the header's value."""
    parts = authorization.split()
    if len(parts) != 2 or parts[0].lower() != BearerTokenAuthentication.keyword.lower():
        return None
    return ApiToken.hash_key(parts[1])


class CachedBearerTokenAuthentication(BearerTokenAuthentication):
    def authenticate(self, request):
        key = token_key(request)
        if key is None:
            return super().authenticate(request)  # no token, or a malformed header: the usual answers
        # The fast-path middleware has read it already unless it stopped before that.
        access = getattr(request, "routing_access", _UNREAD)
        if access is _UNREAD:
            access = request.routing_access = cache.current_access()
        now = time.monotonic()
        identity = cache.identities.get(access, key, now)
        if identity is not None and not identity.expired():
            # The identity stands in for the token: TokenScopePermission reads its scopes.
            return identity.user(), identity
        # Unknown here, or expired (then the database lookup answers 401 token_expired).
        user, token = super().authenticate(request)
        identity = identity_for(user, token)
        expires = now + settings.ROUTING_CACHE_SECONDS
        cache.identities.put(access, key, identity, expires)
        return identity.user(), identity


class CachedBearerTokenScheme(BearerTokenScheme):
    target_class = "routing.auth.CachedBearerTokenAuthentication"
    name = "routerBearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A Gatehouse API token (the same tokens as bearerAuth, with the same scopes and expiry; "
            "checked from memory on the hot path). Resolve and decision lookups take the "
            "`resolve`, `read` or `full` scope.",
        }
