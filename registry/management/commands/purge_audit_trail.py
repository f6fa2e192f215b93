"""Purge the audit trail under its retention, now (beat does it daily)."""

from django.core.management.base import BaseCommand, CommandError

from core.audit_context import audit_context
from core.retention import RetentionTooShort
from registry.services.audit_retention import audit_purge


class Command(BaseCommand):
    help = (
        "Delete the audit events older than GATEHOUSE_AUDIT_RETENTION_DAYS (at least 183 days), up to the newest "
        "signed checkpoint older than that, which stays as the anchor audit_verify starts from. The purge is "
        "recorded in the trail. --dry-run says what would go and deletes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="say what would go; delete nothing")

    def handle(self, *args, dry_run=False, **options):
        try:
            with audit_context(source="cli"):
                result = audit_purge(dry_run=dry_run)
        except RetentionTooShort as error:
            raise CommandError(str(error)) from None
        kept = f"older than {result.cutoff:%Y-%m-%d %H:%M} UTC ({result.retention_days} days)"
        if result.reason:
            self.stdout.write(f"Audit trail: nothing purged. {result.reason}")
            return
        span = f"events #{result.first_sequence} to #{result.through_sequence}"
        if dry_run:
            self.stdout.write(f"Audit trail: {result.deleted} {span} ({kept}) would be purged.")
            return
        self.stdout.write(
            f"Audit trail: {result.deleted} {span} ({kept}) purged; the chain now verifies from the anchor at "
            f"#{result.through_sequence}. Recorded as audit event #{result.event_sequence}."
        )
