import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone


class TokenScope(models.TextChoices):
    """What an API token may do, besides what its user may do (a token never does more than its user).

    ``registry.api.scopes`` enforces them on every API endpoint; the API guide's "Tokens and scopes" (docs/api.md) lists
    precisely which operations each covers."""

    READ = "read", "Read"
    RESOLVE = "resolve", "Resolve"
    CI_WRITE = "ci_write", "CI write"
    ALERT_INTAKE = "alert_intake", "Alert intake"
    SCIM = "scim", "SCIM provisioning"
    FULL = "full", "Full access"


SCOPE_HELP = {
    TokenScope.READ: "every GET of anything you may see, resolve included.",
    TokenScope.RESOLVE: "resolve routes, look decisions up, record the decision ledger. For routers.",
    TokenScope.CI_WRITE: "what a pipeline does: register prompts, datasets and versions, record evaluations, "
    "submit, request gates, promote, withdraw a request, roll back. Add Read to poll.",
    TokenScope.ALERT_INTAKE: "post Alertmanager alerts, and nothing else. For Alertmanager.",
    TokenScope.SCIM: "provision people and groups at /scim/v2/, and nothing else. For the identity provider; "
    "its user must be a governance admin.",
    TokenScope.FULL: "every API operation you may do (not alert intake or SCIM). Tokens made before scopes have it.",
}


class ApiToken(models.Model):
    """A machine credential tied to a user. Only the SHA-256 of the token is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80, help_text="What uses it, e.g. ci-pipeline.")
    prefix = models.CharField(max_length=12, help_text="The first characters, shown to tell tokens apart.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list, help_text="TokenScope values: what the token may be used for.")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Refused from then on; empty: never.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def scope_labels(self) -> list[str]:
        return [TokenScope(scope).label if scope in TokenScope.values else scope for scope in self.scopes]

    @staticmethod
    def hash_key(raw: str) -> str:
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()
