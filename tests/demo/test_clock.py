"""The demo's clock: working-day moments, working time, and steps that never go back in time."""

from datetime import UTC, datetime

from django.test.utils import override_settings
from django.utils import timezone

from demo.clock import Agenda, DemoClock

FRIDAY_EVENING = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)


@override_settings(TIME_ZONE="UTC")
def test_moments_fall_on_working_days_before_now():
    clock = DemoClock(FRIDAY_EVENING)
    assert clock.workday(1, "09:30") == datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    assert clock.workday(5, "09:30") == datetime(2026, 11, 27, 9, 30, tzinfo=UTC)  # the Friday before
    assert clock.day(1, "23:00") == datetime(2026, 12, 3, 23, 0, tzinfo=UTC)
    assert clock.workday(0, "23:00") < FRIDAY_EVENING  # never in the future


@override_settings(TIME_ZONE="UTC")
def test_working_time_carries_over_nights_and_weekends():
    clock = DemoClock(datetime(2026, 12, 9, 12, 0, tzinfo=UTC))
    friday_afternoon = datetime(2026, 12, 4, 16, 30, tzinfo=UTC)
    assert clock.later(friday_afternoon, 30) == datetime(2026, 12, 4, 17, 0, tzinfo=UTC)
    assert clock.later(friday_afternoon, 90) == datetime(2026, 12, 7, 9, 30, tzinfo=UTC)  # Monday
    assert clock.jitter(friday_afternoon, "a step") == clock.jitter(friday_afternoon, "a step")


def test_steps_run_at_their_moments_in_order():
    real_now = timezone.now()
    clock = DemoClock(real_now)
    agenda = Agenda(clock)
    seen = []
    later, earlier = clock.day(3, "10:00"), clock.day(5, "10:00")
    agenda.add(later, lambda: seen.append(("later", timezone.now())))
    agenda.add(earlier, lambda: seen.append(("earlier", timezone.now())))
    agenda.add(earlier, lambda: seen.append(("same moment, added after", timezone.now())))
    agenda.run()
    assert [name for name, _at in seen] == ["earlier", "same moment, added after", "later"]
    assert earlier <= seen[0][1] < seen[1][1] < later <= seen[2][1] < real_now
    assert timezone.now() >= real_now  # the real clock is back
