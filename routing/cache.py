"""Keeping resolve fast and right: a per-process cache that every routing-relevant write invalidates.

Each process keeps decisions (and machine-token identities) in memory. A decision is current while two
values in the shared Django cache (Redis in production) are what they were when it was computed: the
**epoch**, which any change not classified below replaces, and its feature's **stamp**, which a change to
that feature replaces (a promotion, a rollback, an incident, new evidence, an edit of the feature:
``feature_scoped``), and so does a catalog or gate change for the features it governs (a vendor's
suspension: the features with a version pinning its models; a gate policy: the features of the tiers it is
assigned to; ``routing.impact.features_affected``). A worker then computes the invalidated features'
decisions again ahead of traffic (``routing.tasks.warm_features``). A request reads them in one round trip
(no database query; none at all while the process hears every change, ``routing.mirror``), so the next
resolve after a change, in any process, recomputes, and a promotion costs the fleet one feature's
decisions, not the registry's.

**Who may ask is kept apart from the answers.** Machine-token identities (a token's user, roles, teams and
the restricted features they may see) are kept under the epoch and the **access stamp**, which a change
to who may ask renews (``ACCESS_ACTIONS``: a token revoked, a role, a team's members, a person
deactivated or provisioned, a SCIM group; the admin's account changes through model signals): decisions
do not depend on who asks, so such a change costs the fleet its identities, not its decisions (a
provisioning run from the identity provider no longer sends every router down the cold path). A feature's
creation, or an edit moving it to another team or restricting it, renews its stamp and then the access
stamp (``changes_visibility``): a reader between the two writes meets the new decision with the old
identity, which sees less, never more.

What invalidates, once its transaction commits: every audited write (``registry.extensions.audit_listeners``)
except the actions in ``IRRELEVANT_ACTIONS``, which cannot change a decision or who may ask for one.
A new audited action renews the epoch until someone lists it there, in ``FEATURE_ACTIONS`` or in
``ACCESS_ACTIONS``: the safe default (a test lists every action the code records and fails on one left
out).

A decision one process computes is also put in the shared cache, so the others take it from there
(one round trip) instead of computing it again: a fleet warms up once, not once per process. A miss
computes every route of the feature at once (its regions and environments cost the same queries as
one), and ``manage.py routing_warm`` fills the shared cache for the whole registry. Reading the epoch
and stamp first, then the database, then storing under them means a write that commits while a
decision is computed leaves it under values that are already gone. When the shared cache cannot be
reached nothing is served from memory.

**Kept until something changes, not for a fixed time.** A decision lives as long as its epoch and its
feature's stamp, and never past the moment the evidence it relied on goes stale (then the next request
computes what stale evidence means). It has no shorter life: an earlier design kept every answer five
minutes and renewed it ahead of expiry, and still recomputed the whole registry once per life on the
request path, so throughput dipped to a third of its steady figure every few minutes after a warm-up
(``bench/resolve.py --soak``). A fixed life guarded against two things, both handled without it: an
invalidation lost while the shared cache was down is recorded and published when it is back
(``routing.pending``), and nothing changes routing facts behind the services' back (the admin is
read-only for them; after a change made in SQL, ``manage.py routing_warm --invalidate``). The outer
bound is the stamp itself: it lapses after ``STAMP_SECONDS`` (a day, less up to half, drawn for each
stamp, so the stamps of a warm-up do not lapse together), and a feature whose stamp lapsed is computed
again on its next request. Answers for unknown targets and token identities, cheap and made on
demand, keep the short ``ROUTING_CACHE_SECONDS`` life, and so do decisions in the shared cache: a
process keeps in its own memory what it took from there, and the shared cache need not hold every
epoch's decisions for a day.

**Slugs that name nothing leave nothing behind.** A feature's stamp is made when its decisions are
computed (or warmed), not when someone asks: a request reads the stamp and, when the feature has none,
the one stamp shared by every unknown target (``UNKNOWN_KEY``). An answer for an unknown feature or
region is kept in this process's memory only, under that shared stamp (a new feature renews the epoch,
a renamed one renews it too: ``invalidate_features``), and a stamp made for a slug that turned out to
name no feature is deleted again. Random slugs and regions cost the shared cache no key of their own.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
import uuid

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

from routing.mirror import StampMirror

log = logging.getLogger(__name__)

EPOCH_KEY = "gatehouse:routing:epoch"
# Who may ask: renewed by a change to accounts, roles, teams, tokens or a feature's visibility. Machine-token
# identities are kept under it (and under the epoch, which renews it too); decisions are not: who asks does
# not change an answer, only whether it may be given.
ACCESS_KEY = "gatehouse:routing:access"
FEATURE_KEY = "gatehouse:routing:feature:"
# The stamp of every target that names no feature (or no region): one key, whatever is asked.
UNKNOWN_KEY = "gatehouse:routing:unknown"
# Renewed with the epoch and with any feature's stamp: one value that changes whenever any decision may have
# (the routing snapshot is kept under it, ``routing.snapshot``).
GENERATION_KEY = "gatehouse:routing:generation"
# The Redis channel the change stream's processes listen on (``routing.stream``): what changed, once committed.
# Followed by the Redis database's number: channels are not per database, and two installations (or test
# processes) sharing one Redis on different databases must not hear each other's changes.
CHANGES_CHANNEL = "gatehouse:routing:changes"


def changes_channel(client) -> str:
    return f"{CHANGES_CHANNEL}:{client.connection_pool.connection_kwargs.get('db', 0)}"


# What a reader gets instead of a feature's stamp when the feature has none: this prefix and the unknown
# stamp. No feature's decision is ever stored under it (those are stored under the feature's own stamp).
NO_STAMP = "?"
# A feature's stamp lapses after a day without change, less up to half (drawn for each stamp, so stamps
# made together lapse apart); then a new one is made and its decisions are computed again.
STAMP_SECONDS = 24 * 3600
STAMP_SPREAD = 0.5
MAX_ENTRIES = 100_000

# Audited actions that change neither a decision nor who may ask for one.
IRRELEVANT_ACTIONS = frozenset(
    {
        "api_token.created",
        "approval.requested",
        "approval.withdrawn",
        "approval.approved",
        "approval.rejected",
        "approval.expired",
        "signoff.approved",
        "signoff.rejected",
        "dataset.created",
        "prompt.created",
        "policy_pack.created",
        "vendor.created",
        "model.created",
        "version.created",
        "version.updated",
        "incident.commented",
        "incident.link_added",
        "incident.owner_changed",
        # a serious incident's report and evidence: nothing resolve reads (its rollback is deployment.rolled_back)
        "incident.marked_serious",
        "incident.report_notes_changed",
        "incident.report_submitted",
        "incident.report_reminded",
        "incident.report_escalated",
        "incident.evidence_snapshot",
        "freshness.sweep_completed",
        "freshness_finding.opened",
        "freshness_finding.changed",
        "freshness_finding.refreshed",
        "freshness_finding.closed",
        "freshness_finding.escalated",
        "decision.ledger_recorded",
        "webhook.created",
        "webhook.updated",
        "webhook.deleted",
        "webhook.secret_rotated",
        "webhook_delivery.redelivered",
        "webhook.pinged",
        "readiness.snapshot_taken",
        "readiness.history_seeded",
        "evidence_pack.requested",
        "evidence_pack.built",
        "evidence_pack.failed",
        "evidence_pack.downloaded",
        "drill.run",
        # access reviews: a revocation is also recorded as role.revoked or team.member_removed, which count
        "access_review.started",
        "access_review.item_confirmed",
        "access_review.item_revoked",
        "access_review.escalated",
        "access_review.closed",
        "access_review.exported",
        # the EU AI Act's documents in progress, ISO/IEC 42001 and NIST AI RMF, post-market monitoring, retention
        "compliance.profile_proposed",
        "compliance.document_drafted",
        "compliance.document_submitted",
        "compliance.control_updated",
        "compliance.control_evidence_linked",
        "compliance.control_evidence_unlinked",
        "compliance.rmf_updated",
        "compliance.soa_exported",
        "monitoring_plan.created",
        "monitoring_plan.updated",
        "monitoring_plan.reviewed",
        "decisions.exported",
        "decisions.purged",
        "audit.purged",
        "audit.verification_started",
        "audit.verification_passed",
        "audit.verification_failed",
        "audit.checkpoint",  # the chain's head sent to webhooks
        # sign-ins, sessions and second factors: a session's rights are read on each request, a token's are
        # its user's roles and teams (ACCESS_ACTIONS)
        "session.ended",
        "session.ended_all",
        "person.break_glass_sign_in",
        "person.sso_linked",
        "person.time_zone_set",
        "two_factor.backup_code_used",
        "two_factor.backup_codes_generated",
        "two_factor.device_added",
        "two_factor.device_removed",
        # a weakening change asked for or refused changes nothing (an approved one is applied as feature.updated)
        "feature.change_requested",
        "feature.change_rejected",
        "feature.change_approved",
        "signoff.withdrawn",
        # the MLflow connector: imports are new versions and prompts (like version.created), its servers
        # and links are its own configuration
        "mlflow.version_imported",
        "mlflow.prompt_imported",
        "mlflow_server.created",
        "mlflow_server.updated",
        "mlflow_server.secret_rotated",
        "mlflow_link.created",
        "mlflow_link.deleted",
        "mlflow_mapping.set",
        "mlflow_mapping.deleted",
    }
)

# Actions that change who may ask for a decision, never a decision: they renew the access stamp (token
# identities are computed again), not the epoch (the fleet keeps every decision). Admin changes to accounts
# (model signals) do the same.
ACCESS_ACTIONS = frozenset(
    {
        "api_token.revoked",
        "role.granted",
        "role.revoked",
        "team.created",
        "team.updated",
        "team.member_added",
        "team.member_removed",
        "person.created",
        "person.updated",
        "person.provisioned",
        "person.deprovisioned",
        "person.deactivated",
        "person.reactivated",
        "scim_group.created",
        "scim_group.updated",
        "scim_group.deleted",
        "identity.group_mapping_created",
        "identity.group_mapping_deleted",
        "reviewer_grant.created",
        "reviewer_grant.revoked",
        "reviewer_grant.expired",
    }
)


# Relevant actions that can change the decisions of the event's feature only: they renew that feature's
# stamp instead of the epoch, so one promotion does not make the fleet recompute every route. Not here:
# anything that changes who may see a feature (accounts), nor the catalog and gate changes, which renew
# the stamps of the features they govern (``routing.impact.features_affected``).
FEATURE_ACTIONS = frozenset(
    {
        "deployment.promoted",
        "deployment.rolled_back",
        "deployment.withdrawn",
        "incident.opened",
        "incident.status_changed",
        "incident.rolled_back",
        "incident.escalated",
        "evaluation.recorded",
        "version.submitted",
        "version.retired",
        # a confirmed EU AI Act category and an approved document: what one feature's releases need
        "compliance.profile_confirmed",
        "compliance.document_approved",
        # alerts from Alertmanager on the feature, and MLflow drift of its version (warnings it may carry)
        "incident.alert_firing",
        "incident.alert_resolved",
        "mlflow.drift_opened",
        "mlflow.drift_closed",
    }
)
# A feature edit is the feature's own business too, unless it moves the feature to another team or changes
# whether it is restricted: that changes who may see it, and identities are kept per epoch.
VISIBILITY_FIELDS = frozenset({"team", "restricted"})


def relevant(action: str) -> bool:
    return action not in IRRELEVANT_ACTIONS


def changes_visibility(event) -> bool:
    """Whether an audited change is a feature's creation, or an edit moving it to another team or changing
    whether it is restricted: its feature's decisions and who may see them."""
    if event.feature_id is None:
        return False
    if event.action == "feature.created":
        return True
    changed = (event.payload or {}).get("changes") if event.action == "feature.updated" else None
    return isinstance(changed, dict) and bool(VISIBILITY_FIELDS & set(changed))


