"""Writes of the readiness app: the daily snapshot of every feature's checklist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from readiness.checklist import readiness_many
from readiness.current import renew_history
from readiness.models import ReadinessSnapshot
from readiness.permissions import can_take_snapshot
from registry.choices import FeatureStatus
from registry.models import AIFeature
from registry.services.audit import audit_record_many

SNAPSHOT_FIELDS = ["items", "ok_count", "total", "score", "ready", "live", "sentence", "taken_at"]


@dataclass(frozen=True)
class SnapshotOutcome:
    day: date
    features: int
    created: int
    replaced: int
    ready: int


def readiness_snapshot_take(*, actor=None, day: date | None = None, now: datetime | None = None) -> SnapshotOutcome:
    """Record today's readiness of every feature that is not retired: one row per feature and day.

    Idempotent per day: taking it again (a retried task, a second beat, the command) replaces the
    day's rows with what holds now, never adds a second row. ``actor`` None is the scheduled task;
    a person must be a governance admin. One audit event per run.
    """
    if actor is not None and not can_take_snapshot(actor):
        raise PermissionDenied("Only governance admins take readiness snapshots on demand.")
    now = now or timezone.now()
    day = day or timezone.localdate(now, timezone=timezone.get_default_timezone())
    rows = readiness_many(AIFeature.objects.exclude(status=FeatureStatus.RETIRED).order_by("pk"), now=now)
    snapshots = [
        ReadinessSnapshot(
            feature=row.feature,
            day=day,
            items=row.as_items_map(),
            ok_count=row.ok_count,
            total=row.total,
            score=round(row.score, 4),
            ready=row.ready,
            live=row.live,
            sentence=row.sentence,
            taken_at=now,
        )
        for row in rows
    ]
    with transaction.atomic():
        existing = set(ReadinessSnapshot.objects.filter(day=day).values_list("feature_id", flat=True))
        ReadinessSnapshot.objects.bulk_create(
            snapshots,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["feature", "day"],
            update_fields=SNAPSHOT_FIELDS,
        )
        replaced = sum(snapshot.feature_id in existing for snapshot in snapshots)
        outcome = SnapshotOutcome(
            day=day,
            features=len(snapshots),
            created=len(snapshots) - replaced,
            replaced=replaced,
            ready=sum(snapshot.ready for snapshot in snapshots),
        )
        audit_record_many(
            [
                {
                    "actor": actor,
                    "action": "readiness.snapshot_taken",
                    "object_type": "readinesssnapshot",
                    "object_id": day.isoformat(),
                    "object_repr": f"Readiness on {day.isoformat()}",
                    "payload": {
                        "day": day.isoformat(),
                        "features": outcome.features,
                        "created": outcome.created,
                        "replaced": outcome.replaced,
                        "ready": outcome.ready,
                    },
                }
            ]
        )
        renew_history()
    return outcome
