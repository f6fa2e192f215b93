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
]