def feature_scoped(event) -> bool:
    """Whether an audited change can alter only its own feature's decisions (and readiness)."""
    if event.feature_id is None:
        return False
    if event.action in FEATURE_ACTIONS:
        return True
    if event.action != "feature.updated":
        return False
    changed = (event.payload or {}).get("changes")
    return isinstance(changed, dict) and not VISIBILITY_FIELDS & set(changed)


class ProcessCache:
    """Entries made under one epoch; a new epoch empties it. Thread-safe enough: a dict per epoch.

    An entry may also carry a ``stamp`` (a decision: its feature's stamp), and is then returned only
    to a reader who presents the same stamp."""

    def __init__(self):
        self._lock = threading.Lock()
        self._epoch = None
        self._entries: dict = {}

    def get(self, epoch, key, now: float, stamp=None):
        """The value if current for this epoch and stamp, else None."""
        if epoch is None or epoch != self._epoch:
            return None
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now or entry[1] != stamp:
            return None
        return entry[2]

    def put(self, epoch, key, value, expires: float, stamp=None) -> None:
        if epoch is None:
            return
        with self._lock:
            if epoch != self._epoch:
                self._epoch, self._entries = epoch, {}
            elif len(self._entries) >= MAX_ENTRIES:
                self._entries = {}
            self._entries[key] = (expires, stamp, value)

    def clear(self) -> None:
        with self._lock:
            self._epoch, self._entries = None, {}


