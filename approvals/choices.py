from django.db import models


class Gate(models.TextChoices):
    SANDBOX = "sandbox", "Sandbox gate"
    PRODUCTION = "production", "Production gate"
    REGULATED = "regulated", "Regulated gate"


class RequirementKind(models.TextChoices):
    SIGNOFF = "signoff", "Sign-off"
    EVIDENCE = "evidence", "Evidence"
    READINESS = "readiness", "Readiness"


class ReadinessItem(models.TextChoices):
    ROLLBACK_PATH = "rollback_path", "Rollback path"
    MONITOR = "monitor", "Monitor"
    INCIDENT_OWNER = "incident_owner", "Incident owner"
    SLOS = "slos", "SLOs"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"


REQUEST_TRANSITIONS: dict[str, set[str]] = {
    RequestStatus.PENDING: {RequestStatus.APPROVED, RequestStatus.REJECTED, RequestStatus.WITHDRAWN},
    RequestStatus.APPROVED: {RequestStatus.EXPIRED, RequestStatus.WITHDRAWN},
    RequestStatus.REJECTED: set(),
    RequestStatus.WITHDRAWN: set(),
    RequestStatus.EXPIRED: set(),
}


class SignOffStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
