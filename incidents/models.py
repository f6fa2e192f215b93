"""Incidents linked to the exact version that was live when they began, and their timelines."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from incidents.choices import (
    REPORT_DAYS_DEATH,
    REPORT_DAYS_DEFAULT,
    REPORT_DAYS_WIDESPREAD,
    EventKind,
    IncidentSource,
    IncidentStatus,
    SeriousCriterion,
    Severity,
)
from registry.choices import Environment


class Incident(models.Model):
    title = models.CharField(max_length=200)
    feature = models.ForeignKey("registry.AIFeature", on_delete=models.PROTECT, related_name="incidents")
    environment = models.CharField(max_length=20, choices=Environment.choices, default=Environment.PRODUCTION)
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=20, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    impact_start = models.DateTimeField(help_text="When users were first affected (may be in the past).")
    detected_at = models.DateTimeField()
    live_version = models.ForeignKey(
        "registry.FeatureVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        help_text="The version live at impact start, from the deployment history.",
    )
    live_event = models.ForeignKey(
        "registry.DeploymentEvent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The deployment event that made that version live.",
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_incidents")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reported_incidents")
    description = models.TextField()
    customer_impact = models.TextField(blank=True)
    root_cause = models.TextField(blank=True)
    follow_ups = models.TextField(blank=True, help_text="Actions agreed, one per line.")
    postmortem_url = models.URLField(max_length=500, blank=True)
    source = models.CharField(max_length=20, choices=IncidentSource.choices, default=IncidentSource.MANUAL)
    alert_fingerprint = models.CharField(max_length=120, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Serious incident (EU AI Act Art. 73): the criteria met, and when the provider became aware.
    serious_criteria = models.JSONField(default=list, blank=True, help_text="SeriousCriterion values met.")
    serious_death = models.BooleanField(default=False, help_text="A person died.")
    serious_widespread = models.BooleanField(default=False, help_text="A widespread infringement.")
    aware_at = models.DateTimeField(null=True, blank=True, help_text="When the provider became aware it is serious.")
    serious_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    serious_decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-impact_start", "-id"]
        indexes = [models.Index(fields=["feature", "status", "severity"])]
        constraints = [
            models.UniqueConstraint(
                fields=["alert_fingerprint"],
                condition=~models.Q(alert_fingerprint="") & ~models.Q(status="closed"),
                name="incident_one_active_per_alert_fingerprint",
                violation_error_message="An incident for this alert is already open.",
            ),
            models.CheckConstraint(
                condition=models.Q(detected_at__gte=models.F("impact_start")),
                name="incident_detected_after_impact",
                violation_error_message="An incident cannot be detected before its impact started.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("incidents:incident_detail", args=[self.pk])

    @property
    def reference(self) -> str:
        return f"INC-{self.pk}"

    # --- Serious incident clock (Art. 73) -------------------------------------------------------------

    @property
    def is_serious(self) -> bool:
        return bool(self.serious_criteria)

    @property
    def report_days(self) -> int | None:
        if not self.is_serious:
            return None
        if self.serious_widespread or SeriousCriterion.INFRASTRUCTURE in self.serious_criteria:
            return REPORT_DAYS_WIDESPREAD
        if self.serious_death:
            return REPORT_DAYS_DEATH
        return REPORT_DAYS_DEFAULT

    @property
    def report_due_at(self):
        if not self.is_serious or self.aware_at is None:
            return None
        return self.aware_at + timedelta(days=self.report_days)

    @property
    def report_overdue(self) -> bool:
        due = self.report_due_at
        return due is not None and due < timezone.now()


class IncidentEvent(models.Model):
    """One entry of an incident's timeline. Append-only."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    body = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    deployment_event = models.ForeignKey(
        "registry.DeploymentEvent", on_delete=models.PROTECT, null=True, blank=True, related_name="incident_events"
    )
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.incident.reference} {self.kind} at {self.at:%Y-%m-%d %H:%M}"
