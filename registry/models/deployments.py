"""What is live where: a pointer per (feature, environment, region) and the append-only history of it."""

from django.conf import settings
from django.db import models

from registry.choices import DeploymentEventKind, Environment


class Deployment(models.Model):
    """The live pointer: which version serves a feature in an environment and region. One per triple."""

    feature = models.ForeignKey("registry.AIFeature", on_delete=models.PROTECT, related_name="deployments")
    environment = models.CharField(max_length=20, choices=Environment.choices)
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="deployments")
    version = models.ForeignKey("registry.FeatureVersion", on_delete=models.PROTECT, related_name="deployments")
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["feature", "environment", "region__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["feature", "environment", "region"],
                name="deployment_one_live_version_per_feature_environment_region",
                violation_error_message="A feature has one live version per environment and region.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.feature.slug} {self.environment}/{self.region.code} → v{self.version.number}"


class DeploymentEvent(models.Model):
    """One flip of a pointer: promotion, rollback or withdrawal (the pointer removed: ``to_version`` is
    empty). Never changed or deleted.

    ``approval_request_id`` and ``incident_id`` refer to the approvals and incidents apps by id: the
    registry depends on neither.
    """

    feature = models.ForeignKey("registry.AIFeature", on_delete=models.PROTECT, related_name="deployment_events")
    environment = models.CharField(max_length=20, choices=Environment.choices)
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=DeploymentEventKind.choices)
    from_version = models.ForeignKey(
        "registry.FeatureVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_version = models.ForeignKey(
        "registry.FeatureVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for a withdrawal: nothing serves there after it.",
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    approval_request_id = models.PositiveBigIntegerField(null=True, blank=True)
    approval_summary = models.JSONField(
        default=dict,
        blank=True,
        help_text="Who approved the promotion and when (gate, sign-offs), as it was at that moment.",
    )
    incident_id = models.PositiveBigIntegerField(null=True, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["feature", "environment", "region", "-at"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_version=models.F("to_version")),
                name="deploymentevent_changes_the_version",
                violation_error_message="A deployment event must change the live version.",
            )
        ]

    def __str__(self) -> str:
        to = f"v{self.to_version.number}" if self.to_version_id else "nothing"
        return f"{self.kind} {self.feature.slug} {self.environment}/{self.region.code} → {to}"
