import time

from django.core.management.base import BaseCommand, CommandError

from registry.services import audit_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain. Exits 0 when it holds; names the first broken event otherwise."

    def handle(self, *args, **options):
        started = time.monotonic()
        result = audit_verify()
        elapsed = time.monotonic() - started
        if not result.ok:
            raise CommandError(
                f"Audit chain BROKEN at event #{result.broken_sequence}: {result.message} "
                f"({result.checked} events verified before it)."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {result.message} in {elapsed:.2f} s."))
