from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry.services.audit_checkpoint import audit_checkpoint_take


class Command(BaseCommand):
    help = (
        "Sign the audit chain's head now and publish the checkpoint: appended to GATEHOUSE_AUDIT_ANCHOR_FILE, "
        "sent to webhook subscriptions of audit.checkpoint. Beat does this every 15 minutes."
    )

    def handle(self, *args, **options):
        checkpoint, anchored = audit_checkpoint_take()
        where = settings.GATEHOUSE_AUDIT_ANCHOR_FILE
        if where and not anchored:
            raise CommandError(f"Checkpoint at #{checkpoint.sequence} taken but NOT appended to {where} (see the log).")
        self.stdout.write(
            self.style.SUCCESS(
                f"Checkpoint at #{checkpoint.sequence} ({checkpoint.head_hash[:12]}…), key {checkpoint.key_id}"
                + (f", appended to {where}." if where else "; no anchor file is set (GATEHOUSE_AUDIT_ANCHOR_FILE).")
            )
        )
