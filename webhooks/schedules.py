"""The webhooks app's periodic tasks (``registry.beat`` collects them; the admin edits them afterwards)."""

from registry.beat import Schedule

SCHEDULES = [
    Schedule(
        "Deliver due webhooks",
        "webhooks.tasks.deliver_due",
        minute="*",
        hour="*",
        description="Every minute: send webhook deliveries whose time has come (retries, and any whose "
        "queueing failed after their change committed).",
    ),
]
