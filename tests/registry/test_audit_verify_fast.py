"""``audit_verify`` reads the trail without the ORM's per-row work and writes each keyed event's canonical
body key by key (``_keyed_body``): what it hashes must stay byte for byte what ``compute_event_hash``
hashes, so chains made before still verify, and every field is still covered."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.utils import timezone as django_timezone

from registry.models import AuditChainHead, AuditEvent
from registry.services import audit_verify, prompt_version_create
from registry.services.audit import (
    SCHEME_KEYED,
    AuditKeys,
    _keyed_body,
    canonical,
    canonical_json,
    compute_event_hash,
)

KEYS = AuditKeys("k1", {"k1": b"golden-key"}, derived=False)

CASES = [
    dict(
        sequence=1,
        at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        actor_id=7,
        actor_name="ana",
        source="web",
        request_id="r1",
        action="feature.updated",
        object_type="aifeature",
        object_id="12",
        object_repr="Claims triage",
        feature_id=12,
        payload={"changes": {"monitors": ["a", ""]}, "n": 3},
        prev_hash="0" * 64,
    ),
    dict(
        sequence=2,
        at=datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=timezone(timedelta(hours=2))),
        actor_id=None,
        actor_name="system",
        source="task",
        request_id="",
        action="évaluation.recorded",
        object_type="evaluation",
        object_id=99,
        object_repr='Ünïcode ✓ "quoted" \\ back\nline',
        feature_id=None,
        payload={
            "score": 0.95,
            "zero": -0.0,
            "big": 1e17,
            "list": [1, 2.5, {"b": 1, "a": None}],
            "t": True,
            "u": "ß€😀",
        },
        prev_hash="a" * 64,
    ),
    dict(
        sequence=3,
        at=datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=UTC),
        actor_id=1,
        actor_name="x",
        source="api",
        request_id="abc",
        action="a",
        object_type="b",
        object_id="c",
        object_repr="",
        feature_id=5,
        payload={},
        prev_hash="b" * 64,
    ),
]
# Computed with compute_event_hash before the verifier was rewritten (keyed, then legacy): they must not move.
GOLDEN = [
    (
        "dd222debda4ccf76de4e829e378ddcade5ce9f88f6367a907bce008c92371e9c",
        "a4b716bcb606055e503a0fd70665e5f1cb941274d3b111b0a15cd88e975026e0",
    ),
    (
        "065d69004c23008cf5a69838bb49cba11ff1a5c7015fda182f79636f9a7d0e4c",
        "e0cafebc320248177a412618f2ecd686e455c7c3353aed2959ca7c64f9aea571",
    ),
    (
        "5660bad33c16b0f5e040fb34c54e8ad6727caf1bbcad4b938ec758e1dfc3c70b",
        "8fda1f4140d6db6b4cf371b5066d69b300f3b7f195a0a3922943ed536f105272",
    ),
]


@pytest.mark.parametrize("case,golden", list(zip(CASES, GOLDEN)))
def test_event_hashes_are_those_chains_were_made_with(case, golden):
    assert compute_event_hash(**case, scheme=SCHEME_KEYED, key_id="k1", keys=KEYS) == golden[0]
    assert compute_event_hash(**case) == golden[1]


ODD_VALUES = [
    "plain",
    "",
    'q"uo\\te',
    "ctrl\x00\x1f\t",
    "ünï ✓ 😀 \u2028",
    0,
    -12,
    10**30,
    None,
    True,
    1.5,
    -0.0,
    1e17,
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
def test_the_verifiers_body_is_byte_for_byte_the_canonical_json_of_the_fields(case, value):
    """Every field that is not the payload, given any value a row could hold, and the payload as it is."""
    fields = {key: item for key, item in case.items() if key != "prev_hash"}
    fields["at"] = fields["at"].astimezone(UTC).isoformat()
    for name in ("actor_id", "actor_name", "source", "request_id", "action", "object_type", "object_id"):
        changed = {**fields, name: value}
        expected = canonical_json(
            {
                **changed,
                "source": str(changed["source"]),
                "object_id": str(changed["object_id"]),
                "scheme": 2,
                "key_id": "k",
            }
        )
        body = _keyed_body(
            **{key: item for key, item in changed.items() if key not in ("at", "payload")},
            at_utc=changed["at"],
            payload=canonical(changed["payload"]),
            scheme=2,
            key_id="k",
        )
        assert body == expected


@pytest.fixture
def chain(ml_engineer, tamper):
    for name in ("alpha", "bravo", "charlie", "delta", "echo"):
        prompt_version_create(actor=ml_engineer, name=name, template=f"Sort this claim ({name}): {{{{ claim }}}}")
    return list(AuditEvent.objects.order_by("sequence"))


# The fields test_audit_chain.py does not alter already, and subtler changes to those it does.
TAMPERS = {
    "actor_id": lambda event: {"actor_id": None},
    "object_type": lambda event: {"object_type": "aifeature"},
    "feature_id_set": lambda event: {"feature_id": None} if event.feature_id else {"object_type": "x"},
    "at_by_a_microsecond": lambda event: {"at": event.at + timedelta(microseconds=1)},
    "payload_number_as_float": lambda event: {"payload": {**event.payload, "version": 1.5}},
    "payload_key_added": lambda event: {"payload": {**event.payload, "extra": None}},
    "payload_unicode": lambda event: {"payload": {**event.payload, "name": "chärlie"}},
    "object_repr_trailing_space": lambda event: {"object_repr": event.object_repr + " "},
}


@pytest.mark.parametrize("tamper_with", TAMPERS.values(), ids=TAMPERS.keys())
def test_altering_any_hashed_field_is_detected_at_that_event(chain, tamper_with):
    AuditEvent.objects.filter(sequence=3).update(**tamper_with(chain[2]))

    result = audit_verify()

    assert [(problem.sequence, problem.message) for problem in result.problems] == [(3, "event #3 was altered")]
    assert result.checked == 5 and not result.ok


def test_an_unknown_key_id_is_reported_not_taken_for_tampering(chain):
    AuditEvent.objects.filter(sequence=2).update(key_id="retired-key")

    result = audit_verify()

    assert [problem.sequence for problem in result.problems] == [2]
    assert "which is not configured" in result.problems[0].message


def test_a_rewritten_hash_breaks_the_event_and_the_link_to_the_next(chain):
    AuditEvent.objects.filter(sequence=3).update(hash="f" * 64)

    result = audit_verify()

    assert [(problem.sequence, problem.message) for problem in result.problems] == [
        (3, "event #3 was altered"),
        (4, "event #4 does not link to event #3"),
    ]


def test_a_chain_longer_than_a_chunk_verifies_and_reports_progress(chain, ml_engineer):
    seen = []

    result = audit_verify(chunk_size=2, progress=seen.append, progress_every=2)

    assert result.ok and result.checked == 5 and seen == [2, 4]
    head = AuditChainHead.objects.get(pk=1)
    assert result.last_sequence == head.last_sequence == 5
    assert AuditEvent.objects.get(sequence=5).at <= django_timezone.now()
