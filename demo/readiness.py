"""The demo's readiness history: today's snapshot, taken for real, and four weeks before it in which some
items that are in place today were still missing (monitors added, rollback paths written, fallbacks
configured), so the charts show readiness improving over time."""

from __future__ import annotations

import zlib
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from readiness.choices import LIVE_ITEMS
from readiness.current import renew_history
from readiness.models import ReadinessSnapshot
from readiness.services import readiness_snapshot_take
from registry.services.audit import audit_record_many

HISTORY_DAYS = 28
FIXABLE = ("monitor", "rollback_path", "slos", "fallback", "evidence", "incident_owner")


def _fixed_days_ago(slug: str, item: str) -> int:
    """How many days ago an item in place today was put in place (0: it always was). Deterministic."""
    value = zlib.crc32(f"{slug}:{item}".encode())
    return 0 if value % 3 else 3 + value % (HISTORY_DAYS - 4)


def seed_readiness(*, created) -> None:
    if ReadinessSnapshot.objects.exists():
        return  # history is there already: leave it as it is
    outcome = readiness_snapshot_take()
    created["readiness snapshots"] += outcome.features
    today = list(ReadinessSnapshot.objects.filter(day=outcome.day).select_related("feature"))
    now = timezone.now()
    rows = []
    for snapshot in today:
        for back in range(1, HISTORY_DAYS):
            items = dict(snapshot.items)
            for key, ok in snapshot.items.items():
                if ok and key in FIXABLE and back >= _fixed_days_ago(snapshot.feature.slug, key) > 0:
                    items[key] = False
            if not snapshot.live:  # not live today: the live-only items were missing before too
                items.update({key: False for key in LIVE_ITEMS if key in items})
            ok_count = sum(items.values())
            rows.append(ReadinessSnapshot(
                feature=snapshot.feature, day=outcome.day - timedelta(days=back), items=items, ok_count=ok_count,
                total=len(items), score=round(ok_count / len(items), 4), ready=ok_count == len(items),
                live=snapshot.live, sentence="", taken_at=now - timedelta(days=back),
            ))
    with transaction.atomic():
        ReadinessSnapshot.objects.bulk_create(rows, batch_size=500)
        audit_record_many([{
            "actor": None, "action": "readiness.history_seeded", "object_type": "readinesssnapshot",
            "object_id": outcome.day.isoformat(), "object_repr": "Demo readiness history",
            "payload": {"days": HISTORY_DAYS - 1, "snapshots": len(rows)},
        }])
        renew_history()
    created["readiness snapshots"] += len(rows)
