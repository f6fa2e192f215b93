"""The identity app's periodic tasks (``registry.beat`` collects them; the admin edits them afterwards)."""

from registry.beat import Schedule

SCHEDULES = [
    Schedule(
        "Daily access review reminders",
        "identity.tasks.access_review_reminders",
        minute="45",
        hour="7",
        description="Daily: remind reviewers of access review items still pending in the last days before the due "
        "date (once a day), and escalate those past due to governance.",
    ),
]
