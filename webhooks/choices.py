from datetime import timedelta

from django.db import models


class WebhookEvent(models.TextChoices):
    VERSION_SUBMITTED = "version.submitted", "Version submitted"
    APPROVAL_DECIDED = "approval.decided", "Approval decided"
    DEPLOYMENT_PROMOTED = "deployment.promoted", "Deployment promoted"
    DEPLOYMENT_ROLLED_BACK = "deployment.rolled_back", "Deployment rolled back"
    DEPLOYMENT_WITHDRAWN = "deployment.withdrawn", "Deployment withdrawn"
    INCIDENT_OPENED = "incident.opened", "Incident opened"
    INCIDENT_RESOLVED = "incident.resolved", "Incident resolved"
    FINDING_OPENED = "finding.opened", "Freshness finding opened"
    AUDIT_CHECKPOINT = "audit.checkpoint", "Audit chain checkpoint"
    PING = "ping", "Test ping"


# What a subscription may ask for: every event but the ping, which is sent on demand to one subscription.
SUBSCRIBABLE_EVENTS = [event for event in WebhookEvent if event != WebhookEvent.PING]
SUBSCRIBABLE_EVENT_CHOICES = [(event.value, event.label) for event in SUBSCRIBABLE_EVENTS]

EVENT_DESCRIPTIONS = {
    WebhookEvent.VERSION_SUBMITTED: "A draft version was submitted for review: its configuration is now locked and "
    "hashed.",
    WebhookEvent.APPROVAL_DECIDED: "A gate request was approved (every requirement holds) or rejected by a reviewer; "
    "audit.action says which.",
    WebhookEvent.DEPLOYMENT_PROMOTED: "A version went live in an environment and region (one event per region).",
    WebhookEvent.DEPLOYMENT_ROLLED_BACK: "A live pointer returned to an earlier version, from the feature page, the "
    "API or an incident (data.incident names it).",
    WebhookEvent.DEPLOYMENT_WITHDRAWN: "A live pointer was taken down with a reason: nothing serves the feature in "
    "that environment and region, and resolve answers 409 withdrawn there.",
    WebhookEvent.INCIDENT_OPENED: "An incident was logged against a feature, by a person or an alert.",
    WebhookEvent.INCIDENT_RESOLVED: "An incident moved to resolved.",
    WebhookEvent.FINDING_OPENED: "The evidence freshness sweep found a live version's evidence missing, failing, due "
    "soon or stale, or the feature's monitoring plan not kept (data.kind is then monitoring_plan).",
    WebhookEvent.AUDIT_CHECKPOINT: "A signed checkpoint of the audit chain (sequence, head hash, time, key id, "
    "signature), every 15 minutes: keep them, and the chain can be proved against them. Global subscriptions only.",
    WebhookEvent.PING: "A test delivery sent from the subscription's page or the API.",
}


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERING = "delivering", "Delivering"
    RETRYING = "retrying", "Retrying"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


# Not finished: each has a next_attempt_at (for DELIVERING, when its claim lapses).
OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.DELIVERING, DeliveryStatus.RETRYING)
FINISHED_STATUSES = (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED)

# The wait before attempts 2 to 6 (a little jitter is added); after the sixth failure a delivery has failed.
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=6),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def _short(delay: timedelta) -> str:
    seconds = int(delay.total_seconds())
    return f"{seconds // 3600} h" if seconds >= 3600 else f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"


RETRY_SCHEDULE = ", ".join(map(_short, RETRY_DELAYS))  # "30 s, 2 min, 10 min, 1 h, 6 h"
TIMEOUT_SECONDS = 5
# A claimed delivery is the claimer's for this long; a worker that dies mid-request leaves it to the sweeper after.
CLAIM_LEASE = timedelta(seconds=60)
