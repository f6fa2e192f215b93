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
    ReportKind,
    SeriousCriterion,
    Severity,
    SnapshotTrigger,
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
    report_completed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the complete report was submitted: the clock stops there."
    )

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
        """Past the deadline with the complete report not yet submitted."""
        due = self.report_due_at
        return due is not None and self.report_completed_at is None and due < timezone.now()

    @property
    def report_clock_running(self) -> bool:
        return self.report_due_at is not None and self.report_completed_at is None

    @property
    def impact_end(self):
        """When users stopped being affected, as far as the record says: mitigation (resolving mitigates too).
        None while the impact goes on."""
        return self.mitigated_at


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


class SeriousReport(models.Model):
    """What people write for the report to the authority of a serious incident. Everything else in the
    report is drafted from the record (``incidents.reports``); these are the parts only people know."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="serious_report")
    affected_persons = models.TextField(blank=True, help_text="Who was affected, how, and how many so far.")
    root_cause = models.TextField(blank=True, help_text="The cause as far as it is known.")
    corrective_actions_planned = models.TextField(blank=True, help_text="What will be done, by whom, by when.")
    further_information = models.TextField(blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField()

    WRITTEN_FIELDS = ("affected_persons", "root_cause", "corrective_actions_planned", "further_information")

    def __str__(self) -> str:
        return f"Report notes of {self.incident.reference}"


class ReportSubmission(models.Model):
    """A report sent to a market surveillance authority, as recorded in Gatehouse: the draft that was sent
    (and its SHA-256), to whom, when and under which reference. Never changed afterwards."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="submissions")
    kind = models.CharField(max_length=20, choices=ReportKind.choices)
    authority = models.CharField(max_length=200, help_text="The market surveillance authority it went to.")
    submitted_at = models.DateTimeField(help_text="When it was sent to the authority.")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=200, blank=True, help_text="The authority's reference, if it gave one.")
    note = models.TextField(blank=True)
    as_of = models.DateTimeField(help_text="The moment of the record the draft was made from.")
    content = models.JSONField(help_text="The draft that was sent.")
    content_sha256 = models.CharField(max_length=64)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident"],
                condition=models.Q(kind="complete"),
                name="reportsubmission_one_complete_per_incident",
                violation_error_message="The complete report of this incident is already recorded.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.incident.reference} to {self.authority}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A recorded submission is never changed: record a follow-up.")
        super().save(*args, **kwargs)


class EvidenceSnapshot(models.Model):
    """What the record held about an incident at one moment: the live pointers and their configuration, the
    evaluations, the decisions of the impact window. Taken before a rollback of a serious incident changes
    anything (or by hand); never changed afterwards (PostgreSQL refuses it too, migration 0004)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="snapshots")
    taken_at = models.DateTimeField()
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    trigger = models.CharField(max_length=20, choices=SnapshotTrigger.choices)
    note = models.TextField(blank=True)
    content = models.JSONField()
    content_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-taken_at", "-id"]

    def __str__(self) -> str:
        return f"Evidence of {self.incident.reference} at {self.taken_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("An evidence snapshot is never changed: take a new one.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("incidents:snapshot_detail", args=[self.incident_id, self.pk])

    def delete(self, *args, **kwargs):
        raise ValueError("An evidence snapshot is never deleted.")
