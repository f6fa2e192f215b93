"""Evidence freshness: what the scheduled sweep found wrong with the evidence of live versions."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from approvals.choices import Gate
from freshness.choices import BLOCKING_STATES, CloseReason, FindingState, SweepStatus, SweepTrigger
from registry.choices import Environment, EvaluationKind


def blocks(*, environment: str, state: str, stale_at, now) -> bool:
    """Whether an open finding blocks promotions: stale, failing or missing production evidence, and
    due-soon evidence whose stale date has passed since the last sweep (the gate calls it stale now)."""
    if environment != Environment.PRODUCTION:
        return False
    return state in BLOCKING_STATES or (state == FindingState.DUE_SOON and stale_at is not None and stale_at <= now)


def blocking_condition(now) -> models.Q:
    """``blocks`` as a query: open findings that block promotions."""
    return models.Q(closed_at__isnull=True, environment=Environment.PRODUCTION) & (
        models.Q(state__in=BLOCKING_STATES) | models.Q(state=FindingState.DUE_SOON, stale_at__lte=now)
    )


class FreshnessFinding(models.Model):
    """A live version whose evidence of one kind is missing, failing, due soon or stale under its gate.

    At most one open finding per (version, environment, evidence kind). ``revision`` counts state
    changes: owners are told once per (finding, revision), whoever runs the sweep and however often.
    """

    feature = models.ForeignKey("registry.AIFeature", on_delete=models.PROTECT, related_name="freshness_findings")
    version = models.ForeignKey("registry.FeatureVersion", on_delete=models.PROTECT, related_name="freshness_findings")
    environment = models.CharField(max_length=20, choices=Environment.choices)
    gate = models.CharField(max_length=20, choices=Gate.choices)
    evidence_kind = models.CharField(max_length=30, choices=EvaluationKind.choices)
    state = models.CharField(max_length=20, choices=FindingState.choices)
    evaluation = models.ForeignKey(
        "registry.Evaluation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The newest evaluation of this kind when the finding last changed.",
    )
    min_score = models.FloatField(null=True, blank=True)
    max_age_days = models.PositiveIntegerField(null=True, blank=True)
    stale_at = models.DateTimeField(null=True, blank=True, help_text="When the newest evidence is (or was) too old.")
    revision = models.PositiveIntegerField(default=1)
    opened_at = models.DateTimeField()
    state_changed_at = models.DateTimeField()
    blocking_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Production only: since when it has blocked promotions (grace counts from here).",
    )
    incident_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="The governance incident it opened.")
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=20, choices=CloseReason.choices, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["closed_at", "state"]),
            models.Index(fields=["feature", "closed_at"]),
            models.Index(fields=["version", "closed_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "environment", "evidence_kind"],
                condition=models.Q(closed_at__isnull=True),
                name="freshnessfinding_one_open_per_version_environment_kind",
                violation_error_message="This version already has an open finding for that evidence.",
            ),
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True, close_reason="")
                | (models.Q(closed_at__isnull=False) & ~models.Q(close_reason="")),
                name="freshnessfinding_closed_with_reason",
                violation_error_message="A closed finding says why it closed.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_evidence_kind_display()} {self.get_state_display().lower()} on {self.version} ({self.environment})"

    def get_absolute_url(self) -> str:
        return reverse("freshness:finding_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def shows_stale_date(self) -> bool:
        """Only for due-soon and stale evidence does the date it goes stale mean anything."""
        return self.is_open and self.stale_at is not None and self.state in (FindingState.DUE_SOON, FindingState.STALE)

    @property
    def blocks_promotions(self) -> bool:
        return self.is_open and blocks(
            environment=self.environment, state=self.state, stale_at=self.stale_at, now=timezone.now()
        )

    def describe(self) -> str:
        """One sentence on what is wrong, from the stored rule and evaluation."""
        kind = self.get_evidence_kind_display()
        evaluation = self.evaluation
        if self.closed_at is not None:
            was = self.get_state_display().lower()
            return f"Was {was}; closed {self.closed_at:%-d %b %Y}: {self.get_close_reason_display().lower()}."
        if self.state == FindingState.MISSING or evaluation is None:
            return (
                f"No {kind.lower()} evaluation recorded for v{self.version.number}; the {self.gate} gate requires one."
            )
        if self.state == FindingState.FAILING:
            if not evaluation.passed:
                return f"Newest {kind.lower()} result failed its threshold ({evaluation.score:g} vs {evaluation.threshold:g})."
            return f"Newest {kind.lower()} score {evaluation.score:g} is below the gate's minimum {self.min_score:g}."
        when = f"{self.stale_at:%-d %b %Y}" if self.stale_at else "?"
        if self.state == FindingState.STALE:
            return (
                f"Newest {kind.lower()} evaluation ran {evaluation.run_at:%-d %b %Y}; the gate accepts at most "
                f"{self.max_age_days} days, so it went stale on {when}."
            )
        return (
            f"Newest {kind.lower()} evaluation ran {evaluation.run_at:%-d %b %Y}; it goes stale on {when} "
            f"(the gate accepts at most {self.max_age_days} days)."
        )


class SweepRun(models.Model):
    """One run of the evidence freshness sweep: when, what it checked, what it changed."""

    trigger = models.CharField(max_length=20, choices=SweepTrigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=SweepStatus.choices)
    deployments_checked = models.PositiveIntegerField(default=0)
    versions_checked = models.PositiveIntegerField(default=0)
    findings_opened = models.PositiveIntegerField(default=0)
    findings_updated = models.PositiveIntegerField(default=0)
    findings_closed = models.PositiveIntegerField(default=0)
    open_findings = models.PositiveIntegerField(default=0, help_text="Open findings after the run.")
    notifications = models.PositiveIntegerField(default=0)
    escalations = models.PositiveIntegerField(default=0, help_text="Governance incidents queued.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Sweep {self.started_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


class SweepLock(models.Model):
    """One row. The sweep and the recheck after new evidence lock it, so findings have one writer at a time."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="sweeplock_single_row")]

    def __str__(self) -> str:
        return "Sweep lock"
