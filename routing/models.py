"""The optional decision ledger: a caller's own request ids, each tied to the decision that served it."""

from django.conf import settings
from django.db import models

from registry.choices import Environment


class DecisionRecord(models.Model):
    """Request id → decision token, recorded in bulk by a router that wants per-request lookups.

    The token's claims are stored beside it (verified when recorded) so records can be searched by
    feature and time without reading every token. Append-only; a request id is recorded once per feature.
    """

    request_id = models.CharField(max_length=200)
    token = models.CharField(max_length=300)
    feature = models.ForeignKey("registry.AIFeature", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey("registry.FeatureVersion", on_delete=models.PROTECT, null=True, related_name="+")
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    environment = models.CharField(max_length=20, choices=Environment.choices)
    served = models.BooleanField()
    decided_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["request_id"]), models.Index(fields=["feature", "-decided_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["feature", "request_id"],
                name="decisionrecord_unique_request_per_feature",
                violation_error_message="This request id is already recorded for the feature.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} → {self.feature_id}/{self.region_id} at {self.decided_at:%Y-%m-%d %H:%M:%S}"


class UnpublishedInvalidation(models.Model):
    """A change that should have invalidated resolve's caches when the shared cache could not be reached.

    Kept in the database until it is published (``routing.pending``): a token revoked, or a promotion
    made, while Redis was down must not keep answering from a process's memory once Redis is back.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    what = models.CharField(max_length=200, help_text="The epoch, or the features whose stamps were to change.")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"unpublished invalidation of {self.what} since {self.created_at:%Y-%m-%d %H:%M:%S}"
