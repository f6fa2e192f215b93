"""What each feature is missing now, kept in the shared cache, so the inventory judges every feature
without computing every checklist on every request.

The Readiness page and API filter and count on the checklist (``state=not_ready``, ``missing=monitor``,
the gaps per team and tier), which needs every visible feature's checklist; computing 5,000 of them
decides every live route and takes seconds. The page shows 25 rows, so only those are computed in full;
the rest come from here: per feature, the keys of the items it is missing.

An entry is current while the values resolve's decisions rely on are unchanged (``routing.cache``: the
epoch, which account changes renew, and the feature's stamp, which its edits, promotions, rollbacks,
incidents, evidence and versions renew, and catalog and gate changes for the features they govern: every
audited write drives them), until
the first moment its evidence would go stale (``Decision.valid_until``), and at most
``READINESS_CACHE_SECONDS`` (a bound for changes made behind the services' back). Stamps are read
before the database, and entries stored under them, so a write that commits during the computation
leaves its entry under a stamp that is already gone. Without a reachable shared cache everything is
computed (slow, never wrong). ``readiness_warm`` (beat, every ten minutes) keeps the whole registry's
entries filled, so a page rarely computes more than the features changed since.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from readiness.checklist import readiness_many
from registry.models import AIFeature
from registry.permissions import sees_everything
from routing import cache as routing_cache

KEY = "gatehouse:readiness:missing:{epoch}:{pk}"
HISTORY_STAMP_KEY = "gatehouse:readiness:history-stamp"  # renewed when snapshots are written
CHUNK = 1000  # features computed per batch: bounds the memory of a cold fill


def _lifetime(valid_until: datetime | None, now: datetime) -> float:
    seconds = settings.READINESS_CACHE_SECONDS * random.uniform(0.75, 1.0)  # a cold fill does not expire at once
    if valid_until is not None:
        seconds = min(seconds, (valid_until - now).total_seconds())
    return seconds


def _compute(ids: list[int], now: datetime) -> dict[int, tuple[tuple[str, ...], float]]:
    """pk -> (the missing items' keys, seconds the answer holds), in batches of ``CHUNK`` features."""
    computed = {}
    for start in range(0, len(ids), CHUNK):
        for readiness in readiness_many(AIFeature.objects.filter(pk__in=ids[start : start + CHUNK]), now=now):
            until = [moment for route in readiness.routes if (moment := route.decision.valid_until()) is not None]
            missing = tuple(str(key) for key in readiness.missing)  # plain strings: quick to unpickle
            computed[readiness.feature.pk] = (missing, _lifetime(min(until, default=None), now))
    return computed


def missing_items(features: list[tuple[int, str]], *, now: datetime | None = None) -> dict[int, tuple[str, ...]]:
    """For each ``(pk, slug)``: the keys of the checklist items the feature is missing now (empty: ready).

    Three round trips to the shared cache, plus the checklists of the features whose entry is missing or
    no longer current (about fifteen queries per thousand of them)."""
    now = now or timezone.now()
    epoch = routing_cache.current_epoch()
    stamps = routing_cache.feature_stamps(slug for _pk, slug in features) if epoch is not None else {}
    if epoch is None or not stamps:
        return {pk: missing for pk, (missing, _left) in _compute([pk for pk, _slug in features], now).items()}
    keys = {pk: KEY.format(epoch=epoch, pk=pk) for pk, _slug in features}
    try:
        found = routing_cache.get_many(list(keys.values()))
    except Exception:
        found = {}
    wall = time.time()
    answer, stale = {}, []
    for pk, slug in features:
        entry = found.get(keys[pk])
        if entry is not None and entry[0] == stamps[slug] and entry[2] > wall:
            answer[pk] = entry[1]
        else:
            stale.append(pk)
    if stale:
        slug_of = dict(features)
        computed = _compute(stale, now)
        entries = {
            keys[pk]: (stamps[slug_of[pk]], missing, wall + left)
            for pk, (missing, left) in computed.items()
            if left > 0
        }
        if entries:
            try:
                cache.set_many(entries, timeout=int(settings.READINESS_CACHE_SECONDS) + 1)
            except Exception:
                pass  # unreachable: computed again next time, never served stale
        answer.update({pk: missing for pk, (missing, _left) in computed.items()})
    return answer


def warm() -> dict:
    """Fill the entries of every feature that lacks a current one (beat, every ten minutes)."""
    features = list(AIFeature.objects.order_by("pk").values_list("pk", "slug"))
    started = time.monotonic()
    found = missing_items(features)
    return {
        "features": len(found),
        "ready": sum(not missing for missing in found.values()),
        "seconds": round(time.monotonic() - started, 2),
    }


def history_key(user, days: int) -> str | None:
    """Where the inventory's history chart for ``user`` is kept: it changes only when snapshots are
    written (``renew_history``), a day passes or who may see what changes (the epoch). None when the
    shared cache is unreachable."""
    try:
        found = routing_cache.stamps([routing_cache.EPOCH_KEY, HISTORY_STAMP_KEY])
    except Exception:
        return None
    viewer = "all" if sees_everything(user) else f"user-{user.pk}"
    return (
        f"gatehouse:readiness:history:{found[routing_cache.EPOCH_KEY]}:{found[HISTORY_STAMP_KEY]}:"
        f"{timezone.localdate(timezone=timezone.get_default_timezone()).isoformat()}:{days}:{viewer}"
    )


def renew_history() -> None:
    """Snapshots were written (once their transaction commits): history charts are computed again."""

    def renew():
        try:
            cache.set(HISTORY_STAMP_KEY, uuid.uuid4().hex, timeout=routing_cache.STAMP_SECONDS)
        except Exception:
            pass  # unreachable: nothing was served from it either

    transaction.on_commit(renew, robust=True)
