"""The readiness checklist's items, in the order pages, the API and the sentence use."""

from django.db import models


class ReadinessCheck(models.TextChoices):
    ACCOUNTABLE_OWNER = "accountable_owner", "Accountable owner"
    INCIDENT_OWNER = "incident_owner", "Incident owner"
    MONITOR = "monitor", "Monitor"
    ROLLBACK_PATH = "rollback_path", "Rollback path"
    SLOS = "slos", "SLOs"
    EVIDENCE = "evidence", "Fresh passing evidence"
    FALLBACK = "fallback", "Eligible fallback"
    APPROVED_PRODUCTION = "approved_production", "Approved production version"


class ReadinessState(models.TextChoices):
    READY = "ready", "Ready"
    NOT_READY = "not_ready", "Not ready"


# Items judged from what is live in production: a feature that is not live there lacks them all, and its
# sentence says so once ("is not live in production") instead of once per item.
LIVE_ITEMS = frozenset({ReadinessCheck.EVIDENCE, ReadinessCheck.FALLBACK, ReadinessCheck.APPROVED_PRODUCTION})

HISTORY_DAYS = 90
