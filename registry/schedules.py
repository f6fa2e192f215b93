"""The registry's periodic tasks (``registry.beat`` collects them; the admin edits them afterwards)."""

from registry.beat import Schedule

SCHEDULES = [
    Schedule(
        "Expire reviewer grants",
        "registry.tasks.expire_reviewer_grants",
        minute="*/15",
        hour="*",
        description="Every quarter hour: record the end of reviewer grants past their expiry (access ends at the "
        "expiry anyway).",
    ),
    Schedule(
        "Audit chain checkpoint",
        "registry.tasks.audit_checkpoint",
        minute="*/15",
        hour="*",
        description="Every 15 minutes: sign the audit chain's head and publish it outside the database (the "
        "anchor file, the audit.checkpoint webhook), so removing the newest events shows.",
    ),
    Schedule(
        "Purge the audit trail",
        "registry.tasks.purge_audit_trail",
        minute="40",
        hour="3",
        description="Daily: delete the audit events older than GATEHOUSE_AUDIT_RETENTION_DAYS (at least 183 days) "
        "up to a signed checkpoint, which stays as the anchor verification starts from; the purge is audited.",
    ),
]
