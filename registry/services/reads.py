"""Reads of restricted features and their evidence, recorded: who looked at what, and when.

Views call ``read_record`` where a restricted feature, a version of one, or its evidence is shown (its
page, its API detail, its evaluations). Unrestricted features are everyone's to read and are not
recorded. A person reloading a page, or its htmx panels, makes one record per ``READ_RECORD_DEDUP_SECONDS``
for the same thing, not one per request (the shared cache remembers; when it is down, every read is
recorded). Recording never stands in the way of the read: a failure is logged loudly instead.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.utils import timezone

from core.audit_context import current_audit_context
from registry.models import ReadRecord

log = logging.getLogger(__name__)


def _key(user, feature, what: str, object_id: str) -> str:
    return f"gatehouse:read:{user.pk}:{feature.pk}:{what}:{object_id}"[:200]


def _first_in_window(user, feature, what: str, object_id: str) -> bool:
    try:
        return bool(cache.add(_key(user, feature, what, object_id), 1, timeout=settings.READ_RECORD_DEDUP_SECONDS))
    except Exception:  # the shared cache is down: record every read rather than none
        return True


def _new(user, feature, what: str, object_id: str) -> ReadRecord:
    context = current_audit_context()
    return ReadRecord(
        at=timezone.now(),
        user_id=user.pk,
        username=user.get_username(),
        feature_id=feature.pk,
        what=what,
        object_id=object_id,
        source=context.source,
        request_id=context.request_id,
    )


def read_record(*, user, feature, what: str, object_id: str | int = "") -> ReadRecord | None:
    """Record that ``user`` read ``what`` of ``feature`` (only for restricted features)."""
    if not feature.restricted or not getattr(user, "is_authenticated", False):
        return None
    object_id = str(object_id)[:64]
    if not _first_in_window(user, feature, what, object_id):
        return None
    try:
        record = _new(user, feature, what, object_id)
        record.save(force_insert=True)
        return record
    except DatabaseError:
        log.error(
            "could not record that %s read %s of feature %s", user.get_username(), what, feature.pk, exc_info=True
        )
        return None


def read_record_many(*, user, features, what: str) -> None:
    """One record per restricted feature among ``features`` (e.g. the evidence on one API page): one cache
    round trip and one insert, however many features the page shows."""
    if not getattr(user, "is_authenticated", False):
        return
    restricted = {feature.pk: feature for feature in features if feature.restricted}
    if not restricted:
        return
    keys = {_key(user, feature, what, ""): feature for feature in restricted.values()}
    try:
        seen = cache.get_many(list(keys))
        cache.set_many({key: 1 for key in keys if key not in seen}, timeout=settings.READ_RECORD_DEDUP_SECONDS)
    except Exception:  # the shared cache is down: record every read rather than none
        seen = {}
    fresh = [_new(user, feature, what, "") for key, feature in keys.items() if key not in seen]
    try:
        ReadRecord.objects.bulk_create(fresh)
    except DatabaseError:
        log.error(
            "could not record that %s read %s of %d features", user.get_username(), what, len(fresh), exc_info=True
        )
