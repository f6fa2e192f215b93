from django.conf import settings
from django.db import models


class Notification(models.Model):
    """An in-app notice for one user (the same message is emailed after the transaction commits)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    key = models.CharField(
        max_length=120, blank=True, help_text="Idempotency key: the same key is never sent twice to the same user."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True, help_text="Set when the email went out: never twice.")
    email_attempts = models.PositiveSmallIntegerField(default=0, help_text="Failed attempts to email it.")
    email_failed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when emailing it was given up: an error no retry fixes, or too many tries.",
    )
    email_error = models.CharField(max_length=300, blank=True, help_text="Why the email could not be sent.")
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"]), models.Index(fields=["key"])]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"],
                condition=~models.Q(key=""),
                name="notification_once_per_user_and_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.subject}"