decisions = ProcessCache()
identities = ProcessCache()


def _shared_key(epoch, key) -> str:
    digest = hashlib.sha1("\0".join(key).encode()).hexdigest()
    return f"gatehouse:routing:d:{epoch}:{digest}"


def shared_get(epoch, key, stamp):
    """A decision another process computed under this epoch and feature stamp: ``(value, seconds left)``,
    or None."""
    if epoch is None:
        return None
    shared_key = _shared_key(epoch, key)
    try:
        found = get_many([shared_key]).get(shared_key)
    except Exception:
        return None
    if found is None:
        return None
    value, expires_at, made_under = found[:3]
    left = expires_at - time.time()
    return (value, left) if left > 0 and made_under == stamp else None


def lifetime(valid_for: float | None = None, *, unknown: bool = False) -> float:
    """How long to keep an entry: a decision until its stamp lapses (the stamp and the epoch end it
    sooner when something changes), never past ``valid_for`` (when its evidence goes stale); an answer
    for an unknown target ``ROUTING_CACHE_SECONDS``."""
    seconds = settings.ROUTING_CACHE_SECONDS if unknown else STAMP_SECONDS
    return seconds if valid_for is None else min(valid_for, seconds)


def shared_put_many(epoch, entries: dict) -> None:
    """Share decisions with the other processes (one computation per epoch, not one per process), in one
    round trip, for ``ROUTING_CACHE_SECONDS``: a process keeps what it takes in its own memory (with the
    entry's own end). ``entries``: key -> (value, seconds to keep it, its feature's stamp). Answers for unknown
    targets are not shared (random slugs and regions must not grow the shared cache): each process keeps
    its own."""
    entries = {key: entry for key, entry in entries.items() if entry[1] > 0 and not is_unknown(entry[0])}
    if epoch is None or not entries:
        return
    wall = time.time()
    try:
        cache.set_many(
            {_shared_key(epoch, key): (value, wall + left, stamp) for key, (value, left, stamp) in entries.items()},
            # Shared briefly: a process keeps what it took in its own memory, and the shared cache must not
            # hold every epoch's decisions for a day.
            timeout=max(1, int(min(settings.ROUTING_CACHE_SECONDS, max(entry[1] for entry in entries.values()))) + 1),
        )
    except Exception:
        log.warning("routing cache unreachable: decisions not shared", exc_info=True)


