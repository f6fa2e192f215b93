"""Keeping resolve fast and right: a per-process cache that every routing-relevant write invalidates.

Each process keeps decisions (and machine-token identities) in memory, keyed by an **epoch**: a value
in the shared Django cache (Redis in production) that any change able to alter a decision replaces,
once its transaction commits. A request reads the epoch (one cache round trip, no database query)
and uses its process's entries only if they were made under that epoch, so the next resolve after a
promotion, rollback, suspension, freeze or policy change, in any process, recomputes.

What invalidates: every audited write (``registry.extensions.audit_listeners``) except the actions in
``IRRELEVANT_ACTIONS``, which cannot change a decision or who may ask for one. A new audited action
invalidates until someone lists it there: the safe default. Account changes made outside the services
(the admin: a user deactivated, groups changed) invalidate through model signals.

A decision one process computes is also put in the shared cache under the epoch, so the others take
it from there (one round trip) instead of computing it again: a fleet warms up once, not once per
process. A miss computes every route of the feature at once (its regions and environments cost the
same queries as one), and ``manage.py routing_warm`` fills the shared cache for the whole registry. Reading the epoch first, then the database, then storing under that epoch means a write that commits
while a decision is computed leaves it under an epoch that is already gone. Entries also expire after
``ROUTING_CACHE_SECONDS`` and when the evidence they relied on would go stale, and when the shared
cache cannot be reached nothing is served from memory.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)

EPOCH_KEY = "gatehouse:routing:epoch"
MAX_ENTRIES = 100_000

# Audited actions that change neither a decision nor who may ask for one.
IRRELEVANT_ACTIONS = frozenset({
    "api_token.created",
    "approval.requested", "approval.withdrawn", "approval.approved", "approval.rejected", "approval.expired",
    "signoff.approved", "signoff.rejected",
    "dataset.created", "prompt.created", "policy_pack.created", "vendor.created", "model.created",
    "version.created", "version.updated",
    "incident.commented", "incident.link_added", "incident.owner_changed",
    "freshness.sweep_completed", "freshness_finding.opened", "freshness_finding.changed",
    "freshness_finding.refreshed", "freshness_finding.closed", "freshness_finding.escalated",
    "decision.ledger_recorded",
    "webhook.created", "webhook.updated", "webhook.deleted", "webhook.secret_rotated", "webhook_delivery.redelivered",
    "webhook.pinged",
    "readiness.snapshot_taken", "readiness.history_seeded",
    "evidence_pack.requested", "evidence_pack.built", "evidence_pack.failed", "evidence_pack.downloaded",
    "drill.run",
})


def relevant(action: str) -> bool:
    return action not in IRRELEVANT_ACTIONS


class ProcessCache:
    """Entries made under one epoch; a new epoch empties it. Thread-safe enough: a dict per epoch."""

    def __init__(self):
        self._lock = threading.Lock()
        self._epoch = None
        self._entries: dict = {}

    def get(self, epoch, key, now: float):
        if epoch is None or epoch != self._epoch:
            return None
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now:
            return None
        return entry[1]

    def put(self, epoch, key, value, expires: float) -> None:
        if epoch is None:
            return
        with self._lock:
            if epoch != self._epoch:
                self._epoch, self._entries = epoch, {}
            elif len(self._entries) >= MAX_ENTRIES:
                self._entries = {}
            self._entries[key] = (expires, value)

    def clear(self) -> None:
        with self._lock:
            self._epoch, self._entries = None, {}


decisions = ProcessCache()
identities = ProcessCache()


def _shared_key(epoch, key) -> str:
    digest = hashlib.sha1("\0".join(key).encode()).hexdigest()
    return f"gatehouse:routing:d:{epoch}:{digest}"


def shared_get(epoch, key):
    """A decision another process computed under this epoch: ``(value, seconds left)`` or None."""
    if epoch is None:
        return None
    try:
        found = cache.get(_shared_key(epoch, key))
    except Exception:
        return None
    if found is None:
        return None
    value, expires_at = found
    left = expires_at - time.time()
    return (value, left) if left > 0 else None


def lifetime(valid_for: float | None = None) -> float:
    """How long to keep an entry: ``ROUTING_CACHE_SECONDS`` less up to a fifth, so entries made together
    (a warm-up, a bulk fill) do not all expire in the same second; never past ``valid_for``."""
    seconds = settings.ROUTING_CACHE_SECONDS * random.uniform(0.8, 1.0)
    return seconds if valid_for is None else min(seconds, valid_for)


def shared_put_many(epoch, entries: dict) -> None:
    """Share decisions with the other processes (one computation per epoch, not one per process), in one
    round trip. ``entries``: key -> (value, seconds to keep it)."""
    entries = {key: entry for key, entry in entries.items() if entry[1] > 0}
    if epoch is None or not entries:
        return
    wall = time.time()
    try:
        cache.set_many(
            {_shared_key(epoch, key): (value, wall + left) for key, (value, left) in entries.items()},
            timeout=max(1, int(max(left for _, left in entries.values())) + 1),
        )
    except Exception:
        log.warning("routing cache unreachable: decisions not shared", exc_info=True)


def current_epoch():
    """The shared epoch, or None when the shared cache is unreachable (then nothing is served from memory)."""
    try:
        epoch = cache.get(EPOCH_KEY)
        if epoch is None:
            epoch = uuid.uuid4().hex
            if not cache.add(EPOCH_KEY, epoch, timeout=None):
                epoch = cache.get(EPOCH_KEY)
        return epoch
    except Exception:  # the cache server is down: compute from the database, keep serving
        log.warning("routing cache unreachable: resolving from the database", exc_info=True)
        decisions.clear()
        identities.clear()
        return None


def invalidate() -> None:
    """Start a new epoch: every process recomputes on its next request."""
    decisions.clear()
    identities.clear()
    try:
        cache.set(EPOCH_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        log.error("routing cache unreachable: could not invalidate; entries expire within %ss",
                  settings.ROUTING_CACHE_SECONDS, exc_info=True)


def invalidate_on_commit() -> None:
    transaction.on_commit(invalidate, robust=True)


def invalidate_on_audit(events) -> None:
    """The audit listener: a relevant write invalidates once its transaction commits."""
    if any(relevant(event.action) for event in events):
        invalidate_on_commit()


def _account_changed(sender, update_fields=None, **kwargs) -> None:
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in changes no right
    invalidate_on_commit()


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
