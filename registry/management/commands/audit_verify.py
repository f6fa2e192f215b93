import time

from django.core.management.base import BaseCommand, CommandError

from registry.services import audit_verify


class Command(BaseCommand):
    help = (
        "Verify the audit trail's keyed hash chain, against the signed checkpoints of GATEHOUSE_AUDIT_ANCHOR_FILE "
        "if set. Exits 0 when it holds; otherwise lists every bad event (up to --limit) with the total, and exits 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=50, help="how many problems to list (default 50)")
        parser.add_argument("--anchor-file", help="hold the chain against this file of checkpoints instead")

    def handle(self, *args, limit, anchor_file=None, **options):
        started = time.monotonic()
        if anchor_file:
            try:
                with open(anchor_file, encoding="utf-8") as handle:
                    anchors = handle.readlines()
            except OSError as error:
                raise CommandError(f"Cannot read {anchor_file}: {error.strerror or error}") from None
            result = audit_verify(anchors=anchors)
        else:
            result = audit_verify()
        elapsed = time.monotonic() - started
        for note in result.notes:
            self.stdout.write(self.style.WARNING(f"Note: {note}"))
        if not result.ok:
            shown = result.problems[: max(limit, 0)]
            for problem in shown:
                self.stdout.write(f"  - {problem.message}")
            more = result.problem_count - len(shown)
            if more > 0:
                self.stdout.write(f"  … and {more} more.")
            raise CommandError(
                f"Audit chain BROKEN at event #{result.broken_sequence}: {result.problem_count} "
                f"problem{'s' if result.problem_count != 1 else ''} found in {result.checked} events "
                f"(listed above). The first: {result.problems[0].message}."
                if result.problems and result.problems[0].sequence is not None
                else f"Audit chain BROKEN: {result.problem_count} problem{'s' if result.problem_count != 1 else ''} found "
                f"in {result.checked} events (listed above). The first: {result.problems[0].message}."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {result.message} in {elapsed:.2f} s."))
