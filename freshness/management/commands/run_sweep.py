"""Run the evidence freshness sweep now, in this process, and print what it found."""

from django.core.management.base import BaseCommand, CommandError

from core.audit_context import audit_context
from freshness.choices import SweepTrigger
from freshness.services import freshness_sweep


class Command(BaseCommand):
    help = (
        "Run the evidence freshness sweep now (the same run beat schedules hourly) and print its figures. "
        "Owners' emails go through Celery like any other notice."
    )

    def handle(self, *args, **options):
        try:
            with audit_context(source="cli"):
                run = freshness_sweep(trigger=SweepTrigger.COMMAND)
        except Exception as error:
            raise CommandError(f"Freshness sweep failed: {type(error).__name__}: {error}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Freshness sweep #{run.pk} done in {run.duration_seconds:.2f} s: "
                f"{run.deployments_checked} deployments ({run.versions_checked} live versions) checked; "
                f"findings opened {run.findings_opened}, updated {run.findings_updated}, closed {run.findings_closed}; "
                f"{run.open_findings} open; {run.notifications} notices; {run.escalations} escalations queued."
            )
        )
