"""Create the beat schedules Gatehouse ships with, where they are missing.

The schedules are those each app declares in its ``schedules.py`` (``registry.beat``). The migrations
create them on the first ``migrate``; this command puts back any that were deleted (or lost to a
database flush). It never changes a schedule that exists: an admin's edits in *Periodic tasks*
(crontab, interval, enabled, arguments) are kept. A schedule counts as existing when a periodic task
has its name, or runs its task under another name (so a renamed one is not doubled).
"""

from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import PeriodicTask

from registry.beat import schedules_ensure, shipped_schedules


class Command(BaseCommand):
    help = (
        "Create the shipped beat schedules (those each app declares in its schedules.py) where missing. "
        "Safe to run again; never changes an existing schedule."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            created, kept = schedules_ensure(shipped_schedules())
        for name in created:
            self.stdout.write(self.style.SUCCESS(f"  created  {name}"))
        for name in kept:
            task = PeriodicTask.objects.select_related("crontab", "interval").get(name=name)
            when = task.crontab or task.interval or task.clocked or task.solar or "no schedule"
            state = "" if task.enabled else " (disabled)"
            self.stdout.write(f"  kept     {name}: {when}{state}")
        self.stdout.write(f"Beat schedules: {len(created)} created, {len(kept)} already present.")
