from django.conf import settings
from django.db import models

from core.audit_context import AuditSource


class AuditEvent(models.Model):
    """One recorded write. Append-only and hash-chained: each row's hash covers the previous hash.

    Rows are written only by ``registry.services.audit.audit_record``; nothing updates or deletes them (on
    PostgreSQL a trigger refuses it). The actor is protected: a person who acted is deactivated, never
    deleted, so the id the hash covers keeps pointing at them.
    """

    sequence = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
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
    # How the hash was made: 1, plain SHA-256 (events recorded before the chain was keyed, verified as they
    # were made); 2, HMAC-SHA256 over numbers in canonical form with the key named by key_id.
    scheme = models.PositiveSmallIntegerField(default=1)
    key_id = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-sequence"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["feature", "-sequence"]),
            # The trail's "Who" filter lists the names it holds: read along this index a name at a time
            # (registry.filters.distinct_values), not by sorting a million events.
            models.Index(fields=["actor_name"], name="auditevent_actor_name"),
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


class AuditCheckpoint(models.Model):
    """A signed statement "the chain had reached #sequence with this hash at this time", kept here for display.

    The copy verification relies on is the one published outside the database (the anchor file, the
    webhook stream, evidence packs): this table could be rewritten along with the trail.
    """

    sequence = models.PositiveBigIntegerField()
    head_hash = models.CharField(max_length=64)
    at = models.DateTimeField()
    key_id = models.CharField(max_length=40)
    signature = models.CharField(max_length=64)
    anchored = models.BooleanField(default=False, help_text="Appended to the anchor file.")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"checkpoint at #{self.sequence}"


class AuditVerificationRun(models.Model):
    """One walk of the whole chain, started from the *Verify the trail* page and run by a worker.

    It records its progress as it goes (events checked of the total when it started) and, at the end,
    what it proved: the verified range, the head hash, or the first bad event and why.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        PASSED = "passed", "The chain holds"
        FAILED = "failed", "The chain is broken"
        ERROR = "error", "Could not finish"

    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField(help_text="When the run last recorded progress.")
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING, db_index=True)
    total = models.PositiveBigIntegerField(default=0, help_text="Events in the trail when the run started.")
    checked = models.PositiveBigIntegerField(default=0)
    first_sequence = models.PositiveBigIntegerField(null=True, blank=True)
    first_at = models.DateTimeField(null=True, blank=True)
    last_sequence = models.PositiveBigIntegerField(null=True, blank=True)
    last_at = models.DateTimeField(null=True, blank=True)
    head_hash = models.CharField(max_length=64, blank=True)
    checkpoints = models.PositiveIntegerField(default=0)
    problem_count = models.PositiveIntegerField(default=0)
    first_bad_sequence = models.PositiveBigIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    problems = models.JSONField(default=list, blank=True, help_text="The first problems found, in order.")
    notes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Verification #{self.pk} ({self.get_status_display()})"

    @property
    def running(self) -> bool:
        return self.status == self.Status.RUNNING

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if not self.running else 0
        return min(100, int(self.checked * 100 / self.total))
