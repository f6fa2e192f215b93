"""Tampering with the audit trail, by someone who can write the database (the triggers switched off, as a
superuser could), with and without touching the chain head. Each is detected, and reported with the rest:
a checkpoint published outside the database (the anchor file) vouches for what the database cannot."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from registry.models import AuditChainHead, AuditEvent
from registry.services import audit_verify
from registry.services.audit import compute_event_hash
from registry.services.audit_checkpoint import audit_checkpoint_take
from tests.registry.test_audit_chain import prompt_write


@pytest.fixture
def anchored_chain(ml_engineer, tamper, settings, tmp_path):
    """Six events, a checkpoint taken at #6 (as beat takes one every 15 minutes) in the anchor file."""
    settings.GATEHOUSE_AUDIT_ANCHOR_FILE = str(tmp_path / "anchor.jsonl")
    for name in ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot"):
        prompt_write(ml_engineer, name=name)
    audit_checkpoint_take()
    assert audit_verify().ok
    return list(AuditEvent.objects.order_by("sequence"))


def messages(result):
    return " | ".join(problem.message for problem in result.problems)


def test_the_newest_events_removed_without_the_head_are_detected(anchored_chain):
    AuditEvent.objects.filter(sequence__gte=5).delete()

    result = audit_verify()

    assert not result.ok
    assert "events #5 to #6 were removed (the chain head is at #6)" in messages(result)


def test_the_newest_events_removed_with_the_head_moved_back_are_detected_through_the_anchor(anchored_chain):
    AuditEvent.objects.filter(sequence__gte=5).delete()
    AuditChainHead.objects.filter(pk=1).update(last_sequence=4, last_hash=anchored_chain[3].hash)

    result = audit_verify()

    assert not result.ok
    assert result.broken_sequence == 5
    assert "events #5 to #6 were removed: the checkpoint of" in messages(result)
    assert "vouches for the chain up to #6" in messages(result)


def test_events_removed_then_the_trail_continued_is_detected_through_the_anchor(anchored_chain, ml_engineer):
    """The head moved back and new writes took the removed sequence numbers: the checkpoint names another #6."""
    AuditEvent.objects.filter(sequence__gte=5).delete()
    AuditChainHead.objects.filter(pk=1).update(last_sequence=4, last_hash=anchored_chain[3].hash)
    prompt_write(ml_engineer, name="golf")
    prompt_write(ml_engineer, name="hotel")

    result = audit_verify()

    assert not result.ok
    assert "event #6 is not the one the checkpoint of" in messages(result)


def test_an_altered_payload_is_detected_and_later_problems_are_still_reported(anchored_chain):
    AuditEvent.objects.filter(sequence=2).update(payload={"name": "alpha", "version": 99})
    AuditEvent.objects.filter(sequence=5).update(object_repr="something else")

    result = audit_verify()

    assert result.problem_count == 2
    assert [problem.sequence for problem in result.problems] == [2, 5]


def test_a_row_rewritten_and_relinked_to_a_new_head_with_the_key_is_detected_through_the_anchor(anchored_chain):
    """An insider holding the key (but not the write-once anchor) rewrites #3 and re-chains everything after."""
    prev = anchored_chain[1].hash
    for event in anchored_chain[2:]:
        payload = {"forged": True} if event.sequence == 3 else event.payload
        digest = compute_event_hash(
            sequence=event.sequence,
            at=event.at,
            actor_id=event.actor_id,
            actor_name=event.actor_name,
            source=event.source,
            request_id=event.request_id,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            object_repr=event.object_repr,
            feature_id=event.feature_id,
            payload=payload,
            prev_hash=prev,
            scheme=event.scheme,
            key_id=event.key_id,
        )
        AuditEvent.objects.filter(pk=event.pk).update(payload=payload, prev_hash=prev, hash=digest)
        prev = digest
    AuditChainHead.objects.filter(pk=1).update(last_hash=prev)

    result = audit_verify()

    assert not result.ok
    assert "event #6 is not the one the checkpoint of" in messages(result)


def test_a_row_forged_beyond_the_head_is_detected(anchored_chain):
    newest = anchored_chain[-1]
    AuditEvent.objects.create(
        sequence=7,
        at=timezone.now(),
        actor_name="mallory",
        source="api",
        action="deployment.promoted",
        object_type="deployment",
        object_id="1",
        prev_hash=newest.hash,
        hash="e" * 64,
        scheme=newest.scheme,
        key_id=newest.key_id,
    )

    result = audit_verify()

    assert not result.ok
    assert "event #7 lies beyond the chain head" in messages(result)


def test_an_emptied_trail_with_its_head_deleted_is_detected(anchored_chain):
    AuditEvent.objects.all().delete()
    AuditChainHead.objects.all().delete()

    result = audit_verify()

    assert not result.ok
    assert "the chain head is missing" in messages(result)
    assert "events #1 to #6 were removed: the checkpoint of" in messages(result)


def test_a_forged_checkpoint_cannot_vouch_for_a_rewritten_trail(anchored_chain, settings):
    """Appending a checkpoint for a shortened chain needs the key: without it the line is refused."""
    AuditEvent.objects.filter(sequence__gte=5).delete()
    AuditChainHead.objects.filter(pk=1).update(last_sequence=4, last_hash=anchored_chain[3].hash)
    with open(settings.GATEHOUSE_AUDIT_ANCHOR_FILE, "a") as anchor:
        anchor.write(
            json.dumps(
                {
                    "sequence": 4,
                    "head_hash": anchored_chain[3].hash,
                    "at": "2099-01-01T00:00:00+00:00",
                    "key_id": anchored_chain[0].key_id,
                    "signature": "0" * 64,
                }
            )
            + "\n"
        )

    result = audit_verify()

    assert "line 2 of the anchor file has a bad signature" in messages(result)
    assert "events #5 to #6 were removed" in messages(result)


def test_the_verify_command_lists_them_all_and_fails(anchored_chain):
    AuditEvent.objects.filter(sequence=2).update(action="prompt.deleted")
    AuditEvent.objects.filter(sequence__gte=5).delete()
    AuditChainHead.objects.filter(pk=1).update(last_sequence=4, last_hash=anchored_chain[3].hash)
    out = StringIO()

    with pytest.raises(CommandError, match="2 problems"):
        call_command("audit_verify", stdout=out)

    assert "  - event #2 was altered" in out.getvalue()
    assert "  - events #5 to #6 were removed: the checkpoint of" in out.getvalue()
