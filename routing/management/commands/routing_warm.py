"""Compute every live route's resolve decision ahead of traffic and share it with the web processes."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from routing.cache import renew_epoch
from routing.services import decisions_warm


class Command(BaseCommand):
    help = (
        "Compute the resolve decision of every deployment and put it in the shared cache under the current "
        "epoch, so routers find them ready (after a deploy, or a change that invalidated them all). Reads only, "
        "unless --invalidate is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=500, help="features per batch of queries (default 500)")
        parser.add_argument(
            "--invalidate",
            action="store_true",
            help="start a new epoch first, so every process forgets the decisions it keeps: after routing data "
            "was changed behind the app's back (in SQL), since decisions are kept until something changes",
        )

    def handle(self, *args, chunk, invalidate, **options):
        if chunk < 1:
            raise CommandError("--chunk must be at least 1.")
        if "locmem" in settings.CACHES["default"]["BACKEND"]:
            raise CommandError(
                "CACHE_URL is unset: this process's memory is no server's cache. Set it to the "
                "web processes' Redis (or the demo's file:// cache)."
            )
        started = time.monotonic()
        if invalidate:
            if not renew_epoch():
                raise CommandError("The shared cache (CACHE_URL) cannot be reached: nothing was invalidated.")
            self.stdout.write("Started a new epoch: every process computes its decisions again.")
        done = decisions_warm(chunk=chunk)
        if not done and not self._cache_reachable():
            raise CommandError("The shared cache (CACHE_URL) cannot be reached: nothing was warmed.")
        self.stdout.write(f"Warmed {done} resolve decisions in {time.monotonic() - started:.1f} s.")

    @staticmethod
    def _cache_reachable() -> bool:
        from routing.cache import current_epoch

        return current_epoch() is not None
