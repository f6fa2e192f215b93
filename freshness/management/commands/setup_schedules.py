"""Create the beat schedules Gatehouse ships with, where they are missing.

The migrations create them on the first ``migrate``; this command puts back any that were deleted
(or lost to a database flush). It never changes a schedule that exists: an admin's edits in
*Periodic tasks* (crontab, interval, enabled, arguments) are kept. A schedule counts as existing when
a periodic task has its name, or runs its task under another name (so a renamed one is not doubled).
"""

from dataclasses import dataclass

from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    minute: str
    hour: str
    description: str = ""


# The same as approvals/migrations/0003_schedules.py, freshness/migrations/0002_schedule.py,
# webhooks/migrations/0002_schedule.py, readiness/migrations/0002 and 0003, and
# registry/migrations/0010_reviewer_grant_schedule.py and 0016_audit_checkpoint_schedule.py,
# routing/migrations/0003_publish_schedule.py, and identity/migrations/0003_access_review_schedule.py.
SCHEDULES = [
    Schedule("Daily sign-off reminders", "approvals.tasks.signoff_reminders", minute="0", hour="8"),
    Schedule("Expire unused approvals", "approvals.tasks.expire_approvals", minute="15", hour="*"),
    Schedule(
        "Evidence freshness sweep",
        "freshness.tasks.evidence_freshness_sweep",
        minute="5",
        hour="*",
        description="Hourly: flag stale, failing or missing evidence of live versions, tell owners once, "
        "block promotions and escalate by policy.",
    ),
    Schedule(
        "Deliver due webhooks",
        "webhooks.tasks.deliver_due",
        minute="*",
        hour="*",
        description="Every minute: send webhook deliveries whose time has come (retries, and any whose "
        "queueing failed after their change committed).",
    ),
    Schedule(  # the same as readiness/migrations/0002_schedule.py
        "Daily readiness snapshot",
        "readiness.tasks.readiness_snapshot",
        minute="30",
        hour="0",
        description="Daily: record every feature's readiness checklist for the readiness charts (rerunning "
        "replaces the day's snapshot).",
    ),
    Schedule(  # the same as registry/migrations/0016_audit_checkpoint_schedule.py
        "Audit chain checkpoint",
        "registry.tasks.audit_checkpoint",
        minute="*/15",
        hour="*",
        description="Every 15 minutes: sign the audit chain's head and publish it outside the database (the "
        "anchor file, the audit.checkpoint webhook), so removing the newest events shows.",
    ),
    Schedule(  # the same as readiness/migrations/0003_warm_schedule.py
        "Warm the readiness inventory",
        "readiness.tasks.readiness_warm",
        minute="*/10",
        hour="*",
        description="Every ten minutes: compute what each feature is missing where the cached answer lapsed or "
        "changed, so the Readiness page stays fast.",
    ),
    Schedule(  # the same as registry/migrations/0010_reviewer_grant_schedule.py
        "Expire reviewer grants",
        "registry.tasks.expire_reviewer_grants",
        minute="*/15",
        hour="*",
        description="Every quarter hour: record the end of reviewer grants past their expiry (access ends at the "
        "expiry anyway).",
    ),
    Schedule(  # the same as routing/migrations/0003_publish_schedule.py
        "Publish missed cache invalidations",
        "routing.tasks.publish_pending_invalidations",
        minute="*",
        hour="*",
        description="Every minute: publish resolve-cache invalidations recorded while the shared cache was "
        "unreachable, so nothing revoked or rolled back is answered from memory once it is back.",
    ),
    # --- identity: access reviews (the same as identity/migrations/0003_access_review_schedule.py) ---
    Schedule(
        "Daily access review reminders",
        "identity.tasks.access_review_reminders",
        minute="45",
        hour="7",
        description="Daily: remind reviewers of access review items still pending in the last days before the "
        "due date (once a day), and escalate those past due to governance.",
    ),
]


def schedules_ensure() -> tuple[list[str], list[str]]:
    """Create the missing schedules. Returns (created, kept) names."""
    created, kept = [], []
    with transaction.atomic():
        for spec in SCHEDULES:
            existing = (
                PeriodicTask.objects.filter(name=spec.name).first()
                or PeriodicTask.objects.filter(task=spec.task).order_by("pk").first()
            )
            if existing is not None:
                kept.append(existing.name)
                continue
            crontab, _ = CrontabSchedule.objects.get_or_create(
                minute=spec.minute,
                hour=spec.hour,
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone="UTC",
            )
            PeriodicTask.objects.create(name=spec.name, task=spec.task, crontab=crontab, description=spec.description)
            created.append(spec.name)
    return created, kept


class Command(BaseCommand):
    help = (
        "Create the shipped beat schedules (sign-off reminders, approval expiry, evidence freshness sweep, "
        "webhook delivery sweep, daily readiness snapshot) "
        "where missing. Safe to run again; never changes an existing schedule."
    )

    def handle(self, *args, **options):
        created, kept = schedules_ensure()
        for name in created:
            self.stdout.write(self.style.SUCCESS(f"  created  {name}"))
        for name in kept:
            task = PeriodicTask.objects.select_related("crontab", "interval").get(name=name)
            when = task.crontab or task.interval or task.clocked or task.solar or "no schedule"
            state = "" if task.enabled else " (disabled)"
            self.stdout.write(f"  kept     {name}: {when}{state}")
        self.stdout.write(f"Beat schedules: {len(created)} created, {len(kept)} already present.")
