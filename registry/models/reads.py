from django.conf import settings
from django.db import models

from core.audit_context import AuditSource


class ReadRecord(models.Model):
    """Someone looked at a restricted feature, one of its versions or its evidence: who, what, when.

    Kept beside the audit trail, not in it: reads are many and change nothing, and appending them to
    the hash chain would make every page view wait on the chain's lock. Rows are written only by
    ``registry.services.reads.read_record`` and never changed; governance admins and auditors read them.
    """

    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        help_text="Kept as an id (and the name below): a record outlives any change to the account.",
    )
    username = models.CharField(max_length=150)
    feature = models.ForeignKey(
        "registry.AIFeature", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    what = models.CharField(max_length=30, help_text="feature, version, versions compared, evidence")
    object_id = models.CharField(max_length=64, blank=True, help_text="The version number or evidence id, if any.")
    source = models.CharField(max_length=10, choices=AuditSource.choices)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["feature", "-at"]), models.Index(fields=["user", "-at"])]

    def __str__(self) -> str:
        return f"{self.username} read {self.what} of feature {self.feature_id} at {self.at:%Y-%m-%d %H:%M}"
