from django.db import models


class FindingState(models.TextChoices):
    # Ordered as the dashboard lists them: what is about to go wrong first, then what has.
    DUE_SOON = "due_soon", "Due soon"
    STALE = "stale", "Stale"
    FAILING = "failing", "Failing"
    MISSING = "missing", "Missing"


# On a production deployment these block new promotions of the feature and, past the gate's grace
# period, open a governance incident.
BLOCKING_STATES = (FindingState.STALE, FindingState.FAILING, FindingState.MISSING)


class FindingKind(models.TextChoices):
    """What a finding holds the evidence against: a gate's evidence rules, or the feature's monitoring plan."""

    EVIDENCE = "evidence", "Gate evidence"
    MONITORING_PLAN = "monitoring_plan", "Monitoring plan"


class CloseReason(models.TextChoices):
    FRESH = "fresh", "Fresh, passing evidence recorded"
    NOT_LIVE = "not_live", "Version no longer live"
    RULE_REMOVED = "rule_removed", "The gate no longer requires it"
    RULE_RELAXED = "rule_relaxed", "The gate's rule now accepts the evidence"
    # Monitoring plan findings
    RERUN = "rerun", "The evaluation was run again"
    REVIEWED = "reviewed", "The monitoring review was recorded"
    PLAN_CHANGED = "plan_changed", "The monitoring plan no longer asks for it"


class SweepTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Run by a person"
    COMMAND = "command", "Command line"


class SweepStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
