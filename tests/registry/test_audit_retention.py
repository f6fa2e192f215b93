"""The audit trail is purged of what is older than GATEHOUSE_AUDIT_RETENTION_DAYS, and still verifies after.

Only a whole span from the oldest event up to a signed checkpoint older than the retention goes; the event
that checkpoint names is the anchor verification starts from, and says so. Nothing inside the retention goes,
nor anything when the trail does not verify, nor with a retention under six months. The purge is recorded in
the trail it shortens. Tampering after a purge is still detected, and so is any other removal. Events are
made in the past by travelling the clock the trail reads (``travel``)."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.retention import RetentionTooShort
from registry.models import AuditEvent, AuditVerificationRun
from registry.services import audit as audit_module
from registry.services import audit_checkpoint as checkpoint_module
from registry.services import audit_verify
from registry.services.audit_checkpoint import audit_checkpoint_take
from registry.services.audit_retention import audit_purge
from registry.services.audit_runs import verification_execute, verification_start
from tests.registry.test_audit_chain import prompt_write


class Clock:
    """``timezone`` for the audit modules, ``days`` behind the real clock."""

    def __init__(self):
        self.days = 0

    def now(self):
        return timezone.now() - timedelta(days=self.days)


@pytest.fixture
def travel(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(audit_module, "timezone", clock)
    monkeypatch.setattr(checkpoint_module, "timezone", clock)
    return clock


@pytest.fixture
def anchor_file(tmp_path, settings):
    path = tmp_path / "worm" / "audit-anchor.jsonl"
    path.parent.mkdir()
    settings.GATEHOUSE_AUDIT_ANCHOR_FILE = str(path)
    return path


@pytest.fixture
def history(travel, ml_engineer, settings):
    """Events 400, 300 and 200 days ago, a checkpoint after each batch, and today's events."""
    settings.GATEHOUSE_AUDIT_RETENTION_DAYS = 365

    def batch(days, names):
        travel.days = days
        for name in names:
            prompt_write(ml_engineer, name=name)
        audit_checkpoint_take()

    batch(400, ["a", "b", "c"])  # #1-#3, checkpoint at #3
    batch(300, ["d", "e"])  # #4-#5, checkpoint at #5
    batch(200, ["f"])  # #6, checkpoint at #6
    travel.days = 0
    prompt_write(ml_engineer, name="today")  # #7
    return travel


def sequences():
    return list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))


def test_only_the_span_up_to_a_checkpoint_older_than_the_retention_goes(history):
    result = audit_purge()

    assert (result.deleted, result.first_sequence, result.through_sequence) == (3, 1, 3)
    assert sequences()[:5] == [4, 5, 6, 7, 8]  # #8: the purge's own event
    assert result.event_sequence == 8


def test_nothing_inside_the_retention_goes_however_far_the_clock_moves(history, settings):
    now = timezone.now()
    # 365 days kept: at now + 34 days the 300-day-old batch is 334 days old, its checkpoint too.
    audit_purge(now=now)
    assert sequences()[0] == 4
    result = audit_purge(now=now + timedelta(days=34))
    assert result.deleted == 0 and "nothing is old enough" in result.reason
    assert sequences()[0] == 4
    # At now + 66 days the checkpoint at #5 is 366 days old: #4 and #5 go, #6 (266 days old then) stays.
    result = audit_purge(now=now + timedelta(days=66))
    assert (result.deleted, result.through_sequence) == (2, 5)
    assert sequences()[0] == 6
    assert all(
        at >= now + timedelta(days=66) - timedelta(days=365) for at in AuditEvent.objects.values_list("at", flat=True)
    )


def test_the_newest_event_is_never_purged_even_when_everything_is_old(travel, ml_engineer, settings):
    settings.GATEHOUSE_AUDIT_RETENTION_DAYS = 183
    travel.days = 400
    prompt_write(ml_engineer, name="only")
    audit_checkpoint_take()  # at #1, the chain head

    result = audit_purge()

    assert result.deleted == 0 and sequences() == [1]


def test_the_purge_is_recorded_with_its_counts_span_cutoff_and_anchor(history):
    first_at, anchor = AuditEvent.objects.filter(sequence__in=(1, 3)).order_by("sequence").values_list("at", "hash")
    result = audit_purge()

    event = AuditEvent.objects.get(action="audit.purged")
    assert event.actor is None and event.sequence == result.event_sequence
    payload = event.payload
    assert (payload["deleted"], payload["first_sequence"], payload["through_sequence"]) == (3, 1, 3)
    assert payload["anchor_hash"] == anchor[1] and payload["retention_days"] == 365
    assert abs(parse_datetime(payload["oldest_removed"]) - first_at[0]) < timedelta(milliseconds=1)
    assert abs(parse_datetime(payload["cutoff"]) - result.cutoff) < timedelta(milliseconds=1)
    assert payload["checkpoint"]["sequence"] == 3 and payload["checkpoint"]["head_hash"] == anchor[1]


def test_the_trail_verifies_after_a_purge_and_says_from_where(history):
    audit_purge()

    result = audit_verify()

    assert result.ok, result.message
    assert result.anchored_at == 3
    assert "from the anchor at #3" in result.message
    assert any("Events #1 to #3 were purged under the retention" in note for note in result.notes)
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert "Audit chain intact" in out.getvalue() and "were purged under the retention" in out.getvalue()


