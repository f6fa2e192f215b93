"""The decision ledger is purged of records older than GATEHOUSE_DECISION_RETENTION_DAYS, never of anything
inside it (a record goes only when both its decision and its recording are that old), and never with a
retention under six months. Each chunk purged is recorded in the audit trail. Times are travelled through
the purge's ``now``."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.retention import RetentionTooShort
from registry.models import AuditEvent
from registry.services import audit_verify
from routing.models import DecisionRecord
from routing.retention import ledger_purge
from tests.factories import FeatureFactory


@pytest.fixture
def ledger(team, ml_engineer, eu):
    feature = FeatureFactory(slug="claims-triage", team=team)
    now = timezone.now()

    def record(request_id, *, days_ago, recorded_days_ago=None):
        return DecisionRecord.objects.create(
            request_id=request_id,
            token=f"token-{request_id}",
            feature=feature,
            region=eu,
            environment="production",
            served=True,
            decided_at=now - timedelta(days=days_ago),
            recorded_by=ml_engineer,
            recorded_at=now - timedelta(days=days_ago if recorded_days_ago is None else recorded_days_ago),
        )

    return record


def same_moment(text, moment):
    """The audit payload keeps times to the millisecond."""
    return abs(parse_datetime(text) - moment) < timedelta(milliseconds=1)


def remaining():
    return set(DecisionRecord.objects.values_list("request_id", flat=True))


def test_only_records_older_than_the_retention_go(ledger, settings):
    settings.GATEHOUSE_DECISION_RETENTION_DAYS = 365
    ledger("old-1", days_ago=500)
    ledger("old-2", days_ago=366)
    ledger("inside", days_ago=364)
    ledger("backfilled", days_ago=400, recorded_days_ago=10)  # recorded late: kept its full retention too

    result = ledger_purge()

    assert result.deleted == 2
    assert remaining() == {"inside", "backfilled"}


def test_nothing_inside_the_retention_goes_however_the_clock_moves(ledger, settings):
    settings.GATEHOUSE_DECISION_RETENTION_DAYS = 183
    ledger("recent", days_ago=100)
    now = timezone.now()

    for days_later in (0, 30, 82):  # the record is 100, 130 and 182 days old then
        assert ledger_purge(now=now + timedelta(days=days_later)).deleted == 0
    assert remaining() == {"recent"}

    assert ledger_purge(now=now + timedelta(days=84)).deleted == 1  # 184 days old
    assert remaining() == set()


def test_each_purge_is_recorded_with_counts_the_oldest_and_newest_and_the_cutoff(ledger, settings):
    settings.GATEHOUSE_DECISION_RETENTION_DAYS = 365
    oldest = ledger("a", days_ago=700)
    ledger("b", days_ago=600)
    newest = ledger("c", days_ago=400)
    ledger("kept", days_ago=30)

    result = ledger_purge()

    event = AuditEvent.objects.get(action="decisions.purged")
    assert event.actor is None and event.sequence == result.events[0]
    assert event.payload["deleted"] == 3 and event.payload["retention_days"] == 365
    assert same_moment(event.payload["oldest_removed"], oldest.decided_at)
    assert same_moment(event.payload["newest_removed"], newest.decided_at)
    assert same_moment(event.payload["cutoff"], result.cutoff)
    assert audit_verify().ok


def test_a_large_backlog_goes_in_chunks_each_recorded(ledger, settings):
    settings.GATEHOUSE_DECISION_RETENTION_DAYS = 365
    for n in range(5):
        ledger(f"old-{n}", days_ago=400 + n)

    result = ledger_purge(chunk=2)

    assert result.deleted == 5 and remaining() == set()
    assert [
        event.payload["deleted"] for event in AuditEvent.objects.filter(action="decisions.purged").order_by("sequence")
    ] == [2, 2, 1]


def test_a_dry_run_counts_and_deletes_nothing(ledger, settings):
    settings.GATEHOUSE_DECISION_RETENTION_DAYS = 365
    ledger("old", days_ago=400)

    out = StringIO()
    call_command("purge_decisions", "--dry-run", stdout=out)

    assert "1 records older than" in out.getvalue() and "would be deleted" in out.getvalue()
    assert remaining() == {"old"} and not AuditEvent.objects.filter(action="decisions.purged").exists()

    call_command("purge_decisions", stdout=StringIO())
    assert remaining() == set()
    assert AuditEvent.objects.get(action="decisions.purged").source == "cli"


@pytest.mark.parametrize("days", [0, 30, 182])
def test_a_retention_under_six_months_is_refused_and_nothing_goes(ledger, settings, days):
    settings.GATEHOUSE_DECISION_RETENTION_DAYS = days
    ledger("old", days_ago=400)

    with pytest.raises(RetentionTooShort, match="at least 183 days"):
        ledger_purge()
    with pytest.raises(CommandError, match=f"GATEHOUSE_DECISION_RETENTION_DAYS={days} is refused"):
        call_command("purge_decisions", stdout=StringIO())

    assert remaining() == {"old"}


def test_the_settings_refuse_a_short_retention_when_they_load():
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env={"GATEHOUSE_DECISION_RETENTION_DAYS": "90", "DJANGO_DEBUG": "1", "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode != 0
    assert "GATEHOUSE_DECISION_RETENTION_DAYS=90 is refused" in completed.stderr
