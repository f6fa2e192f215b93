"""The demo's clock: each step of ``seed_demo`` runs at its moment in the past, in order.

The services read the time from ``django.utils.timezone.now`` (so do ``auto_now`` fields and the audit
trail), so moving that one function moves every timestamp a step writes: the history is written as it
would have been, event after event, and the audit chain stays valid without rewriting any time after the
fact. Wall-clock readers (``time.time``) are left alone: they stamp cache entries, which must live in
real time; the seeder starts a new routing-cache epoch once it commits, so nothing computed at a past
moment is served.

``Agenda`` collects the steps with their moments and runs them sorted; ``DemoClock.at`` lets the clock
run from a moment while a step runs. Moments never go back (a step never lands before the one before
it) and never pass the real time the seeding started at.
"""

from __future__ import annotations

import time
import zlib
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest import mock

from django.utils import timezone

TICK = timedelta(milliseconds=1)
WORK_STARTS, WORK_ENDS = (9, 0), (17, 30)  # local time, weekdays


class DemoClock:
    def __init__(self, real_now: datetime | None = None):
        self.real_now = real_now or timezone.now()
        self.last = None  # where the clock stood when the last step ended

    # --- Moments -------------------------------------------------------------------------------------

    def workday(self, ago: int, at: str = "09:00") -> datetime:
        """``at`` (HH:MM, local time) on the working day ``ago`` working days before today."""
        day = timezone.localdate(self.real_now)
        while ago > 0 or day.weekday() >= 5:
            day -= timedelta(days=1)
            if day.weekday() < 5:
                ago -= 1
        return self._on(day, at)

    def day(self, ago: int, at: str = "09:00") -> datetime:
        """``at`` (HH:MM, local time) ``ago`` calendar days before today (weekends included)."""
        return self._on(timezone.localdate(self.real_now) - timedelta(days=ago), at)

    def later(self, moment: datetime, minutes: float) -> datetime:
        """``minutes`` of working time (09:00 to 17:30 on weekdays) after ``moment``: what is left at the end
        of a day carries over to the next working morning."""
        left = timedelta(minutes=minutes)
        current = timezone.localtime(moment)
        while True:
            closing = current.replace(hour=WORK_ENDS[0], minute=WORK_ENDS[1], second=0, microsecond=0)
            if current.weekday() < 5 and current < closing:
                if current + left <= closing:
                    return min(current + left, self.real_now - timedelta(minutes=1))
                left -= closing - current
            current = (current + timedelta(days=1)).replace(
                hour=WORK_STARTS[0], minute=WORK_STARTS[1], second=0, microsecond=0
            )

    def jitter(self, moment: datetime, key: str, minutes: int = 40) -> datetime:
        """``moment`` plus 0 to ``minutes`` minutes, always the same for ``key``: people do not all act on the
        hour, and a rerun plans the same times."""
        return min(
            moment + timedelta(minutes=zlib.crc32(key.encode()) % (minutes + 1)), self.real_now - timedelta(minutes=1)
        )

    def hours_ago(self, hours: float) -> datetime:
        return self.real_now - timedelta(hours=hours)

    def _on(self, day, at: str) -> datetime:
        hour, minute = (int(part) for part in at.split(":"))
        moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=timezone.get_current_timezone())
        return min(moment, self.real_now - timedelta(minutes=1))

    # --- Running a step at its moment ---------------------------------------------------------------

    @contextmanager
    def at(self, moment: datetime):
        """Run the block with ``timezone.now`` starting at ``moment`` (or just after the last step, if that
        was later) and ticking in real time from there."""
        start = moment if self.last is None else max(moment, self.last + TICK)
        start = min(start, self.real_now)
        began = time.monotonic()

        def now():
            return min(start + timedelta(seconds=time.monotonic() - began), self.real_now)

        try:
            with mock.patch.object(timezone, "now", now):
                yield start
        finally:
            self.last = now()


class Agenda:
    """Steps to run at their moments: ``add`` them in any order, ``run`` them in time order (steps at the
    same moment in the order they were added)."""

    def __init__(self, clock: DemoClock):
        self.clock = clock
        self.steps: list[tuple[datetime, int, object]] = []

    def add(self, moment: datetime, step) -> None:
        self.steps.append((moment, len(self.steps), step))

    def run(self) -> None:
        for moment, _order, step in sorted(self.steps, key=lambda entry: entry[:2]):
            with self.clock.at(moment):
                step()
        self.steps.clear()
