"""Machine tokens on the hot path, without a database query per request.

``BearerTokenAuthentication`` looks the token's hash up on every request. Here the identity it finds
(the user, their roles and teams, and which restricted features they may see) is kept in the
process's memory under the routing epoch (``routing.cache``): revoking a token, deactivating a user
or changing their groups starts a new epoch, so the next request authenticates from the database
again. Safe because resolve and decision lookups only read; every write endpoint keeps the plain
per-request lookup.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model

from registry.api.authentication import BearerTokenAuthentication, BearerTokenScheme
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

    def may_see(self, feature_id: int, restricted: bool) -> bool:
        return not restricted or self.sees_everything or feature_id in self.restricted_visible

    def user(self):
        """A fresh, unsaved-looking copy of the user for this request (no query when read)."""
        user = get_user_model()(pk=self.user_id, username=self.username, is_active=True)
        user._gatehouse_roles = self.roles
        user._gatehouse_team_ids = self.team_ids
        user._routing_identity = self
        return user


def identity_for(user) -> Identity:
    return Identity(
        user_id=user.pk, username=user.get_username(), roles=user_roles(user), team_ids=user_team_ids(user),
        sees_everything=sees_everything(user),
        restricted_visible=frozenset(
            () if sees_everything(user)
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
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) != 2 or parts[0].lower() != BearerTokenAuthentication.keyword.lower():
        return None
    return ApiToken.hash_key(parts[1])


class CachedBearerTokenAuthentication(BearerTokenAuthentication):
    def authenticate(self, request):
        key = token_key(request)
        if key is None:
            return super().authenticate(request)  # no token, or a malformed header: the usual answers
        # The fast-path middleware has read it already unless it stopped before that.
        epoch = getattr(request, "routing_epoch", _UNREAD)
        if epoch is _UNREAD:
            epoch = request.routing_epoch = cache.current_epoch()
        now = time.monotonic()
        identity = cache.identities.get(epoch, key, now)
        if identity is not None:
            return identity.user(), None
        user, token = super().authenticate(request)
        identity = identity_for(user)
        cache.identities.put(epoch, key, identity, now + settings.ROUTING_CACHE_SECONDS)
        return identity.user(), token


class CachedBearerTokenScheme(BearerTokenScheme):
    target_class = "routing.auth.CachedBearerTokenAuthentication"
    name = "routerBearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A Gatehouse API token (the same tokens as bearerAuth; checked from memory on the hot path)."}
