from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """An API write made with an ``Idempotency-Key`` header, and its answer: a retry with the same key (same
    user) gets this answer again instead of a second write. Kept ``IDEMPOTENCY_KEY_HOURS`` (24 h); in the
    database, not the cache, so it holds when Redis is down. See ``core.api.idempotency``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "registry_idempotencykey"  # made by the registry app, whose model this was
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.key} → {self.status_code}"
