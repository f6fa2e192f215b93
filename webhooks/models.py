"""Outbound webhooks: who wants which events where, and every delivery with each attempt at it."""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from core.encryption import EncryptedTextField
from webhooks.choices import FINISHED_STATUSES, OPEN_STATUSES, DeliveryStatus, WebhookEvent

SECRET_PREFIX_LENGTH = 6


class WebhookSubscription(models.Model):
    """A receiver of events. ``team`` set: events of that team's features only; null: every feature
    (governance admins' alone, since it includes restricted features)."""

    name = models.CharField(max_length=120)
    target_url = models.URLField("target URL", max_length=500)
    events = models.JSONField(default=list, help_text="The event types delivered (at least one).")
    team = models.ForeignKey(
        "registry.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="webhook_subscriptions"
    )
    active = models.BooleanField(default=True)
    # Not hashed, unlike API tokens: signing each delivery (HMAC) needs the secret itself. Encrypted at rest
    # (core.encryption, GATEHOUSE_ENCRYPTION_KEY). Shown once, when created or rotated; pages, API and
    # admin show only its first characters.
    secret = EncryptedTextField()
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("webhooks:subscription_detail", args=[self.pk])

    @property
    def secret_prefix(self) -> str:
        return self.secret[:SECRET_PREFIX_LENGTH]

    def get_events_display(self) -> list[str]:
        return [WebhookEvent(event).label for event in self.events if event in WebhookEvent.values]


class WebhookDelivery(models.Model):
    """One event for one subscription: the outbox row written with the change, then sent and retried.

    Not audited: deliveries are derived from audited events (the payload names the event's sequence and
    hash), and auditing each attempt would flood the chain with operational noise.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Attempts since it was queued (or redelivered).")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_error_detail = models.CharField(
        max_length=500, blank=True, help_text="The last error as the network library named it, for debugging."
    )
    last_response_excerpt = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due"),
            models.Index(fields=["subscription", "-created_at"], name="webhookdelivery_by_sub"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=OPEN_STATUSES, next_attempt_at__isnull=False)
                | models.Q(status__in=FINISHED_STATUSES, next_attempt_at__isnull=True),
                name="webhookdelivery_open_iff_scheduled",
                violation_error_message="A delivery is scheduled exactly while it is not finished.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.subscription_id} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("webhooks:delivery_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery and what came back: the delivery log's evidence."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    request_headers = models.JSONField(default=dict)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    error_detail = models.CharField(
        max_length=500, blank=True, help_text="The error as the network library named it, for debugging."
    )
    response_excerpt = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField()
    succeeded = models.BooleanField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
