"""Purging the decision ledger of what is older than its retention (``GATEHOUSE_DECISION_RETENTION_DAYS``).

A record goes only when both the decision it records and its recording are older than the cutoff, so a
late backfill is kept its full retention too. Deleted in chunks, each in its own transaction with its
audit event (``decisions.purged``: how many, the oldest and newest decision removed, the cutoff), so a
large backlog never holds one long transaction and an interrupted purge has recorded what it did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from core.locks import lock_name
from core.retention import cutoff
from registry.services import audit_record_many
from routing.models import DecisionRecord

SETTING = "GATEHOUSE_DECISION_RETENTION_DAYS"
CHUNK = 5000


@dataclass
class LedgerPurge:
    retention_days: int
    cutoff: datetime
    deleted: int = 0
    oldest: datetime | None = None
    newest: datetime | None = None
    events: list[int] = field(default_factory=list)  # audit event sequences, one per chunk
    dry_run: bool = False


def _expired(before: datetime):
    return DecisionRecord.objects.filter(decided_at__lt=before, recorded_at__lt=before)


def ledger_purge(*, now: datetime | None = None, dry_run: bool = False, chunk: int = CHUNK) -> LedgerPurge:
    """Delete the ledger records older than the retention. ``dry_run``: count them, delete nothing, audit
    nothing. ``now``: the moment the retention counts back from (tests travel in time with it)."""
    now = now or timezone.now()
    days, before = cutoff(SETTING, now)
    result = LedgerPurge(retention_days=days, cutoff=before, dry_run=dry_run)
    if dry_run:
        summary = _expired(before).aggregate(count=Count("pk"), oldest=Min("decided_at"), newest=Max("decided_at"))
        result.deleted, result.oldest, result.newest = summary["count"], summary["oldest"], summary["newest"]
        return result
    while True:
        with transaction.atomic():
            lock_name("retention", "decision-ledger")  # one purge at a time
            ids = list(_expired(before).order_by("decided_at", "pk").values_list("pk", flat=True)[:chunk])
            if not ids:
                break
            batch = DecisionRecord.objects.filter(pk__in=ids)
            summary = batch.aggregate(
                oldest=Min("decided_at"), newest=Max("decided_at"), features=Count("feature", distinct=True)
            )
            deleted, _ = batch.delete()
            event = audit_record_many(
                [
                    dict(
                        actor=None,
                        action="decisions.purged",
                        object_type="decisionrecord",
                        object_id="retention",
                        object_repr=f"{deleted} decision records",
                        payload={
                            "deleted": deleted,
                            "features": summary["features"],
                            "oldest_removed": summary["oldest"],
                            "newest_removed": summary["newest"],
                            "cutoff": before,
                            "retention_days": days,
                        },
                    )
                ]
            )[0]
        result.deleted += deleted
        result.oldest = min(filter(None, (result.oldest, summary["oldest"])), default=None)
        result.newest = max(filter(None, (result.newest, summary["newest"])), default=None)
        result.events.append(event.sequence)
        if len(ids) < chunk:
            break
    return result