def test_the_verification_page_run_passes_and_names_the_anchor(
    history, governance_admin, django_capture_on_commit_callbacks
):
    audit_purge()

    with django_capture_on_commit_callbacks(execute=True):
        run = verification_start(actor=governance_admin)
    run = AuditVerificationRun.objects.get(pk=run.pk)
    if run.status == AuditVerificationRun.Status.RUNNING:
        run = verification_execute(run.pk)

    assert run.status == AuditVerificationRun.Status.PASSED
    assert run.first_sequence == 4 and run.total == 5  # #4 to #8 when it started, not 8
    assert any("purged under the retention" in note for note in run.notes)


def test_with_an_anchor_file_its_checkpoint_vouches_for_the_anchor(travel, ml_engineer, settings, anchor_file):
    settings.GATEHOUSE_AUDIT_RETENTION_DAYS = 183
    travel.days = 300
    prompt_write(ml_engineer, name="old")
    prompt_write(ml_engineer, name="older")
    audit_checkpoint_take()
    travel.days = 0
    prompt_write(ml_engineer, name="today")
    audit_checkpoint_take()

    assert audit_purge().through_sequence == 2

    result = audit_verify()
    assert result.ok, result.message
    assert any("which a signed checkpoint vouches for" in note for note in result.notes)
    # The anchor file is append-only: its checkpoints of purged events stay, and are no problem.
    assert [json.loads(line)["sequence"] for line in anchor_file.read_text().splitlines()] == [2, 3]


def test_a_row_tampered_with_after_a_purge_is_still_detected(history, tamper):
    audit_purge()

    AuditEvent.objects.filter(sequence=5).update(payload={"forged": True})

    result = audit_verify()
    assert not result.ok and result.broken_sequence == 5


def test_removing_more_old_events_by_any_other_way_is_detected(history, tamper):
    audit_purge()

    AuditEvent.objects.filter(sequence=4).delete()  # the next old one, without a purge to say so

    result = audit_verify()
    assert not result.ok
    assert result.problems[0].message == "events #1 to #4 are missing (the next is #5)"


def test_a_forged_purge_event_does_not_explain_a_gap(history, tamper):
    """Someone who can write the database but does not hold the key deletes old events and rewrites an
    event into a purge that would explain them: the rewritten event no longer verifies."""
    AuditEvent.objects.filter(sequence__lte=3).delete()
    anchor = AuditEvent.objects.get(sequence=4).prev_hash
    AuditEvent.objects.filter(sequence=7).update(
        action="audit.purged", payload={"through_sequence": 3, "anchor_hash": anchor, "first_sequence": 1}
    )

    result = audit_verify()

    assert not result.ok
    assert "event #7 was altered" in [problem.message for problem in result.problems]


def test_a_trail_that_does_not_verify_is_not_purged(history, tamper):
    AuditEvent.objects.filter(sequence=2).update(payload={"forged": True})

    result = audit_purge()

    assert result.deleted == 0 and "does not verify" in result.reason
    assert sequences()[0] == 1  # the evidence is kept


@pytest.mark.parametrize("days", [0, 90, 182])
def test_a_retention_under_six_months_is_refused_and_nothing_goes(history, settings, days):
    settings.GATEHOUSE_AUDIT_RETENTION_DAYS = days

    with pytest.raises(RetentionTooShort, match="at least 183 days"):
        audit_purge()
    with pytest.raises(CommandError, match=f"GATEHOUSE_AUDIT_RETENTION_DAYS={days} is refused"):
        call_command("purge_audit_trail", stdout=StringIO())
    assert sequences()[0] == 1


def test_the_command_says_what_it_purged_and_a_dry_run_purges_nothing(history):
    out = StringIO()
    call_command("purge_audit_trail", "--dry-run", stdout=out)
    assert "3 events #1 to #3" in out.getvalue() and "would be purged" in out.getvalue()
    assert sequences()[0] == 1

    out = StringIO()
    call_command("purge_audit_trail", stdout=out)
    assert "purged; the chain now verifies from the anchor at #3" in out.getvalue()
    assert AuditEvent.objects.get(action="audit.purged").source == "cli"


# --- PostgreSQL: the one way rows leave the trail ------------------------------------------------------


@pytest.mark.postgres
def test_on_postgresql_the_purge_goes_through_the_owners_function_and_nothing_else_deletes(history):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(sequence=1).delete()  # old enough, but not through the function
    with pytest.raises(DatabaseError, match="younger than 183 days"), transaction.atomic():
        with connection.cursor() as cursor:
            young = AuditEvent.objects.get(sequence=7)  # today
            cursor.execute("SELECT gatehouse_audit_purge(%s, %s)", [young.sequence, young.hash])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:  # the mark set by hand opens nothing younger than 183 days
            cursor.execute("SELECT set_config('gatehouse.audit_purge_through', '7', true)")
        AuditEvent.objects.filter(sequence=7).delete()

    result = audit_purge()

    assert (result.deleted, result.through_sequence) == (3, 3)
    assert audit_verify().ok
