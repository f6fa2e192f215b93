"""Celery tasks of the readiness app: thin wrappers over services."""

from celery import shared_task

from core.audit_context import audit_context
from readiness.services import readiness_snapshot_take


# Time limits under the broker's visibility timeout (10 min): see freshness/tasks.py.
@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=240, time_limit=300)
def readiness_snapshot() -> dict:
    """Scheduled by beat (daily by default; edit it in the admin under Periodic tasks). Safe to rerun:
    the day's snapshot is replaced, never doubled."""
    with audit_context(source="task"):
        outcome = readiness_snapshot_take()
    return {"day": outcome.day.isoformat(), "features": outcome.features, "ready": outcome.ready}


@shared_task(soft_time_limit=420, time_limit=480)
def readiness_warm() -> dict:
    """Scheduled by beat (every ten minutes): compute the missing-item entries of the features whose
    entry lapsed or was invalidated, so the Readiness page rarely computes them. Reads only: nothing
    to audit; safe to run at any time."""
    from readiness.current import warm

    return warm()