# Set when this process saw the shared cache unreachable (a read failed, or an invalidation could not be
# written): its first successful read afterwards publishes what was recorded meanwhile (routing.pending).
_outage_seen = False


def is_unknown(value) -> bool:
    from routing.engine import UnknownTarget

    return isinstance(value, UnknownTarget)


def _unreachable():
    global _outage_seen
    _outage_seen = True
    log.warning("routing cache unreachable: resolving from the database", exc_info=True)
    mirror.clear()
    decisions.clear()
    identities.clear()


def _feature_key(slug: str) -> str:
    return FEATURE_KEY + slug


# The epoch and stamps this process read, kept while it hears every announcement (``routing.mirror``).
mirror = StampMirror(feature_prefix=FEATURE_KEY, unknown_key=UNKNOWN_KEY, access_key=ACCESS_KEY)


def _read_stamps(keys: list[str]) -> dict:
    """``get_many`` for the epoch and stamps: from this process's mirror where it holds them (no round
    trip), the rest from the shared cache (then kept in the mirror)."""
    backend = caches["default"]
    if not (settings.ROUTING_STAMP_MIRROR and isinstance(backend, RedisCache)) or _outage_seen:
        return get_many(keys)
    client, _ = _redis(backend)
    if not mirror.following(backend._servers[0], changes_channel(client)):
        return get_many(keys)
    seq, found = mirror.get(keys)
    missing = [key for key in keys if key not in found]
    if missing:
        fetched = get_many(missing)
        mirror.keep(fetched, seq)
        found.update(fetched)
    return found


