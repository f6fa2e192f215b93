"""Gate policies, approval requests and sign-offs: whether a version may go live."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from approvals.choices import Gate, ReadinessItem, RequestStatus, RequirementKind, SignOffStatus
from registry.choices import Environment, EvaluationKind, RiskTier, Role


class GatePolicy(models.Model):
    """One per gate: its requirements, how fast reviewers should answer, how long an approval lasts."""

    gate = models.CharField(max_length=20, choices=Gate.choices, unique=True)
    description = models.TextField(blank=True)
    review_sla_hours = models.PositiveIntegerField(
        default=48, help_text="Sign-offs older than this are chased by the daily reminder."
    )
    approval_valid_days = models.PositiveIntegerField(
        default=14, help_text="An approval may be used to promote for this many days."
    )
    due_soon_days = models.PositiveIntegerField(
        default=14, help_text="Freshness: evidence this many days from its maximum age is flagged due soon."
    )
    escalation_grace_days = models.PositiveIntegerField(
        default=7,
        help_text="Freshness: stale, failing or missing production evidence opens a governance incident after "
        "this many days.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["gate"]
        verbose_name_plural = "gate policies"

    def __str__(self) -> str:
        return self.get_gate_display()

    def get_absolute_url(self) -> str:
        return reverse("approvals:policy_detail", args=[self.gate])


class GateRequirement(models.Model):
    """A sign-off role (with how many signers), an evidence kind (score and age), or a readiness item."""

    policy = models.ForeignKey(GatePolicy, on_delete=models.CASCADE, related_name="requirements")
    kind = models.CharField(max_length=20, choices=RequirementKind.choices)
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    count = models.PositiveSmallIntegerField(default=1, help_text="Sign-offs: how many different people.")
    evidence_kind = models.CharField(max_length=30, choices=EvaluationKind.choices, blank=True)
    min_score = models.FloatField(null=True, blank=True, help_text="Evidence: the newest result must reach this.")
    max_age_days = models.PositiveIntegerField(null=True, blank=True, help_text="Evidence: older is stale.")
    readiness_item = models.CharField(max_length=30, choices=ReadinessItem.choices, blank=True)

    class Meta:
        ordering = ["policy", "kind", "role", "evidence_kind", "readiness_item"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="signoff", count__gte=1, evidence_kind="", readiness_item="") & ~models.Q(role="")
                )
                | (models.Q(kind="evidence", role="", readiness_item="") & ~models.Q(evidence_kind=""))
                | (models.Q(kind="readiness", role="", evidence_kind="") & ~models.Q(readiness_item="")),
                name="gaterequirement_fields_match_kind",
                violation_error_message="A sign-off names a role, evidence an evaluation kind, readiness an item.",
            ),
            models.UniqueConstraint(
                fields=["policy", "role"],
                condition=models.Q(kind="signoff"),
                name="gaterequirement_role_once",
                violation_error_message="This role is already required by the gate.",
            ),
            models.UniqueConstraint(
                fields=["policy", "evidence_kind"],
                condition=models.Q(kind="evidence"),
                name="gaterequirement_evidence_once",
                violation_error_message="This evidence kind is already required by the gate.",
            ),
            models.UniqueConstraint(
                fields=["policy", "readiness_item"],
                condition=models.Q(kind="readiness"),
                name="gaterequirement_readiness_once",
                violation_error_message="This readiness item is already required by the gate.",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == RequirementKind.SIGNOFF:
            return f"{self.count} × {self.get_role_display()} sign-off"
        if self.kind == RequirementKind.EVIDENCE:
            parts = [self.get_evidence_kind_display()]
            if self.min_score is not None:
                parts.append(f"≥ {self.min_score:g}")
            if self.max_age_days is not None:
                parts.append(f"≤ {self.max_age_days} days old")
            return " ".join(parts)
        return self.get_readiness_item_display()


class GateAssignment(models.Model):
    """Which gate a promotion of a feature of this risk tier into this environment must pass."""

    risk_tier = models.CharField(max_length=20, choices=RiskTier.choices)
    environment = models.CharField(max_length=20, choices=Environment.choices)
    gate = models.CharField(max_length=20, choices=Gate.choices)

    class Meta:
        ordering = ["environment", "risk_tier"]
        constraints = [
            models.UniqueConstraint(
                fields=["risk_tier", "environment"],
                name="gateassignment_one_gate_per_tier_and_environment",
                violation_error_message="This tier already has a gate for that environment.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.risk_tier} → {self.environment}: {self.gate}"


class ApprovalRequest(models.Model):
    """A request to take a submitted version through a gate into an environment and regions.

    ``requirements`` is the gate's requirements as they were when the request was made: later policy
    edits do not move the goalposts of a request in flight.
    """

    version = models.ForeignKey("registry.FeatureVersion", on_delete=models.PROTECT, related_name="approval_requests")
    gate = models.CharField(max_length=20, choices=Gate.choices)
    environment = models.CharField(max_length=20, choices=Environment.choices)
    regions = models.ManyToManyField("registry.Region", related_name="+")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    requirements = models.JSONField()
    note = models.TextField(blank=True, help_text="Context for the reviewers.")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # The request list's order (newest first): read along it, a page stops after its rows instead of
            # sorting every request.
            models.Index(fields=["-created_at", "-id"], name="approvalrequest_newest_first"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "environment"],
                condition=models.Q(status="pending"),
                name="approvalrequest_one_pending_per_version_and_environment",
                violation_error_message="This version already has a pending request for that environment.",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending", decided_at__isnull=True)
                | (~models.Q(status="pending") & models.Q(decided_at__isnull=False)),
                name="approvalrequest_decided_when_not_pending",
                violation_error_message="A decided request records when it was decided.",
            ),
        ]

    def __str__(self) -> str:
        return f"Request #{self.pk}: {self.version} → {self.environment}"

    def get_absolute_url(self) -> str:
        return reverse("approvals:request_detail", args=[self.pk])


class SignOff(models.Model):
    """One required signature: a role's slot on a request, and who filled it with what decision."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="signoffs")
    role = models.CharField(max_length=20, choices=Role.choices)
    slot = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=20, choices=SignOffStatus.choices, default=SignOffStatus.PENDING)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="signoffs"
    )
    reason = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["request", "role", "slot"]
        indexes = [models.Index(fields=["status", "role", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "role", "slot"],
                name="signoff_role_slot_once_per_request",
                violation_error_message="This role's slot already exists on the request.",
            ),
            models.UniqueConstraint(
                fields=["request", "signer"],
                condition=models.Q(signer__isnull=False),
                name="signoff_one_signature_per_person_per_request",
                violation_error_message="A person signs at most one role of a request.",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending", signer__isnull=True, decided_at__isnull=True)
                | (~models.Q(status="pending") & models.Q(signer__isnull=False, decided_at__isnull=False)),
                name="signoff_signed_when_decided",
                violation_error_message="A decided sign-off records who signed and when.",
            ),
        ]

    def __str__(self) -> str:
        label = self.get_role_display() + (f" #{self.slot}" if self.slot > 1 else "")
        return f"{label} sign-off on request #{self.request_id}"
