"""The approvals app's periodic tasks (``registry.beat`` collects them; the admin edits them afterwards)."""

from registry.beat import Schedule

SCHEDULES = [
    Schedule("Daily sign-off reminders", "approvals.tasks.signoff_reminders", minute="0", hour="8"),
    Schedule("Expire unused approvals", "approvals.tasks.expire_approvals", minute="15", hour="*"),
]
