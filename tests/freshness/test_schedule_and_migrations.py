"""The sweep is scheduled in the database (editable in the admin) and runs on demand from the command line
(audited as such); the database schema the migrations build matches the models the freshness work changed
(findings, gate settings, the incident source)."""

import io

import pytest
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from freshness.models import SweepLock, SweepRun
from freshness.tasks import evidence_freshness_sweep
from registry.models import AuditEvent
from tests.freshness.world import default_gates, live  # noqa: F401  (default_gates: autouse)


def test_the_sweep_runs_hourly_on_a_schedule_stored_in_the_database(db):
    task = PeriodicTask.objects.get(name="Evidence freshness sweep")

    assert task.task == "freshness.tasks.evidence_freshness_sweep"
    assert task.enabled
    assert (task.crontab.minute, task.crontab.hour) == ("5", "*")
    assert task.task == evidence_freshness_sweep.name
    assert SweepLock.objects.filter(pk=1).exists()


def test_the_models_and_their_migrations_agree(db):
    out = io.StringIO()
    call_command(
        "makemigrations", "freshness", "approvals", "incidents", "registry", check=True, dry_run=True, stdout=out
    )


def test_the_run_sweep_command_runs_it_now_as_the_command_line(db, live):
    live.version(kinds=("benchmark", "safety"))
    out = io.StringIO()

    call_command("run_sweep", stdout=out)

    [run] = SweepRun.objects.all()
    assert (run.trigger, run.status, run.findings_opened) == ("command", "succeeded", 1)
    assert f"Freshness sweep #{run.pk} done" in out.getvalue()
    assert "findings opened 1" in out.getvalue()
    assert AuditEvent.objects.get(action="freshness.sweep_completed").source == "cli"
    assert AuditEvent.objects.get(action="freshness_finding.opened").source == "cli"


def test_a_failing_command_run_says_why_and_is_recorded(db, live, monkeypatch):
    live.version(kinds=())
    monkeypatch.setattr("freshness.services.audit_record_many", lambda entries: 1 / 0)

    with pytest.raises(CommandError, match="Freshness sweep failed: ZeroDivisionError"):
        call_command("run_sweep", stdout=io.StringIO())

    assert list(SweepRun.objects.values_list("trigger", "status")) == [("command", "failed")]
