"""What each feature is missing now, kept in the shared cache, so the inventory judges every feature
without computing every checklist on every request.

The Readiness page and API filter and count on the checklist (``state=not_ready``, ``missing=monitor``,
the gaps per team and tier), which needs every visible feature's checklist; computing 5,000 of them
decides every live route and takes seconds. The page shows 25 rows, so only those are computed in full;
the rest come from here: per feature, the keys of the items it is missing.

An entry is current while nothing it was computed from changed: its feature's stamp (``routing.cache``),
which the feature's edits, promotions, rollbacks, incidents, evidence and versions renew, and catalog and
gate changes for the features they govern; the activity of the feature's two owners (read with the
features, so an account deactivated by any path shows at once); and readiness's own generation
(``GENERATION_KEY``), which only a change that may alter any feature's readiness without naming it
renews (``invalidate_on_audit``), with routing's epoch (renewed only by a change routing cannot
classify, or by the invalidations published after an outage of the shared cache). Account changes
(roles, teams, sessions, sign-ins) renew neither: they used to renew the epoch many times a day, and each
made every entry of the registry stale at once (5,000 checklists, seconds, for the next visitor). An entry also ends at the first moment its evidence would
go stale (``Decision.valid_until``), and after at most ``READINESS_CACHE_SECONDS`` (a bound for changes
made behind the services' back). Stamps are read before the database, and entries stored under them, so
a write that commits during the computation leaves its entry under a stamp that is already gone.
Without a reachable shared cache everything is computed (slow, never wrong). ``readiness_warm`` (beat, every ten minutes) keeps the whole registry's
entries filled, so a page rarely computes more than the features changed since.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from readiness.checklist import readiness_many
from registry.models import AIFeature
from registry.permissions import sees_everything
from routing import cache as routing_cache

KEY = "gatehouse:readiness:missing:{generation}:{pk}"
GENERATION_KEY = "gatehouse:readiness:generation"  # renewed by a change that may alter any feature's readiness
HISTORY_STAMP_KEY = "gatehouse:readiness:history-stamp"  # renewed when snapshots are written
CHUNK = 1000  # features computed per batch: bounds the memory of a cold fill


def _lifetime(valid_until: datetime | None, now: datetime) -> float:
    seconds = settings.READINESS_CACHE_SECONDS * random.uniform(0.75, 1.0)  # a cold fill does not expire at once
    if valid_until is not None:
        seconds = min(seconds, (valid_until - now).total_seconds())
    return seconds


def _owners_active(ids: list[int]) -> dict[int, tuple]:
    """pk -> whether its accountable and incident owners are active (what the checklist's owner items read)."""
    found = {}
    for start in range(0, len(ids), CHUNK * 5):
        found.update(
            (pk, (accountable, incident))
            for pk, accountable, incident in AIFeature.objects.filter(pk__in=ids[start : start + CHUNK * 5])
            .values_list("pk", "accountable_owner__is_active", "incident_owner__is_active")
            .order_by()
        )
    return found


def _compute(ids: list[int], now: datetime) -> dict[int, tuple[tuple[str, ...], float, tuple]]:
    """pk -> (the missing items' keys, seconds the answer holds, its owners' activity), in batches of
    ``CHUNK`` features."""
    computed = {}
    for start in range(0, len(ids), CHUNK):
        for readiness in readiness_many(AIFeature.objects.filter(pk__in=ids[start : start + CHUNK]), now=now):
            feature = readiness.feature
            until = [moment for route in readiness.routes if (moment := route.decision.valid_until()) is not None]
            missing = tuple(str(key) for key in readiness.missing)  # plain strings: quick to unpickle
            owners = (
                feature.accountable_owner.is_active,
                feature.incident_owner.is_active if feature.incident_owner_id else None,
            )
            computed[feature.pk] = (missing, _lifetime(min(until, default=None), now), owners)
    return computed


def current_generation() -> str | None:
    """Readiness's own generation (made when missing) and routing's epoch, which only a change routing
    cannot classify renews (and ``routing_warm --invalidate``, and the invalidations published after the
    shared cache was unreachable: ``routing.pending``); None when the shared cache is unreachable."""
    epoch = routing_cache.current_epoch()
    if epoch is None:
        return None
    try:
        found = routing_cache.get_many([GENERATION_KEY]).get(GENERATION_KEY)
        if found is None:
            fresh = uuid.uuid4().hex
            found = fresh if cache.add(GENERATION_KEY, fresh, timeout=None) else cache.get(GENERATION_KEY)
        return f"{epoch}:{found}"
    except Exception:
        return None


def missing_items(features, *, now: datetime | None = None) -> dict[int, tuple[str, ...]]:
    """For each ``(pk, slug)`` or ``(pk, slug, owners)``: the keys of the checklist items the feature is
    missing now (empty: ready). ``owners``, when the caller read it with the features: whether the
    accountable and incident owners are active (``accountable_owner__is_active``,
    ``incident_owner__is_active``); else one query reads it.

    Four round trips to the shared cache, plus the checklists of the features whose entry is missing or
    no longer current (about fifteen queries per thousand of them)."""
    return missing_items_until(features, now=now)[0]


def missing_items_until(features, *, now: datetime | None = None) -> tuple[dict[int, tuple[str, ...]], float | None]:
    """``missing_items``, and the wall-clock time (``time.time()``) at which the first of these answers stops
    being current by the clock (its evidence goes stale, or its entry's life ends): until then an aggregate
    of them changes only with what renews the entries' stamps. None when the answers are kept nowhere (the
    shared cache unreachable)."""
    now = now or timezone.now()
    features = [tuple(feature) for feature in features]
    generation = current_generation()
    stamps = routing_cache.feature_stamps(feature[1] for feature in features) if generation is not None else {}
    if generation is None or not stamps:
        return {pk: found[0] for pk, found in _compute([feature[0] for feature in features], now).items()}, None
    if any(len(feature) < 3 for feature in features):
        owners = _owners_active([feature[0] for feature in features])
        features = [(feature[0], feature[1], owners.get(feature[0])) for feature in features]
    keys = {pk: KEY.format(generation=generation, pk=pk) for pk, _slug, _owners in features}
    try:
        found = routing_cache.get_many(list(keys.values()))
    except Exception:
        found = {}
    wall = time.time()
    answer, stale = {}, []
    until = wall + settings.READINESS_CACHE_SECONDS
    for pk, slug, owners in features:
        entry = found.get(keys[pk])
        if (
            entry is not None
            and entry[0] == stamps[slug]
            and entry[2] > wall
            and len(entry) > 3
            and entry[3] == tuple(owners or ())
        ):
            answer[pk] = entry[1]
            until = min(until, entry[2])
        else:
            stale.append(pk)
    if stale:
        slug_of = {pk: slug for pk, slug, _owners in features}
        computed = _compute(stale, now)
        entries = {
            keys[pk]: (stamps[slug_of[pk]], missing, wall + left, owners)
            for pk, (missing, left, owners) in computed.items()
            if left > 0
        }
        if entries:
            try:
                cache.set_many(entries, timeout=int(settings.READINESS_CACHE_SECONDS) + 1)
            except Exception:
                pass  # unreachable: computed again next time, never served stale
        answer.update({pk: found[0] for pk, found in computed.items()})
        until = min([until, *(wall + left for _missing, left, _owners in computed.values())])
    return answer, until


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


TABLE_KEY = "gatehouse:readiness:table:{generation}:{routing}:{inactive}:{viewer}"


def table_key(viewer: str) -> str | None:
    """Where a table aggregated from every entry a viewer sees is kept (the gap tables, the ready count):
    under readiness's generation, routing's generation (renewed with any feature's stamp, the epoch and the
    access stamp: any entry renewed, a feature created, moved, restricted, a change of who sees what), and
    what the database says of the inactive accounts (a deactivated owner shows at once, whatever the path)
    and of the registry's size (a feature added or removed behind the services' back shows at once too).
    ``viewer`` says which features are counted (``readiness.selectors``). The caller keeps it no longer
    than the first of its entries would be current (``missing_items_until``). None when the shared cache
    is unreachable. Read before the database, as the entries' stamps are."""
    generation = current_generation()
    if generation is None:
        return None
    routing_generation = routing_cache.current_generation()
    if routing_generation is None:
        return None
    inactive = get_user_model().objects.filter(is_active=False).order_by("pk").values_list("pk", flat=True)
    registry = AIFeature.objects.order_by().aggregate(features=Count("pk"), newest=Max("pk"))
    digest = hashlib.sha256(
        f"{registry['features']}:{registry['newest']}:{','.join(map(str, inactive))}".encode()
    ).hexdigest()[:24]
    return TABLE_KEY.format(generation=generation, routing=routing_generation, inactive=digest, viewer=viewer)


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


# --- What invalidates ----------------------------------------------------------------------------------

# Audited actions that the routing epoch covers (so routing.cache does not renew a feature's stamp for
# them) but that cannot change what any feature is missing: who may see or do what, sign-ins, sessions,
# second factors, the catalog's imports (new versions and prompts, like version.created), the anchor.
# An owner's deactivation among them is seen through the owners' activity each entry carries.
IRRELEVANT_ACTIONS = frozenset(
    {
        "api_token.revoked",
        "audit.checkpoint",
        "identity.group_mapping_created",
        "identity.group_mapping_deleted",
        "mlflow.prompt_imported",
        "mlflow.version_imported",
        "mlflow_server.created",
        "mlflow_server.secret_rotated",
        "mlflow_server.updated",
        "person.break_glass_sign_in",
        "person.created",
        "person.deactivated",
        "person.deprovisioned",
        "person.provisioned",
        "person.reactivated",
        "person.sso_linked",
        "person.time_zone_set",
        "person.updated",
        "reviewer_grant.created",
        "reviewer_grant.expired",
        "reviewer_grant.revoked",
        "role.granted",
        "role.revoked",
        "scim_group.created",
        "scim_group.deleted",
        "scim_group.updated",
        "session.ended",
        "session.ended_all",
        "signoff.withdrawn",
        "team.created",
        "team.member_added",
        "team.member_removed",
        "team.updated",
        "two_factor.backup_code_used",
        "two_factor.backup_codes_generated",
        "two_factor.device_added",
        "two_factor.device_removed",
    }
)


def renew_generation() -> None:
    """Every entry is computed again (then, ahead of the next visitor, by a worker: ``readiness_warm``)."""
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        return  # unreachable: nothing is served from it meanwhile (missing_items computes everything)
    from core.queueing import enqueue
    from readiness.tasks import readiness_warm

    enqueue(readiness_warm, what="warming the readiness inventory")


def invalidate_on_audit(events) -> None:
    """The audit listener (``registry.extensions.audit_listeners``): what the routing cache's own listener
    does not renew already. An event routing renews its feature's stamp for (``feature_scoped``), or the
    stamps of the features a catalog or gate change governs, needs nothing more; one that cannot change
    any checklist nothing at all. Any other event naming a feature (a feature moved to another team, MLflow
    drift) renews that feature's stamp; the rest, readiness's generation (everything), once committed."""
    from routing.impact import CATALOG_ACTIONS, GATE_ACTIONS, features_affected

    slugs_of: set[int] = set()
    for event in events:
        if not routing_cache.relevant(event.action) or event.action in IRRELEVANT_ACTIONS:
            continue
        if routing_cache.feature_scoped(event):
            continue
        if event.feature_id is not None:
            slugs_of.add(event.feature_id)
            continue
        if event.action in CATALOG_ACTIONS | GATE_ACTIONS and features_affected(event) is not None:
            continue
        transaction.on_commit(renew_generation, robust=True)
        return
    if slugs_of:
        slugs = list(AIFeature.objects.filter(pk__in=slugs_of).values_list("slug", flat=True))
        transaction.on_commit(lambda: routing_cache.invalidate_features(slugs), robust=True)