def _redis(backend: RedisCache):
    """One Redis client per cache backend instance (Django's backends are per thread), on the primary's
    pool. Django's RedisCache builds a new client object for every call, and building one costs more
    than the round trip itself: on the hot path (two reads per resolve) it was a fifth of the request."""
    found = backend.__dict__.get("_routing_client")
    if found is None:
        inner = backend._cache
        found = backend.__dict__["_routing_client"] = (
            inner._client(connection_pool=inner._get_connection_pool(write=True)),
            inner._serializer,
        )
    return found


def get_many(keys: list[str]) -> dict:
    """``cache.get_many``, without a new client object per call when the cache is Redis. The first
    successful read after this process saw the cache unreachable publishes, before anything is taken
    from memory again, the invalidations recorded meanwhile (``routing.pending``)."""
    global _outage_seen
    found = _get_many(keys)
    if _outage_seen:
        _outage_seen = False
        from routing import pending

        if pending.publish():
            decisions.clear()
            identities.clear()
            found = _get_many(keys)
    return found


def _get_many(keys: list[str]) -> dict:
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return backend.get_many(keys)
    client, serializer = _redis(backend)
    values = client.mget([backend.make_and_validate_key(key) for key in keys])
    return {key: serializer.loads(value) for key, value in zip(keys, values) if value is not None}


def stamps(keys: list[str], found: dict | None = None) -> dict[str, str]:
    """The values of ``keys``, each made (a new random one) where missing: an evicted or lapsed stamp
    comes back as a new value, so entries made under the old one are never taken for current.
    ``found``: the values already read, if any."""
    found = get_many(keys) if found is None else found
    for key in keys:
        if found.get(key) is None:
            fresh = uuid.uuid4().hex
            timeout = None if key in (EPOCH_KEY, UNKNOWN_KEY, GENERATION_KEY, ACCESS_KEY) else stamp_seconds()
            found[key] = fresh if cache.add(key, fresh, timeout=timeout) else cache.get(key)
    return found


def stamp_seconds() -> int:
    """A new stamp's life: ``STAMP_SECONDS`` less up to ``STAMP_SPREAD`` of it, drawn for each stamp."""
    return int(STAMP_SECONDS * random.uniform(1 - STAMP_SPREAD, 1.0))


def current_generation():
    """A value that changes whenever any decision may have (a new epoch, any feature's new stamp); None when
    the shared cache is unreachable."""
    try:
        return stamps([GENERATION_KEY])[GENERATION_KEY]
    except Exception:
        _unreachable()
        return None


def current_epoch():
    """The shared epoch, or None when the shared cache is unreachable (then nothing is served from memory)."""
    try:
        return stamps([EPOCH_KEY], _read_stamps([EPOCH_KEY]))[EPOCH_KEY]
    except Exception:  # the cache server is down: compute from the database, keep serving
        _unreachable()
        return None


def current_access():
    """The key machine-token identities are kept under (the epoch and the access stamp), or None when the
    shared cache is unreachable."""
    try:
        found = stamps([EPOCH_KEY, ACCESS_KEY], _read_stamps([EPOCH_KEY, ACCESS_KEY]))
    except Exception:
        _unreachable()
        return None
    return found[EPOCH_KEY] + ":" + found[ACCESS_KEY]


def current_stamps(feature_slug: str) -> tuple[str | None, str | None]:
    """The shared epoch and this feature's stamp, in one round trip; (None, None) when the shared cache
    is unreachable. A decision is current while both are what they were when it was computed.

    A slug without a stamp (no such feature, or one not computed for a day) gets ``NO_STAMP`` and the
    stamp shared by unknown targets: nothing is made for it here (``feature_stamp`` makes one when its
    decisions are computed)."""
    return current_route_stamps(feature_slug)[:2]


