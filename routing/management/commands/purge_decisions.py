"""Purge the decision ledger of records older than its retention, now (beat does it daily)."""

from django.core.management.base import BaseCommand, CommandError

from core.audit_context import audit_context
from core.retention import RetentionTooShort
from routing.retention import ledger_purge


class Command(BaseCommand):
    help = (
        "Delete the decision ledger's records older than GATEHOUSE_DECISION_RETENTION_DAYS (at least 183 days), "
        "recording each chunk deleted in the audit trail. --dry-run counts them and deletes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would go; delete nothing")

    def handle(self, *args, dry_run=False, **options):
        try:
            with audit_context(source="cli"):
                result = ledger_purge(dry_run=dry_run)
        except RetentionTooShort as error:
            raise CommandError(str(error)) from None
        span = (
            f" (decided {result.oldest:%Y-%m-%d} to {result.newest:%Y-%m-%d})"
            if result.deleted and result.oldest
            else ""
        )
        verb = "would be deleted" if dry_run else "deleted"
        self.stdout.write(
            f"Decision ledger: {result.deleted} records older than {result.cutoff:%Y-%m-%d %H:%M} UTC "
            f"({result.retention_days} days) {verb}{span}."
        )
