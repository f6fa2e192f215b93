"""The daily snapshot: one row per feature per day however often it runs, audited, scheduled by beat."""

from datetime import date
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from readiness.models import ReadinessSnapshot
from readiness.services import readiness_snapshot_take
from readiness.tasks import readiness_snapshot
from registry.models import AuditEvent
from tests.factories import FeatureFactory


def test_taking_the_days_snapshot_twice_replaces_it_instead_of_adding_rows(claims_live, team, eu):
    FeatureFactory(slug="mail-sorter", name="Mail sorter", team=team, regions=[eu], monitors="")
    day = date(2026, 11, 20)

    first = readiness_snapshot_take(day=day)
    feature = claims_live["feature"]
    feature.monitors = ""
    feature.save()
    second = readiness_snapshot_take(day=day)

    assert (first.created, first.replaced, second.created, second.replaced) == (2, 0, 0, 2)
    assert ReadinessSnapshot.objects.filter(day=day).count() == 2
    claims = ReadinessSnapshot.objects.get(feature=feature, day=day)
    assert claims.items["monitor"] is False and not claims.ready and claims.ok_count == 7
    assert claims.live and "no monitor is registered" in claims.sentence
    events = AuditEvent.objects.filter(action="readiness.snapshot_taken").order_by("sequence")
    assert [event.payload["replaced"] for event in events] == [0, 2]


def test_the_task_is_idempotent_per_day_and_audited_as_a_task(claims_live):
    readiness_snapshot.delay()
    readiness_snapshot.delay()

    assert ReadinessSnapshot.objects.count() == 1
    assert set(AuditEvent.objects.filter(action="readiness.snapshot_taken").values_list("source", flat=True)) == {
        "task"
    }


def test_the_command_takes_a_snapshot_now(claims_live):
    out = StringIO()

    call_command("readiness_snapshot", stdout=out)

    assert "1 feature, 1 ready (1 new, 0 replaced)" in out.getvalue()
    assert AuditEvent.objects.get(action="readiness.snapshot_taken").source == "cli"


def test_only_governance_takes_a_snapshot_on_demand(claims_live, product_owner, governance_admin):
    with pytest.raises(PermissionDenied):
        readiness_snapshot_take(actor=product_owner)

    assert readiness_snapshot_take(actor=governance_admin).features == 1


def test_beat_runs_the_snapshot_daily_from_a_schedule_in_the_database(db):
    call_command("setup_schedules", stdout=StringIO())

    task = PeriodicTask.objects.select_related("crontab").get(name="Daily readiness snapshot")

    assert (task.task, task.crontab.minute, task.crontab.hour, task.enabled) == (
        "readiness.tasks.readiness_snapshot",
        "30",
        "0",
        True,
    )


def test_a_snapshot_does_not_invalidate_resolve_answers():
    from routing.cache import relevant

    assert not relevant("readiness.snapshot_taken")
