"""People: why each person holds each role and team membership, and their signed-in sessions."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone

from registry.choices import MembershipSource


class Membership(models.Model):
    """One source's reason for a person being in a role's or a team's group.

    The Django group membership is what permissions read; these rows say who put the person there,
    from which source and why. A person leaves the group when the last row holding them there goes.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=10, choices=MembershipSource.choices)
    reason = models.TextField(blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["user", "group", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "group", "source"],
                name="membership_once_per_source",
                violation_error_message="This source already holds the person in that group.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.group} ({self.source})"


class UserSession(models.Model):
    """A signed-in browser session, so a person (or governance) can see and end it."""

    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signed_in_sessions")
    method = models.CharField(max_length=20, blank=True, help_text="password, sso or passkey")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} since {self.created_at:%Y-%m-%d %H:%M}"


class PersonSettings(models.Model):
    """What a person sets for themselves: the time zone the pages show times in (the API always speaks UTC)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="person_settings"
    )
    time_zone = models.CharField(max_length=64, default="UTC")

    class Meta:
        verbose_name_plural = "person settings"

    def __str__(self) -> str:
        return f"{self.user}: {self.time_zone}"
