"""The readiness app's periodic tasks (``registry.beat`` collects them; the admin edits them afterwards)."""

from registry.beat import Schedule

SCHEDULES = [
    Schedule(
        "Daily readiness snapshot",
        "readiness.tasks.readiness_snapshot",
        minute="30",
        hour="0",
        description="Daily: record every feature's readiness checklist for the readiness charts (rerunning "
        "replaces the day's snapshot).",
    ),
    Schedule(
        "Warm the readiness inventory",
        "readiness.tasks.readiness_warm",
        minute="*/10",
        hour="*",
        description="Every ten minutes: compute what each feature is missing where the cached answer lapsed or "
        "changed, so the Readiness page stays fast.",
    ),
]
