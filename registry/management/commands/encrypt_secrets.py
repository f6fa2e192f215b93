from django.core.management.base import BaseCommand
from django.db import transaction

from core.encryption import reencrypt_all


class Command(BaseCommand):
    help = (
        "Write every encrypted secret (webhook secrets...) again under the first key of "
        "GATEHOUSE_ENCRYPTION_KEY: run after putting a new key first, then drop the old one."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            written = reencrypt_all()
        self.stdout.write(self.style.SUCCESS(f"{written} secrets encrypted under the current key."))
