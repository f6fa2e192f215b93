from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from registry.models import ApiToken

LAST_USED_RESOLUTION = timedelta(minutes=5)


def active_token(key_hash: str) -> ApiToken:
    """The unrevoked, unexpired token of an active user with this hash; raises ``AuthenticationFailed``
    (code ``token_expired`` for an expired one). Every path that takes a token asks this."""
    token = ApiToken.objects.select_related("user").filter(key_hash=key_hash, revoked_at__isnull=True).first()
    if token is None or not token.user.is_active:
        raise exceptions.AuthenticationFailed("Invalid or revoked token.")
    if token.expires_at is not None and token.expires_at <= timezone.now():
        raise exceptions.AuthenticationFailed(
            f"This token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC. Create a new one on the API tokens "
            "page (or with create_api_token).",
            code="token_expired",
        )
    return token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>``: the token's SHA-256 is looked up; the raw token is never stored."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the token as 'Authorization: Bearer <token>'.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed("The token contains characters a token never has.") from None
        token = active_token(ApiToken.hash_key(raw))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            # A conditional update: at most one write per token every few minutes, whatever the traffic.
            ApiToken.objects.filter(pk=token.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
            ).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


SCOPES_DESCRIPTION = (
    "A Gatehouse API token (`Authorization: Bearer gh_...`), made on the API tokens page or with "
    "`manage.py create_api_token`. A token acts as its user (never more) and only within its scopes; "
    "anything else answers 403 with code `insufficient_scope`. An expired token answers 401 with code "
    "`token_expired`; tokens expire after 90 days unless chosen otherwise, and are revoked when their "
    "user's password changes or the user is deactivated.\n\n"
    "Scopes:\n"
    "- `read`: every GET (resolve and decision lookups included).\n"
    "- `resolve`: `GET /resolve/`, `GET /decisions/`, `GET /decisions/{token}/`, `POST /decisions/ledger/`.\n"
    "- `ci_write`: what a pipeline does: `POST /prompts/`, `/datasets/`, `/versions/`, `PATCH /versions/{id}/`, "
    "`POST /versions/{id}/submit/`, `POST /evaluations/`, `POST /approval-requests/`, "
    "`POST /approval-requests/{id}/promote/` and `/withdraw/`, `POST /deployments/rollback/`.\n"
    "- `alert_intake`: `POST /alerts/alertmanager/` only; that endpoint takes no other scope and no session.\n"
    "- `scim`: the SCIM 2.0 provisioning endpoints under `/scim/v2/` only; they take no other scope and no "
    "session, and the token's user must be a governance admin.\n"
    "- `full`: every operation the user may do, except alert intake and SCIM (tokens made before scopes have it)."
)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "registry.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": SCOPES_DESCRIPTION}
