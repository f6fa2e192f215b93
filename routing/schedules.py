"""The routing app's periodic tasks (``registry.beat`` collects them; the admin edits them afterwards)."""

from registry.beat import Schedule

SCHEDULES = [
    Schedule(
        "Publish missed cache invalidations",
        "routing.tasks.publish_pending_invalidations",
        minute="*",
        hour="*",
        description="Every minute: publish resolve-cache invalidations recorded while the shared cache was "
        "unreachable, so nothing revoked or rolled back is answered from memory once it is back.",
    ),
    Schedule(
        "Purge the decision ledger",
        "routing.tasks.purge_decision_ledger",
        minute="20",
        hour="3",
        description="Daily: delete decision ledger records older than GATEHOUSE_DECISION_RETENTION_DAYS (at "
        "least 183 days), recording in the audit trail how many went and the oldest and newest.",
    ),
]
