import re
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date

from core.audit_context import audit_context
from registry.models import TokenScope
from registry.services import api_token_create


def expiry(value: str):
    """``90d`` (days from now), ``2027-03-31`` (that day, 00:00 UTC) or ``never``."""
    value = value.strip().lower()
    if value == "never":
        return "never"
    if match := re.fullmatch(r"(\d{1,4})d?", value):
        return timezone.now() + timedelta(days=int(match.group(1)))
    if day := parse_date(value):
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    raise CommandError(f"--expires takes days (90d), a date (2027-03-31) or never, not {value!r}.")


class Command(BaseCommand):
    help = "Create an API token for a user and print it (the last line). It cannot be shown again."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="What will use the token, e.g. ci-pipeline.")
        parser.add_argument(
            "--scope",
            action="append",
            choices=TokenScope.values,
            dest="scopes",
            help="What the token may do; repeat for more (default: read).",
        )
        parser.add_argument("--expires", default="90d", help="Days (90d, the default), a date (2027-03-31) or never.")

    def handle(self, *args, username, name, scopes, expires, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"{username} is inactive; an inactive user's token would not work.")
        scopes = scopes or [TokenScope.READ]
        try:
            with audit_context(source="cli"):
                # The command line acts as the user it makes the token for: it holds the shell already,
                # so it may also make a token that never expires (operator=True).
                token, raw = api_token_create(
                    actor=user, user=user, name=name, scopes=scopes, expires_at=expiry(expires), operator=True
                )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        until = f"until {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "with no expiry"
        self.stderr.write(
            f"Token {token.name!r} ({token.prefix}…) for {username}, scopes {', '.join(token.scopes)}, "
            f"{until}. Store it now; it is not kept."
        )
        self.stdout.write(raw)
