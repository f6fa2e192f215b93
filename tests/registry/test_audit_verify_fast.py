"""``audit_verify`` reads the trail without the ORM's per-row work and writes each keyed event's canonical
body key by key (``_keyed_body``): what it hashes must stay byte for byte what ``compute_event_hash``
hashes, so chains made before still verify, and every field is still covered."""

import hmac
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils import timezone as django_timezone

from registry.models import AuditChainHead, AuditEvent
from registry.services import audit_verify, prompt_version_create
from registry.services.audit import (
    _AT_UTC,
    SCHEME_KEYED,
    AuditKeys,
    _hmac_sha256,
    _keyed_body,
    _read_ahead,
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

    def progress(checked):  # asks the database between chunks, as the verification page's progress does
        seen.append((checked, AuditChainHead.objects.values_list("last_sequence", flat=True).get(pk=1)))

    result = audit_verify(chunk_size=2, progress=progress, progress_every=2)

    assert result.ok and result.checked == 5 and seen == [(2, 5), (4, 5)]
    head = AuditChainHead.objects.get(pk=1)
    assert result.last_sequence == head.last_sequence == 5
    assert AuditEvent.objects.get(sequence=5).at <= django_timezone.now()


@pytest.mark.parametrize("length", [0, 1, 32, 64, 65, 200])
def test_the_verifiers_prepared_hmac_signs_as_the_standard_library_does(length):
    key = bytes(range(256))[:length]
    sign = _hmac_sha256(key)
    for message in (b"", b"x", "ünï ✓ 😀".encode() * 500, b"x"):  # the last again: the prepared state is kept
        assert sign(message) == hmac.digest(key, message, "sha256").hex()


def test_on_postgresql_the_database_writes_each_moment_as_the_verifier_hashes_it(chain, tamper):
    """The verifier reads ``at`` as text PostgreSQL writes (``_AT_UTC``); it must be ``isoformat`` in UTC
    to the character: with and without microseconds, stored from other time zones."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL writes the text; elsewhere the verifier formats the datetime itself")
    moments = [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 1, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
        datetime(1999, 2, 28, 0, 0, 0, 120000, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2030, 6, 1, 12, 0, 0, 100, tzinfo=timezone(timedelta(hours=14))),
    ]
    for event, moment in zip(chain, moments):
        AuditEvent.objects.filter(pk=event.pk).update(at=moment)
    written = AuditEvent.objects.annotate(
        at_utc=RawSQL(_AT_UTC.format(table=AuditEvent._meta.db_table), ())
    ).values_list("at", "at_utc")
    assert sorted(at_utc for _at, at_utc in written) == sorted(moment.astimezone(UTC).isoformat() for moment in moments)
    assert all(at_utc == at.astimezone(UTC).isoformat() for at, at_utc in written)


def test_reading_ahead_hands_over_every_row_in_order_and_raises_an_error_reading():
    chunks = iter([[1, 2], [3], [4, 5], []])
    assert list(_read_ahead(lambda size: next(chunks), 2)) == [1, 2, 3, 4, 5]

    def lost(size):
        raise OSError("connection lost")

    with pytest.raises(OSError, match="connection lost"):
        list(_read_ahead(lost, 2))


def test_a_verifier_that_stops_early_leaves_no_reader_behind():
    rows = _read_ahead(lambda size: [0] * size, 3)  # never ends
    assert next(rows) == 0
    rows.close()
    assert "audit-verify-reader" not in [thread.name for thread in threading.enumerate()]
