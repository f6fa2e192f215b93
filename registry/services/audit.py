"""The audit trail: append-only, hash-chained, written in the transaction that makes the change."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import queue
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Min
from django.db.models.expressions import RawSQL
from django.utils import timezone

from core.audit_context import current_audit_context
from registry import extensions
from registry.models import AuditChainHead, AuditEvent
from registry.selectors import audit_trail_position

GENESIS_HASH = "0" * 64

# How an event's hash is made, recorded per event so a chain made before a change still verifies as made.
SCHEME_LEGACY = 1  # SHA-256 of the fields as given (events recorded before the chain was keyed)
SCHEME_KEYED = 2  # HMAC-SHA256 with the key named by key_id, over numbers in canonical form (see canonical_json)


# --- Keys ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditKeys:
    current_id: str
    keys: dict[str, bytes]  # every key verification may meet: the current one, retired ones, the derived one
    derived: bool  # the current key is derived from SECRET_KEY (no GATEHOUSE_AUDIT_KEY set)


def _fingerprint(prefix: str, key: bytes) -> str:
    return f"{prefix}-{hashlib.sha256(key).hexdigest()[:10]}"


def audit_keys() -> AuditKeys:
    """The keys from the environment (read each time, so a test or a rotation needs no restart of this module).

    GATEHOUSE_AUDIT_KEY makes new events, named by GATEHOUSE_AUDIT_KEY_ID (by default a fingerprint);
    GATEHOUSE_AUDIT_OLD_KEYS ("id:key,id:key") keeps retired keys for verification. The key derived from
    SECRET_KEY is always known too, under a fingerprinted id: a trail begun without a key of its own still
    verifies once one is set, and a changed SECRET_KEY shows up as an unknown key id, not as tampering.
    """
    derived_key = hmac.new(settings.SECRET_KEY.encode("utf-8"), b"gatehouse.audit-chain", hashlib.sha256).digest()
    derived_id = _fingerprint("derived", derived_key)
    keys = {derived_id: derived_key}
    for item in settings.GATEHOUSE_AUDIT_OLD_KEYS.split(","):
        key_id, sep, key = item.strip().partition(":")
        if sep and key_id.strip() and key:
            keys[key_id.strip()] = key.encode("utf-8")
    if settings.GATEHOUSE_AUDIT_KEY:
        key = settings.GATEHOUSE_AUDIT_KEY.encode("utf-8")
        current_id = settings.GATEHOUSE_AUDIT_KEY_ID or _fingerprint("key", key)
        keys[current_id] = key
        return AuditKeys(current_id, keys, derived=False)
    return AuditKeys(derived_id, keys, derived=True)


# --- Canonical form --------------------------------------------------------------------------------------


class NotCanonical(ValueError):
    """A value the trail cannot keep exactly (NaN, infinity)."""


def canonical(value: Any) -> Any:
    """The JSON value in the one form every store gives back unchanged.

    PostgreSQL's jsonb keeps numbers as decimals: -0.0 comes back as 0.0, and a float written with an
    exponent (any integral float of 1e16 or more, e.g. 12345678901234567890.0) comes back as an integer.
    So zero is 0.0 and such floats are their exact integers; NaN and infinity cannot be stored at all.
    Applying it again changes nothing, so the verifier applies it to what it reads.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:  # the common leaves first (the verifier's loop)
        return value
    if kind is dict:
        return {key if type(key) is str else str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotCanonical("audit payloads take finite numbers only (no NaN or Infinity)")
        if value == 0:
            return 0.0
        if value.is_integer() and abs(value) >= 1e16:
            return int(value)
        return value
    if isinstance(value, dict):
        return {str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    return value


def _normalise(payload: dict[str, Any]) -> dict[str, Any]:
    """What the database will give back: JSON types only (dates, decimals and UUIDs as strings), in canonical form."""
    try:
        return canonical(json.loads(json.dumps(payload, cls=DjangoJSONEncoder, allow_nan=False)))
    except ValueError as error:
        raise NotCanonical(str(error)) from None


# json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False), made once.
_encode_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_encode_string = json.encoder.encode_basestring  # how that encoder writes a string (ensure_ascii off)


def canonical_json(value: Any) -> str:
    return _encode_canonical(canonical(value))


def _scalar(value: Any) -> str:
    """``canonical_json`` of one field that is not the payload: what the encoder writes for it."""
    kind = type(value)
    if kind is str:
        return _encode_string(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return _encode_canonical(canonical(value))


def _keyed_body(
    *,
    sequence: int,
    at_utc: str,
    actor_id,
    actor_name,
    source,
    request_id,
    action,
    object_type,
    object_id,
    object_repr,
    feature_id,
    payload,
    scheme: int,
    key_id,
) -> str:
    """What ``compute_event_hash`` hashes for a keyed event (``canonical_json`` of its fields with the scheme
    and key id), written out key by key in sorted order; ``payload`` must already be canonical. Byte for
    byte the same (``tests/registry/test_audit_verify_fast.py``): the verifier's loop uses it."""
    s = _scalar
    return (
        f'{{"action":{s(action)},"actor_id":{s(actor_id)},"actor_name":{s(actor_name)},"at":{s(at_utc)},'
        f'"feature_id":{s(feature_id)},"key_id":{s(key_id)},"object_id":{s(str(object_id))},'
        f'"object_repr":{s(object_repr)},"object_type":{s(object_type)},"payload":{_encode_canonical(payload)},'
        f'"request_id":{s(request_id)},"scheme":{s(scheme)},"sequence":{s(sequence)},"source":{s(str(source))}}}'
    )


def compute_event_hash(
    *,
    sequence: int,
    at,
    actor_id: int | None,
    actor_name: str,
    source: str,
    request_id: str,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    feature_id: int | None,
    payload: dict[str, Any],
    prev_hash: str,
    scheme: int = SCHEME_LEGACY,
    key_id: str = "",
    keys: AuditKeys | None = None,
) -> str:
    """The event's hash under its scheme. Keyed: raises KeyError when key_id is not a configured key."""
    fields = {
        "sequence": sequence,
        "at": at.astimezone(UTC).isoformat(),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "source": str(source),
        "request_id": request_id,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "object_repr": object_repr,
        "feature_id": feature_id,
        "payload": payload,
    }
    if scheme == SCHEME_LEGACY:
        body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()
    if scheme != SCHEME_KEYED:
        raise KeyError(f"scheme {scheme}")
    key = (keys or audit_keys()).keys[key_id]
    body = canonical_json({**fields, "scheme": scheme, "key_id": key_id})
    return hmac.new(key, (prev_hash + body).encode("utf-8"), hashlib.sha256).hexdigest()


def _lock_head() -> AuditChainHead:
    if connection.vendor == "postgresql":
        # Foreign keys are checked at commit by default (deferred), and a check locks the row it
        # points at (FOR KEY SHARE). Checked then, after the chain lock, they would take row locks
        # after it and deadlock with a writer holding such a row while it waits for the chain: run
        # the pending checks now, so the chain lock really is the last lock taken.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditChainHead.objects.get_or_create(pk=1)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def _event_fields(
    *, actor, action, target, object_type, object_id, object_repr, feature, payload, context, at
) -> dict[str, Any]:
    """Exactly the fields the hash covers, less the sequence and previous hash."""
    if target is not None:
        object_type = object_type or target._meta.model_name
        object_id = target.pk if object_id is None else object_id
    if not object_type or object_id is None:
        raise ValueError("audit_record needs a target or an object_type and object_id")
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return {
        "at": at,
        "actor_id": actor.pk if is_user else None,
        "actor_name": actor.get_username() if is_user else "system",
        "source": context.source,
        "request_id": context.request_id,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "object_repr": (str(target) if object_repr is None and target is not None else object_repr or "")[:200],
        "feature_id": feature.pk if feature is not None else None,
        "payload": _normalise(payload or {}),
    }


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must be called inside the transaction that makes the change")


def audit_record(
    *,
    actor,
    action: str,
    target=None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    feature=None,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Must run inside the transaction of the change it records.

    The chain head row is locked for the rest of the transaction, so appends are serialised and the
    sequence has no gaps; a rolled-back change takes its audit event with it. Because every writer
    takes this lock, take it last: lock the rows you change first, then record.
    """
    return audit_record_many(
        [
            dict(
                actor=actor,
                action=action,
                target=target,
                object_type=object_type,
                object_id=object_id,
                feature=feature,
                payload=payload,
            )
        ]
    )[0]


def audit_person(*, actor, action: str, person, payload: dict[str, Any] | None = None) -> AuditEvent:
    """``audit_record`` for a change to a person (roles, teams, sessions, their account): the event names
    them by id and, first in its payload, by username."""
    return audit_record(
        actor=actor,
        action=action,
        object_type="user",
        object_id=person.pk,
        payload={"user": person.get_username(), **(payload or {})},
    )


def audit_record_many(entries: list[dict[str, Any]]) -> list[AuditEvent]:
    """Append many events in one insert: for set-based changes (the freshness sweep) whose query count
    must not grow with the number of rows changed. Each entry takes ``audit_record``'s arguments.
    Same rules: inside the change's transaction, and the chain lock last."""
    _require_transaction()
    if not entries:
        return []
    context = current_audit_context()
    head = _lock_head()
    now = timezone.now()  # after the lock: times follow the sequence
    rows = []
    for entry in entries:
        fields = _event_fields(
            actor=entry.get("actor"),
            action=entry["action"],
            target=entry.get("target"),
            object_type=entry.get("object_type"),
            object_id=entry.get("object_id"),
            object_repr=entry.get("object_repr"),
            feature=entry.get("feature"),
            payload=entry.get("payload"),
            context=context,
            at=now,
        )
        rows.append(fields)
    keys = audit_keys()
    sequence, prev_hash = head.last_sequence, head.last_hash
    events = []
    for fields in rows:
        sequence += 1
        fields = {
            **fields,
            "sequence": sequence,
            "prev_hash": prev_hash,
            "scheme": SCHEME_KEYED,
            "key_id": keys.current_id,
        }
        prev_hash = compute_event_hash(**fields, keys=keys)
        events.append(AuditEvent(**fields, hash=prev_hash))
    if len(events) == 1:
        events[0].save(force_insert=True)
    else:
        # One statement however many events (SQLite, the demo's database, splits it as it must).
        AuditEvent.objects.bulk_create(events)
    AuditChainHead.objects.filter(pk=1).update(last_sequence=sequence, last_hash=prev_hash)
    extensions.audit_appended(events)
    return events


# --- Verification ----------------------------------------------------------------------------------------

PROBLEMS_KEPT = 1000  # problems kept in full; the count goes on


@dataclass(frozen=True)
class ChainProblem:
    sequence: int | None
    message: str


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    checked: int  # events read and judged
    problems: tuple[ChainProblem, ...] = ()  # the first PROBLEMS_KEPT, in the order found
    problem_count: int = 0
    message: str = ""
    last_sequence: int | None = None  # the newest event read
    checkpoints: int = 0  # signed checkpoints the chain was held against
    notes: tuple[str, ...] = ()  # what weakens the proof without being a fault (no anchor yet, derived key)
    anchored_at: int | None = None  # events up to this sequence were purged under retention: verified from its hash

    @property
    def broken_sequence(self) -> int | None:
        """The first bad event (where the chain first stops holding), or None."""
        return self.problems[0].sequence if self.problems else None


@dataclass(frozen=True)
class Checkpoint:
    sequence: int
    head_hash: str
    at: str
    key_id: str
    signature: str

    def signed_fields(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "head_hash": self.head_hash, "at": self.at, "key_id": self.key_id}

    def as_dict(self) -> dict[str, Any]:
        return {**self.signed_fields(), "signature": self.signature}


def checkpoint_signature(fields: dict[str, Any], *, key: bytes) -> str:
    return hmac.new(key, canonical_json(fields).encode("utf-8"), hashlib.sha256).hexdigest()


def read_anchor_lines(lines, *, keys: AuditKeys, source: str = "the anchor file"):
    """Parse JSON lines of checkpoints. Returns (checkpoints whose signature holds, problems with the rest)."""
    checkpoints, problems = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            checkpoint = Checkpoint(
                sequence=int(data["sequence"]),
                head_hash=str(data["head_hash"]),
                at=str(data["at"]),
                key_id=str(data["key_id"]),
                signature=str(data["signature"]),
            )
        except (ValueError, KeyError, TypeError):
            problems.append(ChainProblem(None, f"line {number} of {source} is not a checkpoint"))
            continue
        key = keys.keys.get(checkpoint.key_id)
        if key is None:
            problems.append(
                ChainProblem(
                    None,
                    f"the checkpoint on line {number} of {source} was signed with key "
                    f"{checkpoint.key_id!r}, which is not configured (GATEHOUSE_AUDIT_OLD_KEYS)",
                )
            )
            continue
        if not hmac.compare_digest(checkpoint_signature(checkpoint.signed_fields(), key=key), checkpoint.signature):
            problems.append(
                ChainProblem(
                    None, f"the checkpoint on line {number} of {source} has a bad signature (forged or altered)"
                )
            )
            continue
        checkpoints.append(checkpoint)
    return checkpoints, problems


def read_anchor_file(path: str, *, keys: AuditKeys):
    """The checkpoints of the anchor file. A configured file that is missing is itself a problem once the
    chain has events (it is where the chain's history is vouched for); the caller decides."""
    try:
        with open(path, encoding="utf-8") as handle:
            return read_anchor_lines(handle, keys=keys)
    except FileNotFoundError:
        return None, []
    except OSError as error:
        return [], [ChainProblem(None, f"the anchor file cannot be read: {error.strerror or error}")]


_VERIFY_FIELDS = (
    "sequence",
    "at",
    "actor_id",
    "actor_name",
    "source",
    "request_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "feature_id",
    "payload",
    "prev_hash",
    "scheme",
    "key_id",
    "hash",
)


class _Findings:
    def __init__(self):
        self.kept: list[ChainProblem] = []
        self.count = 0

    def add(self, sequence: int | None, message: str) -> None:
        self.count += 1
        if len(self.kept) < PROBLEMS_KEPT:
            self.kept.append(ChainProblem(sequence, message))


def _span(first: int, last: int) -> str:
    return f"event #{first}" if first == last else f"events #{first} to #{last}"


# ``at.astimezone(UTC).isoformat()``, written by PostgreSQL: microseconds only when there are some.
_AT_UTC = (
    "replace(to_char(\"{table}\".\"at\" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || '+00:00'"
)


def _verify_rows(chunk_size: int):
    """Every event's ``_VERIFY_FIELDS`` as tuples, in sequence order, read in chunks.

    On PostgreSQL straight from a server-side cursor, without the ORM's per-row converters: ``at`` as the
    text ``datetime.isoformat`` writes for it in UTC (``_AT_UTC``: the database writes it, on its own core)
    and ``payload`` as jsonb's text, which the caller parses with ``json.loads`` as the model field does.
    Elsewhere through the ORM (``at`` an aware datetime).
    """
    queryset = AuditEvent.objects.order_by("sequence")
    if connection.vendor != "postgresql":
        yield from queryset.values_list(*_VERIFY_FIELDS).iterator(chunk_size=chunk_size)
        return
    fields = ["at_utc" if field == "at" else field for field in _VERIFY_FIELDS]
    queryset = queryset.annotate(at_utc=RawSQL(_AT_UTC.format(table=AuditEvent._meta.db_table), ()))
    sql, params = queryset.values_list(*fields).query.sql_with_params()
    with connection.chunked_cursor() as cursor:
        raw = getattr(cursor, "cursor", cursor)  # Django's wrapper around psycopg's cursor
        raw.itersize = chunk_size
        cursor.execute(sql, params)
        yield from _read_ahead(raw.fetchmany, chunk_size)


def _read_ahead(fetch, size: int):
    """The rows of ``fetch(size)``, called until it gives none, each next chunk fetched by a thread while
    the caller works through the one before: the database's time to produce the rows (the server runs on
    another core) hidden behind the verifier's. The same cursor and connection (psycopg serialises their
    use: the caller may write between chunks, as the verification's progress does), at most two chunks
    ahead. An error reading is raised to the caller; a caller that stops early stops the thread."""
    chunks: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                rows = fetch(size)
                chunks.put(rows)
                if not rows:
                    return
        except BaseException as error:  # noqa: BLE001 - handed to the caller, raised there
            chunks.put(error)

    reader = threading.Thread(target=read, name="audit-verify-reader", daemon=True)
    reader.start()
    try:
        while True:
            rows = chunks.get()
            if isinstance(rows, BaseException):
                raise rows
            if not rows:
                return
            yield from rows
    finally:
        stop.set()
        while reader.is_alive():  # a reader waiting to put a chunk nobody will take: take it
            try:
                chunks.get(timeout=0.05)
            except queue.Empty:
                pass
        reader.join()


_IPAD = bytes(byte ^ 0x36 for byte in range(256))
_OPAD = bytes(byte ^ 0x5C for byte in range(256))


def _hmac_sha256(key: bytes):
    """``hmac.digest(key, message, "sha256").hex()`` as a function of ``message``, with the key's inner and
    outer blocks hashed once (RFC 2104's construction, as the standard library's ``hmac`` builds it): half
    the cost a call for the verifier, which signs every event again with one of a few keys."""
    if len(key) > 64:  # SHA-256's block size
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner, outer = hashlib.sha256(key.translate(_IPAD)), hashlib.sha256(key.translate(_OPAD))

    def sign(message: bytes) -> str:
        hashed = inner.copy()
        hashed.update(message)
        signed = outer.copy()
        signed.update(hashed.digest())
        return signed.hexdigest()

    return sign


def audit_verify(
    *, chunk_size: int = 5000, anchors: list[str] | None = None, progress=None, progress_every: int = 500
) -> ChainVerification:
    """Walk the whole chain and report every bad event, not just the first.

    Each event must follow the one before (no gap), link to its hash, and hash to what it records under
    its scheme and key; the chain head must be the newest event; no event may lie beyond the head; and
    every signed checkpoint published outside the database must still hold: the event it names exists
    with the hash it names. ``anchors`` are the checkpoint lines to hold it against (JSON lines); by
    default the file GATEHOUSE_AUDIT_ANCHOR_FILE, if set. ``progress``, if given, is called with the
    number of events checked so far every ``progress_every`` events (the verification page's progress).
    """
    keys = audit_keys()
    findings = _Findings()
    if anchors is not None:
        checkpoints, anchor_problems = read_anchor_lines(anchors, keys=keys, source="the checkpoints given")
    elif settings.GATEHOUSE_AUDIT_ANCHOR_FILE:
        checkpoints, anchor_problems = read_anchor_file(settings.GATEHOUSE_AUDIT_ANCHOR_FILE, keys=keys)
    else:
        checkpoints, anchor_problems = [], []
    anchor_file_missing = checkpoints is None
    checkpoints = checkpoints or []
    for problem in anchor_problems:
        findings.add(problem.sequence, problem.message)
    vouched: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        if checkpoint.sequence > 0:
            vouched.setdefault(checkpoint.sequence, []).append(checkpoint)

    # The head first: events committed while we read carry a head at least as far, read again at the end.
    head = AuditChainHead.objects.filter(pk=1).first()
    head_sequence = head.last_sequence if head is not None else None
    head_event_hash = None
    expected_sequence = 1
    previous_hash = GENESIS_HASH
    # A trail purged under retention begins after the anchor its purge event names (its hash is checked
    # with the other events as the walk reaches it): the walk starts from that anchor.
    anchor = _purge_anchor()
    if anchor is not None:
        expected_sequence, previous_hash = anchor["through_sequence"] + 1, anchor["anchor_hash"]
        for checkpoint in checkpoints:
            if checkpoint.sequence == anchor["through_sequence"] and checkpoint.head_hash != anchor["anchor_hash"]:
                findings.add(
                    expected_sequence,
                    f"the purge recorded by event #{anchor['event']} anchors the trail at #{anchor['through_sequence']} "
                    f"with a hash the checkpoint of {checkpoint.at} does not vouch for",
                )
    keyed_seen = False
    checked = 0
    last_sequence = 0
    beyond_head: list[int] = []
    signers = {key_id: _hmac_sha256(key) for key_id, key in keys.keys.items()}
    signer_of = signers.get
    loads = json.loads
    scan = json.JSONDecoder().scan_once
    compare = hmac.compare_digest
    for (
        sequence,
        at,
        actor_id,
        actor_name,
        source,
        request_id,
        action,
        object_type,
        object_id,
        object_repr,
        feature_id,
        payload,
        prev_hash,
        scheme,
        key_id,
        event_hash,
    ) in _verify_rows(chunk_size):
        if type(payload) is str:  # PostgreSQL's jsonb text (_verify_rows): parsed as the model field would
            try:  # the C scanner straight away (jsonb's text is one value, no surrounding space) ...
                parsed, end = scan(payload, 0)
            except StopIteration:
                end = -1
            payload = parsed if end == len(payload) else loads(payload)  # ... else exactly as json.loads
        if sequence != expected_sequence:
            gap = _span(expected_sequence, sequence - 1)
            findings.add(
                expected_sequence,
                f"{gap} {'is' if gap.startswith('event ') else 'are'} missing (the next is #{sequence})",
            )
        elif prev_hash != previous_hash:  # (after a gap the event it links to is the missing one)
            findings.add(sequence, f"event #{sequence} does not link to event #{sequence - 1}")
        if scheme == SCHEME_LEGACY and keyed_seen:
            # Made without the key after keyed events: someone rewrote it without the key.
            findings.add(sequence, f"event #{sequence} is unkeyed but follows keyed events (forged)")
        else:
            keyed_seen = keyed_seen or scheme == SCHEME_KEYED
            try:
                if scheme == SCHEME_KEYED:
                    # compute_event_hash's keyed branch, unrolled: the canonical payload once, the other
                    # fields as they are (canonical leaves strings, integers and None alone), one HMAC call.
                    sign = signer_of(key_id)
                    if sign is None:
                        raise KeyError(key_id)
                    body = _keyed_body(
                        sequence=sequence,
                        at_utc=at if type(at) is str else at.astimezone(UTC).isoformat(),
                        actor_id=actor_id,
                        actor_name=actor_name,
                        source=source,
                        request_id=request_id,
                        action=action,
                        object_type=object_type,
                        object_id=object_id,
                        object_repr=object_repr,
                        feature_id=feature_id,
                        payload=canonical(payload),
                        scheme=scheme,
                        key_id=key_id,
                    )
                    recomputed = sign((prev_hash + body).encode("utf-8"))
                else:
                    recomputed = compute_event_hash(
                        sequence=sequence,
                        at=datetime.fromisoformat(at) if type(at) is str else at,
                        actor_id=actor_id,
                        actor_name=actor_name,
                        source=source,
                        request_id=request_id,
                        action=action,
                        object_type=object_type,
                        object_id=object_id,
                        object_repr=object_repr,
                        feature_id=feature_id,
                        payload=payload,
                        prev_hash=prev_hash,
                        scheme=scheme,
                        key_id=key_id,
                        keys=keys,
                    )
            except KeyError:
                findings.add(
                    sequence,
                    f"event #{sequence} was made with key {key_id!r}, which is not configured "
                    "(keep retired keys in GATEHOUSE_AUDIT_OLD_KEYS)",
                )
            except NotCanonical:
                findings.add(sequence, f"event #{sequence} was altered (its payload holds a value no store keeps)")
            else:
                if not compare(recomputed, event_hash):
                    findings.add(sequence, f"event #{sequence} was altered")
        if vouched:
            for checkpoint in vouched.get(sequence, ()):
                if checkpoint.head_hash != event_hash:
                    findings.add(
                        sequence,
                        f"event #{sequence} is not the one the checkpoint of {checkpoint.at} vouches "
                        "for: the trail was rewritten from there on",
                    )
        if head_sequence is not None:
            if sequence == head_sequence:
                head_event_hash = event_hash
            elif sequence > head_sequence:
                beyond_head.append(sequence)
        previous_hash = event_hash
        expected_sequence = sequence + 1
        last_sequence = sequence
        checked += 1
        if progress is not None and checked % progress_every == 0:
            progress(checked)

    if head is None:
        findings.add(
            last_sequence or None,
            "the chain head is missing"
            + ("" if checked else " (the migrations create it; an empty trail without it was emptied)"),
        )
    else:
        if head.last_sequence > last_sequence:
            findings.add(
                last_sequence + 1,
                f"{_span(last_sequence + 1, head.last_sequence)} "
                f"{'was' if last_sequence + 1 == head.last_sequence else 'were'} removed "
                f"(the chain head is at #{head.last_sequence})",
            )
        elif head.last_sequence and head_event_hash != head.last_hash:
            findings.add(head.last_sequence, f"the chain head does not match event #{head.last_sequence}")
        elif head.last_sequence == 0 and head.last_hash != GENESIS_HASH:
            findings.add(None, "the chain head does not match the empty trail")
        if beyond_head:
            # Committed appends move the head in the same transaction: one still beyond it now was forged.
            head_now = audit_trail_position()
            for sequence in beyond_head:
                if head_now is None or sequence > head_now:
                    findings.add(sequence, f"event #{sequence} lies beyond the chain head (written without it: forged)")
    vouched_beyond = [checkpoint for checkpoint in checkpoints if checkpoint.sequence > last_sequence]
    if vouched_beyond:
        newest = max(vouched_beyond, key=lambda checkpoint: checkpoint.sequence)
        findings.add(
            last_sequence + 1,
            f"{_span(last_sequence + 1, newest.sequence)} "
            f"{'was' if last_sequence + 1 == newest.sequence else 'were'} removed: the "
            f"checkpoint of {newest.at} vouches for the chain up to #{newest.sequence}",
        )
    notes = []
    if anchor_file_missing:
        notes.append(
            "The anchor file GATEHOUSE_AUDIT_ANCHOR_FILE does not exist yet: nothing outside the database "
            "vouches for the chain until a checkpoint is taken (manage.py audit_checkpoint)."
        )
    elif anchors is None and not settings.GATEHOUSE_AUDIT_ANCHOR_FILE:
        notes.append(
            "No anchor file is set (GATEHOUSE_AUDIT_ANCHOR_FILE): the newest events could be removed "
            "together with the chain head without trace."
        )
    if keys.derived:
        notes.append("The chain is keyed with a key derived from SECRET_KEY: set GATEHOUSE_AUDIT_KEY in production.")
    if anchor is not None:
        vouched_anchor = any(
            checkpoint.sequence == anchor["through_sequence"] and checkpoint.head_hash == anchor["anchor_hash"]
            for checkpoint in checkpoints
        )
        notes.append(
            f"Events #{anchor['first_sequence']} to #{anchor['through_sequence']} were purged under the retention "
            f"(audit event #{anchor['event']}); the chain is verified from the anchor they left, the hash of "
            f"#{anchor['through_sequence']}"
            + (", which a signed checkpoint vouches for." if vouched_anchor else " as the purge event recorded it.")
        )

    against = f" against {len(checkpoints)} checkpoint{'s' if len(checkpoints) != 1 else ''}" if checkpoints else ""
    if findings.count:
        first = findings.kept[0].message
        message = first if findings.count == 1 else f"{findings.count} problems; the first: {first}"
        return ChainVerification(
            False,
            checked,
            tuple(findings.kept),
            findings.count,
            message,
            last_sequence or None,
            len(checkpoints),
            tuple(notes),
            anchor["through_sequence"] if anchor else None,
        )
    since = f" from the anchor at #{anchor['through_sequence']}" if anchor else ""
    message = f"{checked} events verified{since}{against}" if checked else f"no events recorded yet{against}"
    return ChainVerification(
        True,
        checked,
        (),
        0,
        message,
        last_sequence or None,
        len(checkpoints),
        tuple(notes),
        anchor["through_sequence"] if anchor else None,
    )


PURGED_ACTION = "audit.purged"


def _purge_anchor() -> dict | None:
    """Where a trail purged under retention begins: the purge event whose span ends just before the first
    event still stored, and links to the hash that event says it follows. None for a trail that begins at
    #1, or whose missing beginning no purge event explains (the walk then reports the gap)."""
    first_sequence = AuditEvent.objects.aggregate(first=Min("sequence"))["first"]
    if first_sequence is None or first_sequence == 1:
        return None
    first = AuditEvent.objects.filter(sequence=first_sequence).values("sequence", "prev_hash").first()
    if first is None:
        return None
    for sequence, payload in (
        AuditEvent.objects.filter(action=PURGED_ACTION, sequence__gt=first["sequence"] - 1)
        .order_by("-sequence")
        .values_list("sequence", "payload")
    ):
        if not isinstance(payload, dict):
            continue
        if (
            payload.get("through_sequence") == first["sequence"] - 1
            and payload.get("anchor_hash") == first["prev_hash"]
        ):
            return {
                "event": sequence,
                "first_sequence": payload.get("first_sequence", 1),
                "through_sequence": first["sequence"] - 1,
                "anchor_hash": first["prev_hash"],
            }
    return None


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """The fields that differ, as ``{field: [old, new]}``, for an audit payload."""
    return {key: [before.get(key), after.get(key)] for key in after if before.get(key) != after.get(key)}
