"""The audit trail: append-only, hash-chained, written in the transaction that makes the change."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timezone as dt_timezone
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from registry import extensions
from registry.audit_context import current_audit_context
from registry.models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64


def _normalise(payload: dict[str, Any]) -> dict[str, Any]:
    """What the database will give back: JSON types only (dates, decimals and UUIDs as strings)."""
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


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
) -> str:
    body = json.dumps(
        {
            "sequence": sequence,
            "at": at.astimezone(dt_timezone.utc).isoformat(),
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
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


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
        [dict(actor=actor, action=action, target=target, object_type=object_type, object_id=object_id,
              feature=feature, payload=payload)]
    )[0]


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
            actor=entry.get("actor"), action=entry["action"], target=entry.get("target"),
            object_type=entry.get("object_type"), object_id=entry.get("object_id"),
            object_repr=entry.get("object_repr"), feature=entry.get("feature"),
            payload=entry.get("payload"), context=context, at=now,
        )
        rows.append(fields)
    sequence, prev_hash = head.last_sequence, head.last_hash
    events = []
    for fields in rows:
        sequence += 1
        fields = {**fields, "sequence": sequence, "prev_hash": prev_hash}
        prev_hash = compute_event_hash(**fields)
        events.append(AuditEvent(**fields, hash=prev_hash))
    if len(events) == 1:
        events[0].save(force_insert=True)
    else:
        # One statement however many events (SQLite, the demo's database, splits it as it must).
        AuditEvent.objects.bulk_create(events)
    AuditChainHead.objects.filter(pk=1).update(last_sequence=sequence, last_hash=prev_hash)
    extensions.audit_appended(events)
    return events


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    checked: int
    broken_sequence: int | None = None
    message: str = ""


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
    "hash",
)


def audit_verify(*, chunk_size: int = 5000) -> ChainVerification:
    """Walk the chain from the first event: every sequence present, every link and hash intact."""
    # The head first: events appended while we read are beyond it and are not judged this time.
    head = AuditChainHead.objects.filter(pk=1).first()
    expected_sequence = 1
    previous_hash = GENESIS_HASH
    checked = 0
    rows = AuditEvent.objects.order_by("sequence")
    if head is not None:
        rows = rows.filter(sequence__lte=head.last_sequence)
    rows = rows.values_list(*_VERIFY_FIELDS).iterator(chunk_size=chunk_size)
    for row in rows:
        fields = dict(zip(_VERIFY_FIELDS, row))
        sequence = fields["sequence"]
        if sequence != expected_sequence:
            return ChainVerification(
                False, checked, expected_sequence, f"event #{expected_sequence} is missing (the next is #{sequence})"
            )
        if fields["prev_hash"] != previous_hash:
            return ChainVerification(
                False, checked, sequence, f"event #{sequence} does not link to event #{sequence - 1}"
            )
        recomputed = compute_event_hash(
            **{name: fields[name] for name in _VERIFY_FIELDS if name not in {"hash"}}
        )
        if recomputed != fields["hash"]:
            return ChainVerification(False, checked, sequence, f"event #{sequence} was altered")
        previous_hash = fields["hash"]
        expected_sequence += 1
        checked += 1
    last_sequence = expected_sequence - 1
    if head is None:
        if checked:
            return ChainVerification(False, checked, last_sequence, "the chain head is missing")
        return ChainVerification(True, 0, None, "no events recorded yet")
    if head.last_sequence != last_sequence or head.last_hash != previous_hash:
        if head.last_sequence > last_sequence:
            return ChainVerification(
                False,
                checked,
                last_sequence + 1,
                f"events #{last_sequence + 1} to #{head.last_sequence} were removed",
            )
        return ChainVerification(False, checked, head.last_sequence, "the chain head does not match the last event")
    return ChainVerification(True, checked, None, f"{checked} events verified")


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """The fields that differ, as ``{field: [old, new]}``, for an audit payload."""
    return {key: [before.get(key), after.get(key)] for key in after if before.get(key) != after.get(key)}
