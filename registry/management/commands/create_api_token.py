from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from registry.audit_context import audit_context
from registry.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it (the last line). It cannot be shown again."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="What will use the token, e.g. ci-pipeline.")

    def handle(self, *args, username, name, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"{username} is inactive; an inactive user's token would not work.")
        with audit_context(source="cli"):
            # The command line acts as the user it makes the token for: it holds the shell already.
            token, raw = api_token_create(actor=user, user=user, name=name)
        self.stderr.write(f"Token {token.name!r} ({token.prefix}…) for {username}. Store it now; it is not kept.")
        self.stdout.write(raw)