def current_route_stamps(feature_slug: str) -> tuple[str | None, str | None, str | None]:
    """``current_stamps`` and ``current_access`` in the same round trip: (epoch, feature stamp, access)."""
    feature_key = _feature_key(feature_slug)
    try:
        found = _read_stamps([EPOCH_KEY, feature_key, UNKNOWN_KEY, ACCESS_KEY])
        found = stamps([EPOCH_KEY, ACCESS_KEY] + ([] if found.get(feature_key) else [UNKNOWN_KEY]), found)
    except Exception:
        _unreachable()
        return None, None, None
    stamp = found[feature_key] if found.get(feature_key) is not None else NO_STAMP + found[UNKNOWN_KEY]
    return found[EPOCH_KEY], stamp, found[EPOCH_KEY] + ":" + found[ACCESS_KEY]


def feature_stamp(feature_slug: str, stamp: str | None) -> str | None:
    """The stamp to compute this feature's decisions under: ``stamp`` as read, or when it had none, a new
    one made now (before the database is read, so a change committed meanwhile replaces it)."""
    if stamp is None or not stamp.startswith(NO_STAMP):
        return stamp
    try:
        return stamps([_feature_key(feature_slug)])[_feature_key(feature_slug)]
    except Exception:
        _unreachable()
        return None


def forget_stamp(feature_slug: str) -> None:
    """The slug named no feature: drop the stamp made to compute it (dropping a stamp only invalidates)."""
    try:
        cache.delete(_feature_key(feature_slug))
    except Exception:
        log.warning("routing cache unreachable: stamp of %r not dropped", feature_slug, exc_info=True)


def feature_stamps(feature_slugs) -> dict[str, str]:
    """Many features' stamps (bulk warming), ``{}`` when the shared cache is unreachable."""
    slugs = list(feature_slugs)
    try:
        found = stamps([_feature_key(slug) for slug in slugs])
    except Exception:
        _unreachable()
        return {}
    return {slug: found[_feature_key(slug)] for slug in slugs}


def renew_epoch() -> bool:
    """A new epoch in the shared cache; False when it cannot be reached."""
    try:
        cache.set_many(
            {EPOCH_KEY: uuid.uuid4().hex, GENERATION_KEY: uuid.uuid4().hex, ACCESS_KEY: uuid.uuid4().hex},
            timeout=None,
        )
    except Exception:
        return False
    announce(None)
    return True


def announce(feature_slugs: list[str] | None, *, access: bool = False) -> None:
    """Tell the other processes what changed (these features, who may ask when ``access``, or None: anything
    may have), after the new stamps are written: their stamp mirrors and the change stream's processes. On
    Redis, one PUBLISH; on any other shared cache the stream watches the routing generation instead. A lost
    announcement delays subscribers until their next snapshot poll."""
    # This process's next request reads the new values, whatever the channel's delay.
    mirror.forget(feature_slugs, access=access)
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return
    try:
        client, _ = _redis(backend)
        message = {"features": feature_slugs, "at": time.time(), **({"access": True} if access else {})}
        client.publish(changes_channel(client), json.dumps(message))
    except Exception:
        log.warning("routing cache unreachable: change not announced to the stream", exc_info=True)


def _not_published(what: str) -> None:
    """An invalidation the shared cache did not take: recorded, and published when it is back."""
    global _outage_seen
    from routing import pending

    _outage_seen = True
    log.error(
        "routing cache unreachable: could not invalidate %s; recorded, to be published when it is back",
        what,
        exc_info=True,
    )
    pending.remember(what)


def invalidate() -> None:
    """Start a new epoch: every process recomputes every decision (and identity) on its next request."""
    decisions.clear()
    identities.clear()
    if not renew_epoch():
        _not_published("the epoch")


