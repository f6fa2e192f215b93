"""The keyed chain and its anchor: events are HMAC'd with a key from the environment (rotated with a recorded
key id), and signed checkpoints published outside the database (the anchor file) vouch for the chain, so
what a database writer alone can do to the newest events shows. Tampering scenarios: tests/resilience."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from registry.models import AuditChainHead, AuditCheckpoint, AuditEvent
from registry.services import audit_verify
from registry.services.audit import SCHEME_KEYED, SCHEME_LEGACY, compute_event_hash
from registry.services.audit_checkpoint import audit_checkpoint_take
from registry.tasks import audit_checkpoint
from tests.registry.test_audit_chain import prompt_write


@pytest.fixture
def anchor_file(tmp_path, settings):
    path = tmp_path / "worm" / "audit-anchor.jsonl"
    path.parent.mkdir()
    settings.GATEHOUSE_AUDIT_ANCHOR_FILE = str(path)
    return path


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


# --- Keys ------------------------------------------------------------------------------------------------


@override_settings(GATEHOUSE_AUDIT_KEY="first-key-of-the-trail", GATEHOUSE_AUDIT_KEY_ID="2026-01")
def test_each_event_records_the_key_it_was_made_with(ml_engineer):
    prompt_write(ml_engineer)

    event = AuditEvent.objects.get()
    assert (event.scheme, event.key_id) == (SCHEME_KEYED, "2026-01")
    assert audit_verify().ok


def test_a_rotated_key_is_recorded_and_events_made_with_the_old_one_still_verify(ml_engineer, settings):
    settings.GATEHOUSE_AUDIT_KEY, settings.GATEHOUSE_AUDIT_KEY_ID = "first-key-of-the-trail", "2026-01"
    prompt_write(ml_engineer, name="before")
    settings.GATEHOUSE_AUDIT_KEY, settings.GATEHOUSE_AUDIT_KEY_ID = "second-key:with-a-colon", "2026-06"
    settings.GATEHOUSE_AUDIT_OLD_KEYS = "2026-01:first-key-of-the-trail"
    prompt_write(ml_engineer, name="after")

    assert list(AuditEvent.objects.order_by("sequence").values_list("key_id", flat=True)) == ["2026-01", "2026-06"]
    assert audit_verify().ok

    settings.GATEHOUSE_AUDIT_OLD_KEYS = ""  # the retired key forgotten: said so, not taken for tampering
    result = audit_verify()
    assert not result.ok
    assert [problem.message for problem in result.problems] == [
        "event #1 was made with key '2026-01', which is not configured (keep retired keys in GATEHOUSE_AUDIT_OLD_KEYS)"
    ]


def test_without_a_key_of_its_own_the_chain_is_keyed_from_the_secret_key_and_says_so(ml_engineer, settings):
    settings.GATEHOUSE_AUDIT_KEY = ""
    prompt_write(ml_engineer)

    assert AuditEvent.objects.get().key_id.startswith("derived-")
    result = audit_verify()
    assert result.ok
    assert any("derived from SECRET_KEY" in note for note in result.notes)
    settings.GATEHOUSE_AUDIT_KEY = "now-a-real-key"  # setting a key later: the derived one still verifies its events
    prompt_write(ml_engineer, name="second")
    assert audit_verify().ok


def test_a_chain_begun_before_keying_still_verifies_and_continues_keyed(ml_engineer, tamper):
    """Events recorded under the old unkeyed scheme (as the demo data and older trails were) verify as made."""
    prev = AuditChainHead.objects.get(pk=1).last_hash
    for sequence in (1, 2):
        fields = dict(
            sequence=sequence,
            at=timezone.now(),
            actor_id=None,
            actor_name="old",
            source="cli",
            request_id="",
            action="legacy.event",
            object_type="x",
            object_id=str(sequence),
            object_repr="",
            feature_id=None,
            payload={"score": 0.5},
            prev_hash=prev,
        )
        prev = compute_event_hash(**fields)  # the scheme of old trails: plain SHA-256, no key
        AuditEvent.objects.create(**fields, scheme=SCHEME_LEGACY, hash=prev)
    AuditChainHead.objects.filter(pk=1).update(last_sequence=2, last_hash=prev)

    prompt_write(ml_engineer)

    assert list(AuditEvent.objects.order_by("sequence").values_list("scheme", flat=True)) == [1, 1, 2]
    assert audit_verify().ok


# --- Checkpoints ------------------------------------------------------------------------------------------


def test_a_checkpoint_is_signed_appended_to_the_anchor_file_and_kept_for_display(ml_engineer, anchor_file):
    prompt_write(ml_engineer)
    head = AuditChainHead.objects.get(pk=1)

    checkpoint, anchored = audit_checkpoint_take()

    assert anchored
    [line] = lines(anchor_file)
    assert line == checkpoint.as_dict()
    assert (line["sequence"], line["head_hash"]) == (1, head.last_hash)
    assert set(line) == {"sequence", "head_hash", "at", "key_id", "signature"}
    assert AuditCheckpoint.objects.get().signature == line["signature"]
    result = audit_verify()
    assert result.ok and result.checkpoints == 1
    assert "against 1 checkpoint" in result.message


def test_checkpoints_are_appended_never_rewritten(ml_engineer, anchor_file):
    audit_checkpoint_take()
    prompt_write(ml_engineer)
    audit_checkpoint()  # what beat runs

    assert [line["sequence"] for line in lines(anchor_file)] == [0, 1]
    assert audit_verify().ok


def test_a_checkpoint_with_a_bad_signature_or_an_unknown_key_is_reported(ml_engineer, anchor_file, settings):
    prompt_write(ml_engineer)
    audit_checkpoint_take()
    forged = {**lines(anchor_file)[0], "sequence": 7}
    with anchor_file.open("a") as handle:
        handle.write(json.dumps(forged) + "\n")
        handle.write(json.dumps({**forged, "key_id": "nobody-knows"}) + "\n")
        handle.write("not json\n")

    result = audit_verify()

    assert not result.ok
    assert result.problem_count == 3
    messages = " | ".join(problem.message for problem in result.problems)
    assert "line 2 of the anchor file has a bad signature" in messages
    assert "key 'nobody-knows', which is not configured" in messages
    assert "line 4 of the anchor file is not a checkpoint" in messages


def test_an_anchor_file_that_cannot_be_written_is_reported_not_raised(ml_engineer, settings, tmp_path):
    settings.GATEHOUSE_AUDIT_ANCHOR_FILE = str(tmp_path / "no-such-dir" / "anchor.jsonl")

    checkpoint, anchored = audit_checkpoint_take()

    assert not anchored
    assert AuditCheckpoint.objects.get().anchored is False
    with pytest.raises(CommandError, match="NOT appended"):
        call_command("audit_checkpoint", stdout=StringIO())


def test_a_configured_anchor_file_not_yet_written_is_a_note_not_a_failure(ml_engineer, anchor_file):
    prompt_write(ml_engineer)

    result = audit_verify()

    assert result.ok
    assert any("does not exist yet" in note for note in result.notes)


def test_beat_takes_a_checkpoint_every_fifteen_minutes(db):
    task = PeriodicTask.objects.select_related("crontab").get(name="Audit chain checkpoint")

    assert task.task == "registry.tasks.audit_checkpoint"
    assert (task.crontab.minute, task.crontab.hour) == ("*/15", "*")
    assert task.enabled


def test_the_checkpoint_command_says_what_it_anchored(ml_engineer, anchor_file):
    prompt_write(ml_engineer)
    out = StringIO()

    call_command("audit_checkpoint", stdout=out)

    assert "Checkpoint at #1" in out.getvalue() and str(anchor_file) in out.getvalue()
    assert len(lines(anchor_file)) == 1


def test_checkpoints_are_listed_read_only_in_the_admin(admin_client, ml_engineer):
    prompt_write(ml_engineer)
    checkpoint, _ = audit_checkpoint_take()

    response = admin_client.get("/admin/registry/auditcheckpoint/")

    assert response.status_code == 200
    assert checkpoint.head_hash in response.content.decode()
    assert admin_client.get("/admin/registry/auditcheckpoint/add/").status_code == 403
