"""Purging the audit trail of what is older than its retention (``GATEHOUSE_AUDIT_RETENTION_DAYS``), so the
trail still verifies afterwards.

Only a whole span from the oldest event up to a **signed checkpoint** goes, and only when the checkpoint
and the event it names are both older than the retention: the event it names stays as the new anchor. The
checkpoints come from the anchor file when one is set (outside the database), else from the checkpoint
table, their signatures checked either way. Before anything goes, the whole chain must verify: a trail
that does not is left as it is, so the evidence of what went wrong is kept.

The purge is recorded in the chain it shortens (``audit.purged``: how many events, the first and last
removed with their times, the cutoff, the anchor's sequence and hash, the checkpoint). ``audit_verify``
starts from that anchor: the first remaining event must link to the hash the purge event names, and a
checkpoint of the anchor file at that sequence must vouch for the same hash. Removing events any other way
leaves a gap no keyed purge event explains, which verification reports as before.

On PostgreSQL the rows go through ``gatehouse_audit_purge(sequence, hash)``, a function owned by the tables'
owner (``registry/migrations/0024_audit_retention``): the append-only trigger lets a DELETE through only
inside it, only up to the sequence it was given and only for events older than 183 days. The application's
role is granted EXECUTE on that function and nothing more (docs/audit.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.locks import lock_name
from core.retention import cutoff
from registry.models import AuditCheckpoint, AuditEvent
from registry.selectors import audit_trail_position
from registry.services.audit import (
    Checkpoint,
    audit_keys,
    audit_record_many,
    audit_verify,
    checkpoint_signature,
    read_anchor_file,
)

SETTING = "GATEHOUSE_AUDIT_RETENTION_DAYS"
PURGED_ACTION = "audit.purged"


@dataclass
class AuditPurge:
    retention_days: int
    cutoff: datetime
    deleted: int = 0
    first_sequence: int | None = None
    through_sequence: int | None = None
    oldest: datetime | None = None
    newest: datetime | None = None
    checkpoint: Checkpoint | None = None
    event_sequence: int | None = None  # the audit.purged event
    dry_run: bool = False
    reason: str = ""  # why nothing was purged


def _checkpoint_at(checkpoint: Checkpoint) -> datetime | None:
    at = parse_datetime(checkpoint.at)
    return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)


def signed_checkpoints() -> list[Checkpoint]:
    """The checkpoints a purge may end at, each with a signature that holds: the anchor file's if one is
    set, else the checkpoint table's."""
    keys = audit_keys()
    path = settings.GATEHOUSE_AUDIT_ANCHOR_FILE
    if path:
        found, _problems = read_anchor_file(path, keys=keys)
        return list(found or [])
    checkpoints = []
    for row in AuditCheckpoint.objects.order_by("sequence", "at"):
        checkpoint = Checkpoint(
            sequence=row.sequence,
            head_hash=row.head_hash,
            at=row.at.astimezone(UTC).isoformat(),
            key_id=row.key_id,
            signature=row.signature,
        )
        key = keys.keys.get(checkpoint.key_id)
        if key is not None and checkpoint_signature(checkpoint.signed_fields(), key=key) == checkpoint.signature:
            checkpoints.append(checkpoint)
    return checkpoints


def _anchor(before: datetime) -> tuple[Checkpoint, dict] | None:
    """The newest signed checkpoint older than ``before`` whose event is older too, still holds its hash and
    is not the chain head (the head is never purged); with that event's fields."""
    head = audit_trail_position() or 0
    first = AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True).first()
    if first is None:
        return None
    candidates = [
        checkpoint
        for checkpoint in signed_checkpoints()
        if first <= checkpoint.sequence < head and (at := _checkpoint_at(checkpoint)) is not None and at < before
    ]
    for checkpoint in sorted(candidates, key=lambda checkpoint: checkpoint.sequence, reverse=True):
        event = AuditEvent.objects.filter(sequence=checkpoint.sequence).values("sequence", "hash", "at").first()
        if event is not None and event["hash"] == checkpoint.head_hash and event["at"] < before:
            return checkpoint, event
    return None


def _delete_through(sequence: int, anchor_hash: str) -> int:
    """Delete the events up to ``sequence`` (whose hash must be ``anchor_hash``): the one way rows leave the trail."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT gatehouse_audit_purge(%s, %s)", [sequence, anchor_hash])
            return int(cursor.fetchone()[0])
    deleted, _ = AuditEvent.objects.filter(sequence__lte=sequence).delete()
    return deleted


def audit_purge(*, now: datetime | None = None, dry_run: bool = False) -> AuditPurge:
    """Delete the oldest events up to the newest signed checkpoint older than the retention, and record it.

    Nothing goes when no such checkpoint exists, or when the trail does not verify (``reason`` says why).
    ``dry_run``: say what would go, delete nothing, record nothing. ``now``: the moment the retention counts
    back from (tests travel in time with it; PostgreSQL still refuses anything younger than 183 days)."""
    now = now or timezone.now()
    days, before = cutoff(SETTING, now)
    result = AuditPurge(retention_days=days, cutoff=before, dry_run=dry_run)
    found = _anchor(before)
    if found is None:
        result.reason = (
            f"No signed checkpoint older than {before:%Y-%m-%d} names an event still in the trail (other than its "
            "newest): nothing is old enough to purge."
        )
        return result
    checkpoint, anchor = found
    first = AuditEvent.objects.order_by("sequence").values("sequence", "at").first()
    result.checkpoint = checkpoint
    result.first_sequence, result.through_sequence = first["sequence"], anchor["sequence"]
    result.oldest, result.newest = first["at"], anchor["at"]
    if dry_run:
        result.deleted = AuditEvent.objects.filter(sequence__lte=anchor["sequence"]).count()
        return result
    verification = audit_verify()
    if not verification.ok:
        result.reason = (
            f"The trail does not verify ({verification.message}): nothing was purged, so the evidence is kept. "
            "Run manage.py audit_verify."
        )
        result.first_sequence = result.through_sequence = result.oldest = result.newest = None
        return result
    with transaction.atomic():
        lock_name("retention", "audit-trail")  # one purge at a time
        first = AuditEvent.objects.order_by("sequence").values("sequence", "at").first()
        if first is None or first["sequence"] > anchor["sequence"]:
            result.reason = "Another purge has just removed these events."
            return result
        result.first_sequence, result.oldest = first["sequence"], first["at"]
        result.deleted = _delete_through(anchor["sequence"], anchor["hash"])
        event = audit_record_many(
            [
                dict(
                    actor=None,
                    action=PURGED_ACTION,
                    object_type="auditevent",
                    object_id=f"{first['sequence']}-{anchor['sequence']}",
                    object_repr=f"Audit events #{first['sequence']} to #{anchor['sequence']}",
                    payload={
                        "deleted": result.deleted,
                        "first_sequence": first["sequence"],
                        "through_sequence": anchor["sequence"],
                        "oldest_removed": first["at"],
                        "newest_removed": anchor["at"],
                        "anchor_hash": anchor["hash"],
                        "cutoff": before,
                        "retention_days": days,
                        "checkpoint": checkpoint.as_dict(),
                    },
                )
            ]
        )[0]
        result.event_sequence = event.sequence
    return result
