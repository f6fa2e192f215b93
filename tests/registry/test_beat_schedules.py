"""One list of beat schedules: each app's ``schedules.py``. The migrations, ``setup_schedules`` and the
operations guide all say what that list says."""

import re
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.utils.module_loading import import_string
from django_celery_beat.models import PeriodicTask

from registry.beat import Schedule, shipped_schedules

DOCS = Path(__file__).resolve().parents[2] / "docs"


def as_rows(tasks) -> set[tuple]:
    return {
        (task.name, task.task, task.crontab.minute, task.crontab.hour, task.description, task.enabled)
        for task in tasks.select_related("crontab")
    }


def shipped_rows() -> set[tuple]:
    return {(s.name, s.task, s.minute, s.hour, s.description, True) for s in shipped_schedules()}


def test_every_app_with_periodic_tasks_declares_them_and_each_names_a_real_task():
    schedules = shipped_schedules()

    assert {schedule.task.split(".")[0] for schedule in schedules} == {
        "registry",
        "approvals",
        "freshness",
        "webhooks",
        "routing",
        "readiness",
        "identity",
        "connectors",
        "incidents",
    }
    assert len({schedule.name for schedule in schedules}) == len(schedules)
    assert len({schedule.task for schedule in schedules}) == len(schedules)
    for schedule in schedules:
        assert isinstance(schedule, Schedule)
        assert import_string(schedule.task).name == schedule.task


def test_the_migrations_create_exactly_the_shipped_schedules(db):
    assert as_rows(PeriodicTask.objects.all()) == shipped_rows()


def test_setup_schedules_creates_exactly_the_shipped_schedules_on_an_empty_table(db):
    PeriodicTask.objects.all().delete()
    out = StringIO()

    call_command("setup_schedules", stdout=out)

    assert as_rows(PeriodicTask.objects.all()) == shipped_rows()
    assert f"Beat schedules: {len(shipped_schedules())} created, 0 already present." in out.getvalue()


def test_the_operations_guide_lists_every_shipped_schedule_and_no_other():
    section = (DOCS / "operations.md").read_text().split("## Schedules", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| ([A-Z][^|]+?) \| [^|]+ \| [^|]+ \|$", section, flags=re.M)

    assert sorted(listed) == sorted(schedule.name for schedule in shipped_schedules())
