"""The freshness app's periodic tasks (``registry.beat`` collects them; the admin edits them afterwards)."""

from registry.beat import Schedule

SCHEDULES = [
    Schedule(
        "Evidence freshness sweep",
        "freshness.tasks.evidence_freshness_sweep",
        minute="5",
        hour="*",
        description="Hourly: flag stale, failing or missing evidence of live versions, tell owners once, "
        "block promotions and escalate by policy.",
    ),
]
