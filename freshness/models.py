"""Evidence freshness: what the scheduled sweep found wrong with the evidence of live versions."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from approvals.choices import Gate
from freshness.choices import BLOCKING_STATES, CloseReason, FindingKind, FindingState, SweepStatus, SweepTrigger
from registry.choices import Environment, EvaluationKind, Role


def blocks(*, environment: str, state: str, stale_at, now, kind: str = FindingKind.EVIDENCE) -> bool:
    """Whether an open finding blocks promotions: stale, failing or missing production evidence, and
    due-soon evidence whose stale date has passed since the last sweep (the gate calls it stale now).
    Monitoring plan findings never block: they escalate instead (a promotion may be the fix)."""
    if environment != Environment.PRODUCTION or kind != FindingKind.EVIDENCE:
        return False
    return state in BLOCKING_STATES or (state == FindingState.DUE_SOON and stale_at is not None and stale_at <= now)


def blocking_condition(now) -> models.Q:
    """``blocks`` as a query: open findings that block promotions."""
    return models.Q(closed_at__isnull=True, environment=Environment.PRODUCTION, kind=FindingKind.EVIDENCE) & (
        models.Q(state__in=BLOCKING_STATES) | models.Q(state=FindingState.DUE_SOON, stale_at__lte=now)
    )


class FreshnessFinding(models.Model):
    """A live version whose evidence of one kind is missing, failing, due soon or stale under its gate; or,
    under the feature's monitoring plan (``kind`` "monitoring_plan"), a live production version whose
    evaluation of a kind is older than the plan's interval, or the plan's review overdue (no version and
    no evidence kind: the review is the feature's).

    At most one open finding per (kind, version, environment, evidence kind), and one open review finding per
    feature. ``revision`` counts state changes: owners are told once per (finding, revision), whoever runs
    the sweep and however often.
    """

    feature = models.ForeignKey("registry.AIFeature", on_delete=models.PROTECT, related_name="freshness_findings")
    kind = models.CharField(max_length=20, choices=FindingKind.choices, default=FindingKind.EVIDENCE)
    version = models.ForeignKey(
        "registry.FeatureVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="freshness_findings",
        help_text="Empty only for a monitoring plan's overdue review.",
    )
    environment = models.CharField(max_length=20, choices=Environment.choices)
    gate = models.CharField(max_length=20, choices=Gate.choices)
    evidence_kind = models.CharField(
        max_length=30, choices=EvaluationKind.choices, blank=True, help_text="Empty for a monitoring plan's review."
    )
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
        help_text="Production only: since when it has blocked promotions, or (monitoring plan) been overdue: "
        "the escalation's grace counts from here.",
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
                fields=["kind", "version", "environment", "evidence_kind"],
                condition=models.Q(closed_at__isnull=True),
                name="freshnessfinding_one_open_per_kind_version_environment_evidence",
                violation_error_message="This version already has an open finding for that evidence.",
            ),
            models.UniqueConstraint(
                fields=["feature"],
                condition=models.Q(closed_at__isnull=True, kind=FindingKind.MONITORING_PLAN, evidence_kind=""),
                name="freshnessfinding_one_open_review_per_feature",
                violation_error_message="This feature already has an open finding for its monitoring review.",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=FindingKind.EVIDENCE)
                | (models.Q(version__isnull=False) & ~models.Q(evidence_kind="")),
                name="freshnessfinding_evidence_names_version_and_kind",
                violation_error_message="A gate evidence finding names its version and evidence kind.",
            ),
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True, close_reason="")
                | (models.Q(closed_at__isnull=False) & ~models.Q(close_reason="")),
                name="freshnessfinding_closed_with_reason",
                violation_error_message="A closed finding says why it closed.",
            ),
        ]

    def __str__(self) -> str:
        if self.is_review:
            return f"Monitoring review {self.get_state_display().lower()} on {self.feature}"
        plan = " (monitoring plan)" if self.is_monitoring else ""
        return f"{self.get_evidence_kind_display()} {self.get_state_display().lower()} on {self.version} ({self.environment}){plan}"

    def get_absolute_url(self) -> str:
        return reverse("freshness:finding_detail", args=[self.pk])

    @property
    def is_monitoring(self) -> bool:
        return self.kind == FindingKind.MONITORING_PLAN

    @property
    def is_review(self) -> bool:
        """The monitoring plan's review is overdue (or due soon): the feature's, not a version's."""
        return self.is_monitoring and not self.evidence_kind

    @property
    def subject(self) -> str:
        """What the finding is about, in a few words: "Safety evidence", "Safety re-run (monitoring plan)"."""
        if self.is_review:
            return "Monitoring review"
        if self.is_monitoring:
            return f"{self.get_evidence_kind_display()} re-run (monitoring plan)"
        return f"{self.get_evidence_kind_display()} evidence"

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
            environment=self.environment, state=self.state, stale_at=self.stale_at, now=timezone.now(), kind=self.kind
        )

    def describe(self) -> str:
        """One sentence on what is wrong, from the stored rule and evaluation."""
        kind = self.get_evidence_kind_display()
        evaluation = self.evaluation
        if self.closed_at is not None:
            was = self.get_state_display().lower()
            return f"Was {was}; closed {self.closed_at:%-d %b %Y}: {self.get_close_reason_display().lower()}."
        if self.is_monitoring:
            return self._describe_monitoring()
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

    def _describe_monitoring(self) -> str:
        when = f"{self.stale_at:%-d %b %Y}" if self.stale_at else "?"
        every = f"every {self.max_age_days} day{'s' if self.max_age_days != 1 else ''}"
        if self.is_review:
            if self.state == FindingState.DUE_SOON:
                return f"The monitoring plan asks for a review {every}; the next is due on {when}."
            return f"The monitoring plan asks for a review {every}; it was due on {when} and is not recorded yet."
        kind = self.get_evidence_kind_display().lower()
        if self.state == FindingState.MISSING or self.evaluation is None:
            return f"The monitoring plan asks for a {kind} evaluation {every}; none is recorded for v{self.version.number}."
        ran = f"{self.evaluation.run_at:%-d %b %Y}"
        if self.state == FindingState.DUE_SOON:
            return f"The monitoring plan asks for a {kind} evaluation {every}; the newest ran {ran}, the next is due on {when}."
        return (
            f"The monitoring plan asks for a {kind} evaluation {every}; the newest ran {ran}, so one was due on {when}."
        )


