"""Identity: how the identity provider's groups map to roles and teams, the SCIM view of people and
groups, single sign-on links, and access reviews."""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from identity.choices import ReviewDecision, ReviewItemKind, ReviewStatus
from registry.choices import Role


class GroupMapping(models.Model):
    """A group of the identity provider (as its sign-in claim or SCIM group names it) gives a role or a team.

    Applied at every sign-in (OpenID Connect) and every SCIM group change, so leaving the group in the
    identity provider removes what it gave. Governance edits the mappings in Gatehouse, audited."""

    group_name = models.CharField(max_length=200, help_text="The group as the identity provider names it.")
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    team = models.ForeignKey("registry.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group_name", "role", "team__name"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(team__isnull=True) & ~models.Q(role=""))
                | (models.Q(team__isnull=False) & models.Q(role="")),
                name="groupmapping_role_or_team",
                violation_error_message="A mapping gives either a role or a team.",
            ),
            models.UniqueConstraint(
                fields=["group_name", "role"],
                condition=~models.Q(role=""),
                name="groupmapping_role_once",
                violation_error_message="This group already gives that role.",
            ),
            models.UniqueConstraint(
                fields=["group_name", "team"],
                condition=models.Q(team__isnull=False),
                name="groupmapping_team_once",
                violation_error_message="This group already gives that team.",
            ),
        ]

    def __str__(self) -> str:
        target = self.get_role_display() if self.role else str(self.team)
        return f"{self.group_name} → {target}"


class OidcIdentity(models.Model):
    """The identity provider's subject a person signs in as, and what it last said about them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identity")
    issuer = models.CharField(max_length=300)
    subject = models.CharField(max_length=255)
    groups = models.JSONField(default=list, blank=True, help_text="The groups claim at the last sign-in.")
    first_sign_in_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="oidcidentity_subject_once_per_issuer")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.subject})"


class ScimUser(models.Model):
    """A person as the identity provider provisions them over SCIM.

    Made when SCIM creates the person, or when a SCIM answer first shows an account made otherwise (so
    the identity provider can match and manage people who signed up before provisioning was set up);
    ``identity.scim`` keeps the person's SCIM id stable from then on."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scim")
    scim_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=255, blank=True, db_index=True)
    attributes = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the identity provider said that the account has no field for (the formatted name, the "
        "display name, every email address), given back as it was said.",
    )
    provider_active = models.BooleanField(
        null=True,
        blank=True,
        help_text="What the identity provider last said of 'active'. Gatehouse deactivates or reactivates when "
        "that changes, so a deactivation by governance is not undone by a push that repeats 'active: true'.",
    )
    deprovisioned_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Deleted over SCIM: the account is deactivated and kept for the audit trail, and SCIM no longer "
        "shows it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return str(self.user)


class ScimGroup(models.Model):
    """A group the identity provider pushes over SCIM. Its members get what the group's mappings give."""

    scim_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(max_length=200, unique=True)
    external_id = models.CharField(max_length=255, blank=True, db_index=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="scim_groups")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class AccessReview(models.Model):
    """A campaign: every role grant and team membership put to a reviewer, confirmed or revoked."""

    name = models.CharField(max_length=120)
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.OPEN)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="open"),
                name="accessreview_one_open",
                violation_error_message="An access review is already open: close it before starting another.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("identity:review_detail", args=[self.pk])

    @property
    def is_overdue(self) -> bool:
        return self.status == ReviewStatus.OPEN and self.due_at < timezone.now()


class AccessReviewItem(models.Model):
    """One role grant or team membership, as it stood when the campaign started, and its review."""

    review = models.ForeignKey(AccessReview, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=10, choices=ReviewItemKind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    team = models.ForeignKey("registry.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    sources = models.JSONField(default=list, help_text="Membership sources when the campaign started.")
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="access_review_items")
    decision = models.CharField(max_length=20, choices=ReviewDecision.choices, default=ReviewDecision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["review", "kind", "user__username", "role", "team__name"]
        indexes = [models.Index(fields=["review", "decision"])]

    def __str__(self) -> str:
        what = self.get_role_display() if self.kind == ReviewItemKind.ROLE else f"team {self.team}"
        return f"{self.user}: {what}"
