from django.db import models


class Severity(models.TextChoices):
    SEV1 = "sev1", "SEV1"
    SEV2 = "sev2", "SEV2"
    SEV3 = "sev3", "SEV3"
    SEV4 = "sev4", "SEV4"


FREEZING_SEVERITIES = {Severity.SEV1, Severity.SEV2}
SEVERITIES_NEEDING_ROOT_CAUSE = {Severity.SEV1, Severity.SEV2}


class IncidentStatus(models.TextChoices):
    OPEN = "open", "Open"
    INVESTIGATING = "investigating", "Investigating"
    MITIGATED = "mitigated", "Mitigated"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


INCIDENT_TRANSITIONS: dict[str, set[str]] = {
    IncidentStatus.OPEN: {IncidentStatus.INVESTIGATING, IncidentStatus.MITIGATED, IncidentStatus.RESOLVED},
    IncidentStatus.INVESTIGATING: {IncidentStatus.MITIGATED, IncidentStatus.RESOLVED},
    IncidentStatus.MITIGATED: {IncidentStatus.INVESTIGATING, IncidentStatus.RESOLVED},
    IncidentStatus.RESOLVED: {IncidentStatus.CLOSED, IncidentStatus.INVESTIGATING},
    IncidentStatus.CLOSED: set(),
}

# While an incident is in one of these, a SEV1/SEV2 freezes promotions of its feature.
FREEZING_STATUSES = {IncidentStatus.OPEN, IncidentStatus.INVESTIGATING}
ACTIVE_STATUSES = {IncidentStatus.OPEN, IncidentStatus.INVESTIGATING, IncidentStatus.MITIGATED}


class IncidentSource(models.TextChoices):
    MANUAL = "manual", "Logged by a person"
    ALERT = "alert", "Alertmanager"
    FRESHNESS = "freshness", "Evidence freshness sweep"


class EventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    COMMENT = "comment", "Comment"
    STATUS = "status", "Status change"
    OWNER = "owner", "Owner change"
    ROLLBACK = "rollback", "Rollback"
    LINK = "link", "Link"
    ALERT = "alert", "Alert"
    SERIOUS = "serious", "Marked serious"
    REMINDER = "reminder", "Report reminder"
    REPORT = "report", "Report"
    SNAPSHOT = "snapshot", "Evidence snapshot"


class SeriousCriterion(models.TextChoices):
    """What makes an incident serious under the EU AI Act (Art. 3(49)), in Gatehouse's words."""

    HEALTH = "health", "A person died, or a person's health was seriously harmed"
    INFRASTRUCTURE = "infrastructure", "Critical infrastructure was seriously and irreversibly disrupted"
    RIGHTS = "rights", "Obligations of Union law that protect fundamental rights were infringed"
    PROPERTY = "property", "Property or the environment was seriously harmed"


# Days from awareness to the report's deadline (Art. 73): the shortest that applies.
REPORT_DAYS_DEFAULT = 15
REPORT_DAYS_DEATH = 10
REPORT_DAYS_WIDESPREAD = 2  # a widespread infringement, or critical infrastructure disrupted


class ReportKind(models.TextChoices):
    """The reports to the market surveillance authority (Art. 73): an initial one may come first, incomplete,
    then the complete one; anything learnt afterwards goes in follow-ups."""

    INITIAL = "initial", "Initial report"
    COMPLETE = "complete", "Complete report"
    FOLLOW_UP = "follow_up", "Follow-up"


# The draft each kind of submission sends: a follow-up adds to the complete report.
DRAFT_KINDS = {ReportKind.INITIAL: "initial", ReportKind.COMPLETE: "complete", ReportKind.FOLLOW_UP: "complete"}


class SnapshotTrigger(models.TextChoices):
    ROLLBACK = "rollback", "Before a rollback"
    MANUAL = "manual", "Taken by hand"


class ReminderStage(models.TextChoices):
    """The points of the report's clock where the incident's owners are reminded (once each), from the
    first to the last; from the last day on, governance is told too."""

    HALF = "half", "Half the time to report is gone"
    LAST_DAY = "last_day", "Less than a day left"
    OVERDUE = "overdue", "Overdue"


ESCALATED_STAGES = {ReminderStage.LAST_DAY, ReminderStage.OVERDUE}
