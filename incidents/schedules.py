"""The incidents app's periodic task (``registry.beat`` collects it; the admin edits it afterwards)."""

from registry.beat import Schedule

SCHEDULES = [
    Schedule(
        "Serious incident report reminders",
        "incidents.tasks.serious_report_reminders",
        minute="25",
        hour="*",
        description="Hourly: remind the owners of each serious incident whose complete report is not submitted yet "
        "when half the time to report is gone and on the last day, and tell governance on the last day and once "
        "overdue (each reminder once).",
    ),
]