class MonitoringPlan(models.Model):
    """A feature's post-market monitoring plan: the monitors that watch it, the evaluations to run again and
    how often, who reviews what they show and how often. The freshness sweep holds the feature's live
    production versions to it (``freshness.monitoring``); the feature's team and governance admins edit it
    (``freshness.plans``)."""

    feature = models.OneToOneField("registry.AIFeature", on_delete=models.PROTECT, related_name="monitoring_plan")
    monitors = models.JSONField(
        default=list, blank=True, help_text="The feature's monitor links the plan relies on (a subset of them)."
    )
    notes = models.TextField(
        blank=True, help_text="What is watched, the signals that call for action and what is done then."
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewer_role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    review_interval_days = models.PositiveIntegerField()
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(reviewer__isnull=False, reviewer_role="")
                | (models.Q(reviewer__isnull=True) & ~models.Q(reviewer_role="")),
                name="monitoringplan_one_reviewer",
                violation_error_message="Name a reviewer: a person or a role, not both.",
            ),
            models.CheckConstraint(
                condition=models.Q(review_interval_days__gte=1), name="monitoringplan_review_interval_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Monitoring plan of {self.feature}"

    def get_absolute_url(self) -> str:
        return reverse("freshness:plan_detail", args=[self.feature.slug])

    @property
    def review_due_at(self):
        """When the next review is due: an interval after the last one (or after the plan was made)."""
        return (self.last_reviewed_at or self.created_at) + timedelta(days=self.review_interval_days)

    @property
    def safe_monitors(self) -> list[tuple[str, bool]]:
        """(text, is a http(s) link): only those become clickable."""
        return [(link, str(link).lower().startswith(("http://", "https://"))) for link in self.monitors]

    @property
    def reviewer_label(self) -> str:
        if self.reviewer_id:
            return self.reviewer.get_full_name() or self.reviewer.get_username()
        return f"any {Role(self.reviewer_role).label.lower()}" if self.reviewer_role else "nobody"


class MonitoringEvaluation(models.Model):
    """One evaluation kind a monitoring plan asks to be run again on the live production versions, and how often."""

    plan = models.ForeignKey(MonitoringPlan, on_delete=models.CASCADE, related_name="evaluations")
    kind = models.CharField(max_length=30, choices=EvaluationKind.choices)
    interval_days = models.PositiveIntegerField()

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "kind"], name="monitoringevaluation_one_per_kind"),
            models.CheckConstraint(
                condition=models.Q(interval_days__gte=1), name="monitoringevaluation_interval_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} every {self.interval_days} days"


class MonitoringReview(models.Model):
    """A review of what the monitoring shows, recorded by the plan's reviewer."""

    plan = models.ForeignKey(MonitoringPlan, on_delete=models.CASCADE, related_name="reviews")
    reviewed_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(help_text="What the monitoring showed and what, if anything, follows.")

    class Meta:
        ordering = ["-reviewed_at", "-id"]

    def __str__(self) -> str:
        return f"Review of {self.plan.feature} on {self.reviewed_at:%Y-%m-%d}"


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
