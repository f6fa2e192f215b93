"""Take today's readiness snapshot now (the daily beat task does the same)."""

from django.core.management.base import BaseCommand

from core.audit_context import audit_context
from readiness.services import readiness_snapshot_take


class Command(BaseCommand):
    help = "Record every feature's readiness checklist for today (replaces today's snapshot if taken already)."

    def handle(self, *args, **options):
        with audit_context(source="cli"):
            outcome = readiness_snapshot_take()
        self.stdout.write(
            self.style.SUCCESS(
                f"Readiness snapshot for {outcome.day.isoformat()}: {outcome.features} feature"
                f"{'s' if outcome.features != 1 else ''}, {outcome.ready} ready "
                f"({outcome.created} new, {outcome.replaced} replaced)."
            )
        )
