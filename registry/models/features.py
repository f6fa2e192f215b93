from django.conf import settings
from django.db import models
from django.urls import reverse
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from registry.choices import ChangeRequestStatus, DataClassification, FeatureStatus, RiskTier


class AIFeature(models.Model):
    """An AI feature of a product: what it is for, who owns it, how risky it is, where it serves."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=160)
    purpose = models.TextField()
    team = models.ForeignKey("registry.Team", on_delete=models.PROTECT, related_name="features")
    accountable_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="accountable_features"
    )
    incident_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="incident_owned_features"
    )
    escalation_path = models.TextField(blank=True, help_text="Who is called next, in order.")
    risk_tier = models.CharField(max_length=20, choices=RiskTier.choices)
    regions = models.ManyToManyField("registry.Region", related_name="features")
    intended_uses = models.TextField()
    disallowed_uses = models.TextField()
    data_classification = models.CharField(max_length=20, choices=DataClassification.choices)
    slos = models.TextField("SLOs", blank=True, help_text="Service-level objectives, one per line.")
    monitors = models.TextField(blank=True, help_text="Links to dashboards and alerts, one per line.")
    operational_fallback = models.TextField(blank=True, help_text="What happens when the AI path is off.")
    rollback_path = models.TextField(blank=True, help_text="How to return to the last good configuration.")
    stop_expansion_criteria = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=FeatureStatus.choices, default=FeatureStatus.PROPOSED)
    restricted = models.BooleanField(
        default=False, help_text="Visible only to the owning team, governance admins and auditors."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["risk_tier", "status"]),
            # Lists in name order (features, and versions by feature name then number) read the first page
            # along this index instead of sorting every row: 200 ms -> 1 ms for 50,000 versions.
            models.Index(fields=["name"], name="aifeature_by_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("registry:feature_detail", args=[self.slug])

    @property
    def monitor_links(self) -> list[str]:
        return [line.strip() for line in self.monitors.splitlines() if line.strip()]

    @property
    def safe_monitor_links(self) -> list[tuple[str, bool]]:
        """(text, is a http(s) link): only those become clickable, whatever was stored before validation."""
        return [(line, line.lower().startswith(("http://", "https://"))) for line in self.monitor_links]

    @property
    def slo_lines(self) -> list[str]:
        return [line.strip() for line in self.slos.splitlines() if line.strip()]


class FeatureChangeRequest(models.Model):
    """A change to a feature that weakens governance (a lower risk tier, the restriction lifted, more regions
    for a restricted or regulated feature), asked by its team: nothing changes until governance approves.

    ``changes`` holds what was asked (``risk_tier``, ``restricted``, ``regions_added``, ``regions_removed``);
    ``before`` what the feature had then, for the page that shows the request.
    """

    feature = models.ForeignKey(AIFeature, on_delete=models.CASCADE, related_name="change_requests")
    status = models.CharField(max_length=20, choices=ChangeRequestStatus.choices, default=ChangeRequestStatus.PENDING)
    changes = models.JSONField()
    before = models.JSONField()
    reason = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["feature"], condition=models.Q(status="pending"), name="one_pending_change_per_feature"
            )
        ]

    def __str__(self) -> str:
        return f"Change request #{self.pk} for {self.feature}"

    def get_absolute_url(self) -> str:
        return self.feature.get_absolute_url() + "#pending-change"

    @property
    def is_pending(self) -> bool:
        return self.status == ChangeRequestStatus.PENDING

    @property
    def rows(self) -> list[tuple[str, str, str]]:
        """(what, now, asked) for each part of the change, as people read it."""
        rows = []
        if "risk_tier" in self.changes:
            rows.append(
                ("Risk tier", RiskTier(self.before["risk_tier"]).label, RiskTier(self.changes["risk_tier"]).label)
            )
        if "restricted" in self.changes:
            rows.append(
                (
                    "Restricted",
                    "Yes" if self.before["restricted"] else "No",
                    "Yes" if self.changes["restricted"] else "No",
                )
            )
        if self.changes.get("regions_added"):
            before = self.before.get("regions", [])
            asked = sorted(
                (set(before) | set(self.changes["regions_added"])) - set(self.changes.get("regions_removed", []))
            )
            rows.append(
                (
                    "Regions",
                    ", ".join(before) or "none",
                    ", ".join(asked) + " (adds " + ", ".join(self.changes["regions_added"]) + ")",
                )
            )
        return rows


class AIFeatureUserObjectPermission(UserObjectPermissionBase):
    """django-guardian direct foreign-key permissions (per object grants), for speed and integrity."""

    content_object = models.ForeignKey(AIFeature, on_delete=models.CASCADE)


class AIFeatureGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(AIFeature, on_delete=models.CASCADE)


class ReviewerGrantQuerySet(models.QuerySet):
    def active(self, *, now=None):
        """Grants in force: not ended, and not past their expiry (whether or not the sweep has recorded it)."""
        from django.utils import timezone

        return self.filter(ended_at__isnull=True, expires_at__gt=now or timezone.now())


class ReviewerGrant(models.Model):
    """Governance lets one named person see one restricted feature, for a reason and a period.

    This is how an organisation-wide reviewer (security, legal) is brought in deliberately to review and
    sign a restricted feature's requests. A grant ends when it expires or is revoked; either is audited.
    """

    feature = models.ForeignKey(AIFeature, on_delete=models.CASCADE, related_name="reviewer_grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviewer_grants")
    reason = models.TextField()
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When it was revoked or its expiry recorded.")
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    end_reason = models.TextField(blank=True)

    objects = ReviewerGrantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "ended_at", "expires_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["feature", "user"],
                condition=models.Q(ended_at__isnull=True),
                name="reviewergrant_one_open_per_feature_and_user",
                violation_error_message="This person already has a reviewer grant on this feature.",
            ),
        ]

    def __str__(self) -> str:
        return f"Reviewer grant for {self.user} on {self.feature}"

    def is_active(self, *, now=None) -> bool:
        from django.utils import timezone

        return self.ended_at is None and self.expires_at > (now or timezone.now())