def invalidate_features(feature_slugs, *, access: bool = False) -> None:
    """New stamps for these features: their decisions are recomputed on the next request, in every
    process; the rest of the registry's stay. With ``access`` (a feature's creation, or its visibility
    changed) the access stamp too, written after the features' stamps: a reader between the two writes
    meets the new decision with the old identity, which sees less, never more."""
    feature_slugs = list(feature_slugs)
    stamps = {_feature_key(slug): uuid.uuid4().hex for slug in feature_slugs}
    if access:
        identities.clear()
    try:
        cache.set_many(stamps, timeout=stamp_seconds())
        # A renamed feature's new slug was unknown a moment ago: answers kept for unknown targets go too.
        shared = {UNKNOWN_KEY: uuid.uuid4().hex, GENERATION_KEY: uuid.uuid4().hex}
        cache.set_many({**shared, **({ACCESS_KEY: uuid.uuid4().hex} if access else {})}, timeout=None)
    except Exception:
        _not_published("features " + ", ".join(feature_slugs))
        return
    announce(feature_slugs, access=access)


def invalidate_access() -> None:
    """A new access stamp: every process checks machine tokens (and who may see what) again on their next
    request; decisions stay."""
    identities.clear()
    try:
        cache.set_many({ACCESS_KEY: uuid.uuid4().hex, GENERATION_KEY: uuid.uuid4().hex}, timeout=None)
    except Exception:
        _not_published("who may ask")
        return
    announce([], access=True)


def invalidate_on_commit() -> None:
    transaction.on_commit(invalidate, robust=True)


def invalidate_access_on_commit() -> None:
    transaction.on_commit(invalidate_access, robust=True)


def invalidate_on_audit(events) -> None:
    """The audit listener: a relevant write invalidates once its transaction commits. Only the features
    it can affect when every relevant event names them (``feature_scoped``: its own feature; a catalog or
    gate change: the features it governs, ``routing.impact.features_affected``); everything otherwise. The
    decisions of the features invalidated are then computed again by a worker, ahead of traffic."""
    changed = [event for event in events if relevant(event.action)]
    if not changed:
        return
    from routing.impact import features_affected

    feature_ids, access = set(), False
    for event in changed:
        if event.action in ACCESS_ACTIONS:
            access = True
            continue
        if feature_scoped(event):
            feature_ids.add(event.feature_id)
            continue
        if changes_visibility(event):
            feature_ids.add(event.feature_id)
            access = True
            continue
        affected = features_affected(event)
        if affected is None:
            invalidate_on_commit()
            return
        feature_ids |= affected
    if not feature_ids:
        if access:
            invalidate_access_on_commit()
        return  # only who may ask, or a catalog or gate change that governs no feature
    from registry.models import AIFeature

    slugs = list(AIFeature.objects.filter(pk__in=feature_ids).values_list("slug", flat=True))
    transaction.on_commit(lambda: invalidate_features(slugs, access=access), robust=True)
    transaction.on_commit(lambda: warm_later(slugs), robust=True)


def warm_later(slugs: list[str]) -> None:
    """Ask a worker to compute these features' decisions into the shared cache (``routing.tasks``): routers
    meet the cold path only until it has. Never waits on the broker (``core.queueing``): when it cannot
    take it, the next requests compute them, as before."""
    from core.queueing import enqueue
    from routing.tasks import warm_features

    enqueue(warm_features, args=(slugs,), what=f"warming {len(slugs)} feature(s)' resolve decisions")


def _account_changed(sender, update_fields=None, **kwargs) -> None:
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in changes no right
    invalidate_access_on_commit()


def connect_account_receivers() -> None:
    """Admin changes to accounts are not audited by the services: a user deactivated or moved
    between groups must still lose (or gain) access on the next request. (A new token changes no
    answer; revoking one is audited.)"""
    from django.contrib.auth import get_user_model
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from registry.models import AIFeatureGroupObjectPermission, AIFeatureUserObjectPermission, ApiToken

    user_model = get_user_model()
    for model in (user_model, AIFeatureUserObjectPermission, AIFeatureGroupObjectPermission):
        post_save.connect(_account_changed, sender=model, dispatch_uid=f"routing-{model.__name__}-saved")
    for model in (user_model, ApiToken, AIFeatureUserObjectPermission, AIFeatureGroupObjectPermission):
        post_delete.connect(_account_changed, sender=model, dispatch_uid=f"routing-{model.__name__}-deleted")
    m2m_changed.connect(_account_changed, sender=user_model.groups.through, dispatch_uid="routing-user-groups")
