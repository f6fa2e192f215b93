from django.conf import settings
from django.db import models

from registry.choices import AuditSource


class AuditEvent(models.Model):
    """One recorded write. Append-only and hash-chained: each row's hash covers the previous hash.

    Rows are written only by ``registry.services.audit.audit_record``; nothing updates or deletes them.
    """

    sequence = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    source = models.CharField(max_length=10, choices=AuditSource.choices)
    request_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    feature = models.ForeignKey(
        "registry.AIFeature",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        help_text="The feature the event concerns, if any: for the feature's history and for visibility.",
    )
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-sequence"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["feature", "-sequence"]),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """The single row that serialises appends to the chain: locked, read, advanced, in one transaction.

    It also remembers the last sequence and hash, so removing the newest events is detected too.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="auditchainhead_singleton")]

    def __str__(self) -> str:
        return f"audit head at #{self.last_sequence}"
