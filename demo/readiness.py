"""The demo's readiness history: a snapshot each morning of the past eight weeks (from before the first
release), taken as the scheduled task takes it (``readiness_snapshot_take``) at that moment of the seeded
history, and today's, last, so the charts show readiness as it was: features going live, evidence going
stale, rollbacks."""

from __future__ import annotations

from readiness.models import ReadinessSnapshot
from readiness.services import readiness_snapshot_take

HISTORY_DAYS = 56
TAKEN_AT = "06:00"  # local time, before the working day


def plan_readiness(agenda, clock, *, created) -> None:
    if ReadinessSnapshot.objects.exists():
        return  # history is there already: leave it as it is
    for back in range(HISTORY_DAYS - 1, 0, -1):
        agenda.add(clock.day(back, TAKEN_AT), lambda: take(created))
    agenda.add(clock.real_now, lambda: take(created))  # today's, after everything else


def take(created) -> None:
    created["readiness snapshots"] += readiness_snapshot_take().features
