"""Invalidations that could not be published are not lost.

``routing.cache`` invalidates by writing new values to the shared cache once a change commits. When
the shared cache is unreachable that write fails; every process then stops serving from memory while
it cannot read the cache either. But when the cache comes back, processes still holding entries made
under the old epoch would serve them again (a revoked token answered from a cached identity, a
rolled-back version from a cached decision), because nothing told the cache about the change.

So a failed invalidation is written to the database (``UnpublishedInvalidation``), and published (a new
epoch: every process recomputes everything) as soon as the cache can take it:

- by the process that failed, or any process that saw the cache unreachable, on its first successful
  read of the cache afterwards, before it serves anything from memory (``routing.cache`` calls
  ``publish`` then);
- by beat every minute (``routing.tasks.publish_pending_invalidations``), for processes that saw
  nothing of the outage.

Publishing renews the whole epoch even if only some features changed: an outage is rare, and one
recomputation of the fleet's decisions is the safe price.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError

log = logging.getLogger(__name__)


def remember(what: str) -> None:
    """Record an invalidation the shared cache did not take."""
    from routing.models import UnpublishedInvalidation

    try:
        UnpublishedInvalidation.objects.create(what=what[:200])
    except DatabaseError:
        log.error("could not record an unpublished invalidation of %s", what, exc_info=True)


def publish() -> int:
    """Publish every recorded invalidation as a new epoch. Returns how many were published (0 when none
    were waiting, or the cache is still unreachable: they stay recorded)."""
    from routing import cache
    from routing.models import UnpublishedInvalidation

    try:
        waiting = list(UnpublishedInvalidation.objects.values_list("pk", flat=True))
    except DatabaseError:
        log.error("could not read unpublished invalidations", exc_info=True)
        return 0
    if not waiting:
        return 0
    if not cache.renew_epoch():
        return 0
    UnpublishedInvalidation.objects.filter(pk__in=waiting).delete()
    log.warning("published %d invalidation(s) recorded while the shared cache was unreachable", len(waiting))
    return len(waiting)
