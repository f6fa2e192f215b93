"""The demo's drill, for ``seed_demo``: governance asks what happens if Anthropic became unavailable, so
the Drills page has a saved report (routes that move to another vendor's fallback, routes left without
one). Idempotent: run once."""

from collections import Counter

from django.contrib.auth import get_user_model

from drills.choices import DrillKind
from drills.models import DrillRun
from drills.services import drill_run
from registry.models import Vendor

VENDOR = "anthropic"


def seed_drills(*, created: Counter) -> None:
    vendor = Vendor.objects.filter(slug=VENDOR).first()
    if vendor is None or DrillRun.objects.filter(kind=DrillKind.VENDOR_UNAVAILABLE).exists():
        return
    drill_run(
        actor=get_user_model().objects.get(username="governance"), kind=DrillKind.VENDOR_UNAVAILABLE, vendor=vendor,
        note="Quarterly resilience drill: which features keep serving if our main vendor goes down?",
    )
    created["drills"] += 1
